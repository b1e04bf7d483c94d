"""pytest fixtures for every package's tests: real Kafka and PostgreSQL, isolated per test.

Isolation without restarting anything: each test gets its own database on the shared server and
its own topic prefix on the shared broker.
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from ecomops_common.kafka_security import connection_options
from ecomops_common.resilience import retry_transient
from ecomops_common.testing.infrastructure import Infrastructure, repo_root
from ecomops_common.testing.issuer import admin_headers, test_issuer


@pytest.fixture(scope="session")
def infrastructure():
    infra = Infrastructure()
    yield infra
    infra.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(infrastructure) -> str:
    return infrastructure.kafka_bootstrap()


@pytest.fixture(scope="session")
def postgres_admin_url(infrastructure) -> str:
    return infrastructure.postgres_admin_url()


@pytest.fixture(scope="session")
def oidc_issuer(infrastructure) -> str:
    return infrastructure.oidc_issuer()


@pytest.fixture
async def topic_prefix(request):
    """This test's own topics; deleted afterwards (when the test used Kafka), so the shared broker does not
    collect partitions run after run (tens of thousands slow its starts down, then exhaust its file handles)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    if "kafka_bootstrap" in request.fixturenames:
        with contextlib.suppress(Exception):  # the broker may be down (fault tests): nothing to tidy up then
            await delete_topics(request.getfixturevalue("kafka_bootstrap"), prefix)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Deletes every topic whose name starts with `prefix` (one test's, one benchmark run's)."""
    admin = AIOKafkaAdminClient(**connection_options(bootstrap), request_timeout_ms=10_000)
    try:
        await admin.start()
        doomed = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


# Services in tests run as a runtime role on databases their migrations made as a migration role, like a
# deployment: a privilege the code needs and the migrations do not grant fails the tests.
TEST_MIGRATION_ROLE = "ecomops_test_migration"
TEST_RUNTIME_ROLE = "ecomops_test_runtime"


def _role_url(admin_url: str, role: str, database: str) -> str:
    """SQLAlchemy asyncpg URL of `database` on the admin URL's server, as `role` (password = role name)."""
    server = admin_url.rsplit("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{role}:{role}@{server}/{database}"


class MigratedTemplates:
    """One database per service migrated to head once per session; each test's database is a copy of it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.templates: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def template(self, service: str) -> str:
        async with self._lock:
            if service not in self.templates:
                name = f"tpl_{service}_{uuid.uuid4().hex[:8]}"
                await self._admin(*self._role_statements(),
                                  f'CREATE DATABASE "{name}" OWNER {TEST_MIGRATION_ROLE}')
                from ecomops_common.migrations import for_service, upgrade

                await asyncio.to_thread(upgrade, for_service(service),
                                        _role_url(self.admin_url, TEST_MIGRATION_ROLE, name),
                                        _role_url(self.admin_url, TEST_RUNTIME_ROLE, name))
                self.templates[service] = name
            return self.templates[service]

    @staticmethod
    def _role_statements() -> list[str]:
        return [f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                f"CREATE ROLE {role} LOGIN PASSWORD '{role}'; END IF; END $$"
                for role in (TEST_MIGRATION_ROLE, TEST_RUNTIME_ROLE)]

    async def _admin(self, *statements: str) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()

    async def drop_all(self) -> None:
        await self._admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.templates.values()))


@pytest.fixture(scope="session")
async def migrated_templates(postgres_admin_url):
    templates = MigratedTemplates(postgres_admin_url)
    yield templates
    await templates.drop_all()


@pytest.fixture
async def new_database(postgres_admin_url, migrated_templates):
    """Factory of fresh PostgreSQL databases (SQLAlchemy asyncpg URLs), all dropped after the test.

    `await new_database("order")`: the order service's schema at head, the URL of the runtime role;
    `await new_database()`: an empty database, the URL of a superuser."""
    names: list[str] = []

    async def create(service: str | None = None) -> str:
        name = f"test_{uuid.uuid4().hex[:12]}"
        template = await migrated_templates.template(service) if service else None
        admin = await asyncpg.connect(postgres_admin_url)
        try:
            if template:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER {TEST_MIGRATION_ROLE}')
            else:
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        names.append(name)
        if service:
            return _role_url(postgres_admin_url, TEST_RUNTIME_ROLE, name)
        base = postgres_admin_url.rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name

    yield create
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def service_under_test() -> str | None:
    """Overridden in a service's conftest (`return "order"`): `database_url` then has its schema."""
    return None


@pytest.fixture
async def database_url(new_database, service_under_test) -> str:
    """A fresh PostgreSQL database for one test, dropped afterwards (SQLAlchemy asyncpg URL)."""
    return await new_database(service_under_test)


@pytest.fixture
def settings_for(database_url, kafka_bootstrap, topic_prefix):
    """A service's settings for this test's database and topic prefix, trusting the test issuer's tokens
    (testing/issuer.py), with rate limits no test reaches unless it sets its own:
    `settings_for(OrderSettings, **changes)`."""
    def settings(settings_class, **changes):
        return settings_class(**{"database_url": database_url, "kafka_bootstrap_servers": kafka_bootstrap,
                                 "topic_prefix": topic_prefix, "topic_partitions": 2,
                                 "oidc_issuer": test_issuer().issuer, "rate_limit_per_client": "1000000/second",
                                 **changes})

    return settings


@contextlib.asynccontextmanager
async def serving(app, headers: dict[str, str] | None = None):
    """A service app running in this process and an HTTP client on it, with the service's `settings` and
    `unit_of_work` beside (for tests that run use cases in transactions of their own). The client calls as an
    admin of the test issuer unless `headers` say otherwise ({} for none)."""
    headers = admin_headers() if headers is None else headers
    async with running(app):
        settings = app.state.runtime.settings
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=headers,
                                     base_url=f"http://{settings.service_name}") as client:
            client.settings, client.unit_of_work = settings, app.state.unit_of_work
            yield client


