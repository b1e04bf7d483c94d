"""Where tests find Kafka, PostgreSQL and the OpenID Connect provider, in this order: already running
(environment variables), a Docker engine's containers (testcontainers), or the project's own local scripts.
Never a mock."""

import functools
import os
import shutil
import subprocess
from pathlib import Path


def repo_root() -> Path:
    for directory in [Path.cwd(), *Path.cwd().parents]:
        if (directory / "scripts" / "infra" / "kafka.sh").exists():
            return directory
    raise RuntimeError("run the tests from inside the repository")


@functools.cache
def docker_engine_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _start_local(script: str) -> None:
    subprocess.run(["bash", str(repo_root() / "scripts" / "infra" / script), "start"], check=True, timeout=900)


class Infrastructure:
    """Resolves the broker and the database server once per test session."""

    def __init__(self) -> None:
        self._containers: list = []

    def kafka_bootstrap(self) -> str:
        if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            return servers
        if docker_engine_available():
            from testcontainers.kafka import KafkaContainer

            container = KafkaContainer("apache/kafka:4.1.1").with_kraft()
            container.start()
            self._containers.append(container)
            return container.get_bootstrap_server()
        _start_local("kafka.sh")
        return "127.0.0.1:19092"

    def postgres_admin_url(self) -> str:
        """A superuser URL (libpq form) used to create a database per test module."""
        if url := os.environ.get("POSTGRES_ADMIN_URL"):
            return url
        if docker_engine_available():
            from testcontainers.postgres import PostgresContainer

            container = PostgresContainer("postgres:16", driver=None)
            container.start()
            self._containers.append(container)
            return container.get_connection_url()
        _start_local("postgres.sh")
        return "postgresql://postgres:postgres@127.0.0.1:15432/postgres"

    def oidc_issuer(self) -> str:
        """The OpenID Connect issuer of the demo realm (deploy/keycloak/ecomops-realm.json): OIDC_ISSUER, or
        Keycloak started by the project's script (on a Docker engine too: its JVM start is what costs)."""
        if issuer := os.environ.get("OIDC_ISSUER"):
            return issuer
        _start_local("keycloak.sh")
        return "http://127.0.0.1:18080/realms/ecomops"

    def close(self) -> None:
        for container in self._containers:
            container.stop()

