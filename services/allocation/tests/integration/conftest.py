import asyncio
import json

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from allocation_service.bootstrap import build_app
from allocation_service.service_layer.handlers import ORDER_EVENTS_CONSUMER
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import ALLOCATION_EVENTS
from ecomops_common.kafka_security import connection_options
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, free_port, serving


@pytest.fixture
def service_under_test() -> str:
    return "allocation"


@pytest.fixture
def allocation_settings(settings_for) -> AllocationSettings:
    return settings_for(AllocationSettings)


@pytest.fixture
async def allocation(allocation_settings):
    """The allocation service in this process, with an HTTP client on it."""
    async with serving(build_app(allocation_settings)) as client:
        yield client


@pytest.fixture
def allocation_results():
    return read_allocation_results


async def read_allocation_results(settings, done, timeout: float = 30.0) -> dict[str, dict]:
    """The latest allocation event per order on allocation.events.v1 once `done(latest)`, by order id."""
    latest: dict[str, dict] = {}

    def collect(records) -> bool:
        latest.clear()
        for record in records:
            payload = json.loads(record.value)["payload"]
            if "order_id" in payload:
                latest[payload["order_id"]] = {**payload, "event_type": dict(record.headers)["event_type"].decode()}
        return done(latest)

    await consume_until(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), collect, timeout)
    return latest


@pytest.fixture
def start_worker(database_url, service_process, kafka_bootstrap, topic_prefix):
    """Starts an allocation worker as a real process; all share one database and one consumer group, and trust
    the test issuer's tokens."""

    def start(**env: str):
        port = free_port()
        return service_process("allocation_service", {
            "ALLOCATION_DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "ECOMOPS_TOPIC_PREFIX": topic_prefix, "ALLOCATION_HTTP_PORT": str(port),
            "OIDC_ISSUER": test_issuer().issuer, "ALLOCATION_TOPIC_PARTITIONS": "4",
            "ALLOCATION_LOG_LEVEL": "WARNING", **env}, port)

    return start


async def group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    return sum(len(group[5]) for response in described for group in response.groups)  # group[5]: members


@pytest.fixture
def wait_for_members(kafka_bootstrap, topic_prefix):
    """Waits until `count` workers share the order-events consumer group, so both take part in the race."""

    async def wait(count: int, timeout: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        group = topic_prefix + ORDER_EVENTS_CONSUMER
        while await group_members(kafka_bootstrap, group) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{group} has fewer than {count} members")
            await asyncio.sleep(0.5)

    return wait