@contextlib.asynccontextmanager
async def running(app, timeout: float = 60.0):
    """A service app in this process, once its topics exist and its consumers have joined (it serves HTTP
    before that), so a test can produce to its topics right away."""
    async with app.router.lifespan_context(app):
        await app.state.runtime.wait_for_messaging(timeout)
        yield app


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes]],
                  headers: list[tuple[str, bytes]] | None = None) -> None:
    """Publishes (key, value) messages, all with `headers`."""
    await produce_records(bootstrap, topic, [(key, value, headers or []) for key, value in messages])


async def produce_events(bootstrap: str, topic: str, envelopes) -> None:
    """Publishes envelopes exactly as the outbox relay does: key = aggregate id, type and id as headers."""
    await produce_records(bootstrap, topic, [(e.aggregate_id.encode(), e.model_dump_json().encode(), e.kafka_headers())
                                             for e in envelopes])


async def produce_records(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, list]]) -> None:
    producer = AIOKafkaProducer(**connection_options(bootstrap), enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        sends = [await producer.send(topic, value=value, key=key, headers=headers) for key, value, headers in records]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def consume_until(bootstrap: str, topic: str, done: Callable[[list[ConsumerRecord]], bool],
                        timeout: float = 30.0) -> list[ConsumerRecord]:
    """Reads `topic` from the beginning until `done(records)` or the timeout; returns what it read."""
    consumer = AIOKafkaConsumer(topic, **connection_options(bootstrap), auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0, interval: float = 0.1) -> None:
    """Waits until the async `check()` is true; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout}s: {check.__qualname__}")
        await asyncio.sleep(interval)


async def committed_offset_total(bootstrap: str, group: str, topic: str) -> int:
    """Sum of the group's committed offsets on `topic`: how many messages it has finished with."""
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        offsets = await retry_transient(lambda: admin.list_consumer_group_offsets(group), what="reading offsets")
    finally:
        await admin.close()
    return sum(meta.offset for partition, meta in offsets.items() if partition.topic == topic and meta.offset > 0)


class ServiceProcess:
    """A service started as a real process (`python -m <module>`), as in production."""

    def __init__(self, module: str, env: dict[str, str], port: int, log_path: Path,
                 ready_path: str = "/readyz") -> None:
        self.module, self.env, self.port, self.log_path = module, env, port, log_path
        self.ready_path = ready_path
        self.process: subprocess.Popen | None = None
        self.base_url = f"http://127.0.0.1:{port}"

    def start(self, ready_timeout: float = 60.0, wait: bool = True) -> "ServiceProcess":
        """Starts the process; with wait=False, call wait_ready() later (start several, then wait for all)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", self.module], env={**os.environ, **self.env},
                                        stdout=log, stderr=subprocess.STDOUT, cwd=repo_root())
        return self.wait_ready(ready_timeout) if wait else self

    def wait_ready(self, ready_timeout: float = 60.0) -> "ServiceProcess":
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited: see {self.log_path}")
            if fully_ready(self.base_url + self.ready_path):
                return self
            time.sleep(0.2)
        raise TimeoutError(f"{self.module} not ready after {ready_timeout}s: see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as when a node dies."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def fully_ready(url: str) -> bool:
    """/readyz answers 200 as soon as HTTP can serve; a test that produces to the service's topics also needs
    them created and its consumers joined (nothing degraded). Other health paths: a 200 is enough."""
    try:
        response = httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and not (url.endswith("/readyz") and response.json()["degraded"])


async def run_reconciliation(entry_point: str, env: dict[str, str]) -> dict:
    """Runs a service's reconciliation command (`package.module:function`) as a process; its JSON report."""
    module, function = entry_point.split(":")
    result = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", f"from {module} import {function}; "
                                                                           f"{function}()"],
                                     env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service_process(tmp_path):
    """Factory for services as real processes; all are killed at the end of the test."""
    started: list[ServiceProcess] = []

    def start(module: str, env: dict[str, str], port: int | None = None, ready_path: str = "/readyz",
              wait: bool = True) -> ServiceProcess:
        port = port or free_port()
        service = ServiceProcess(module, env, port, tmp_path / f"{module}-{len(started)}.log", ready_path)
        started.append(service)
        return service.start(wait=wait)

    yield start
    for service in started:
        service.stop()
