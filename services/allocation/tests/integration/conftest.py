import json

import httpx
import pytest

from allocation_service.bootstrap import build_app
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import ALLOCATION_EVENTS
from ecomops_common.testing.plugin import consume_until

ADMIN = {"authorization": "Bearer test-token"}


@pytest.fixture
def allocation_settings(database_url, kafka_bootstrap, topic_prefix) -> AllocationSettings:
    return AllocationSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                              topic_prefix=topic_prefix, topic_partitions=2, api_token="test-token")


@pytest.fixture
async def allocation(allocation_settings):
    """The allocation service in this process, with an HTTP client on it."""
    app = build_app(allocation_settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://allocation",
                                     headers=ADMIN) as client:
            client.settings = allocation_settings
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
