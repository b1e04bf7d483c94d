"""Checks of the running local infrastructure (after `make infra-up`).

Run only with ECOMOPS_INFRA_TESTS=1, which CI sets once Kafka and PostgreSQL
are up; they talk to the real servers, whatever the env (see env.sh) names.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("ECOMOPS_INFRA_TESTS") != "1", reason="set ECOMOPS_INFRA_TESTS=1 after `make infra-up`"
)

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "scripts" / "infra"


def _run(*cmd: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def infra_env() -> dict[str, str]:
    """The connection settings services would get from env.sh."""
    out = _run("bash", "-c", f'eval "$({INFRA}/env.sh)"; env -0').stdout
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


@pytest.fixture(scope="module")
def psql() -> str:
    # Debian keeps version-specific clients under /usr/lib/postgresql/N/bin.
    versioned = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=lambda p: int(Path(p).parts[4]))
    exe = versioned[-1] if versioned else shutil.which("psql")
    assert exe, "psql not found (scripts/infra/postgres.sh installs it)"
    return exe


def _connect(psql: str, url: str, database: str) -> subprocess.CompletedProcess:
    parts = urlsplit(url)
    env = {**os.environ, "PGPASSWORD": parts.password or "", "PGCONNECT_TIMEOUT": "5"}
    return _run(
        psql, "-X", "-At", "-h", parts.hostname or "", "-p", str(parts.port or 5432),
        "-U", parts.username or "", "-d", database, "-c", "select current_user",
        env=env, timeout=30,
    )


def test_kafka_status() -> None:
    result = _run(str(INFRA / "kafka.sh"), "status")
    assert result.returncode == 0, result.stderr


def test_postgres_status() -> None:
    result = _run(str(INFRA / "postgres.sh"), "status")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("variable", "role"), [("ORDER_DATABASE_URL", "order_service_app"),
                                                 ("ORDER_MIGRATION_DATABASE_URL", "order_service")])
def test_service_roles_connect_to_their_own_database(psql: str, infra_env: dict, variable: str, role: str) -> None:
    result = _connect(psql, infra_env[variable], "order_service")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == role


def test_service_role_cannot_connect_to_another_services_database(psql: str, infra_env: dict) -> None:
    result = _connect(psql, infra_env["ORDER_DATABASE_URL"], "allocation_service")
    assert result.returncode != 0, "order_service_app must not reach allocation_service"
    assert "permission denied" in result.stderr, result.stderr


def test_superuser_password_works_over_tcp(psql: str, infra_env: dict) -> None:
    result = _connect(psql, infra_env["POSTGRES_ADMIN_URL"], "postgres")
    assert result.returncode == 0, result.stderr


def test_second_kafka_start_is_a_quick_no_op() -> None:
    started = time.monotonic()
    result = _run(str(INFRA / "kafka.sh"), "start", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 5, f"second start took {elapsed:.1f}s"


def test_second_postgres_start_is_a_quick_no_op() -> None:
    started = time.monotonic()
    result = _run(str(INFRA / "postgres.sh"), "start", timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5


def test_start_leaves_an_external_broker_alone() -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "broker.invalid:9092"}
    result = _run(str(INFRA / "kafka.sh"), "start", env=env, timeout=30)
    assert result.returncode == 0
    assert "external broker" in result.stderr


def test_start_leaves_an_external_database_alone() -> None:
    env = {**os.environ, "ORDER_DATABASE_URL": "postgresql+asyncpg://u:p@db.invalid:5432/order_service"}
    result = _run(str(INFRA / "postgres.sh"), "start", env=env, timeout=30)
    assert result.returncode == 0
    assert "external database" in result.stderr
