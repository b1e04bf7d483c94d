"""The dead-letter routes every service gets from ServiceDefinition.build (ecomops_common.dead_letters): with Kafka
unreachable they answer 503 with Retry-After, never a 500 (no lifespan: nothing else is connected)."""

import httpx
import pytest

from ecomops_common.auth import SUPERVISOR
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.handlers import on
from ecomops_common.kafka_security import KafkaSecurity
from ecomops_common.migrations import ServiceMigrations
from ecomops_common.service import ServiceDefinition
from ecomops_common.settings import ServiceSettings
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.unit_of_work import SqlUnitOfWork


async def ignore(uow, messages) -> None:
    pass


@pytest.fixture
async def client():
    definition = ServiceDefinition(
        title="T", settings=ServiceSettings, unit_of_work=SqlUnitOfWork,
        migrations=ServiceMigrations("t", "t.migrations", ServiceSettings, []), publishes=(),
        handlers=lambda settings: [on(ORDER_EVENTS, "t.order-events", ignore, OrderPlaced)])
    settings = ServiceSettings(database_url="sqlite+aiosqlite:///:memory:", oidc_issuer=test_issuer().issuer,
                               kafka_bootstrap_servers="127.0.0.1:1", kafka=KafkaSecurity())  # nothing listens
    app = definition.build(settings).app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers=test_issuer().bearer("sam", SUPERVISOR)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/dead-letters?topic=order.events.v1"),
    ("POST", "/v1/dead-letters/order.events.v1.dlq/0/0/redrive"),
])
async def test_kafka_unreachable_is_a_503_with_retry_after(client, method, path):
    answer = await client.request(method, path)
    assert (answer.status_code, answer.headers.get("retry-after")) == (503, "5"), answer.text
    assert "temporarily unavailable" in answer.json()["detail"]


async def test_a_topic_of_no_consumer_is_refused_before_kafka_is_asked(client):
    assert (await client.post("/v1/dead-letters/warehouse.events.v1.dlq/0/0/redrive")).status_code == 404
    assert (await client.get("/v1/dead-letters?topic=warehouse.events.v1")).status_code == 422
