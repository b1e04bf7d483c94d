"""What POST /v1/orders refuses before it costs memory or reaches the database: bodies over the size limit,
quantities no integer column holds, and more orders than the intake queue holds."""

import asyncio
import json

import asyncpg
import httpx
import pytest

from ecomops_common.testing import samples
from ecomops_common.testing.issuer import admin_headers
from ecomops_common.testing.issuer import test_issuer as issuer  # aliased: pytest would collect test_issuer
from ecomops_common.testing.plugin import running
from order_service.bootstrap import build_app
from order_service.settings import OrderSettings

pytestmark = pytest.mark.integration
JSON = {"content-type": "application/json"}


async def test_an_order_over_the_body_limit_is_413_whether_or_not_its_length_is_announced(order_service):
    limit = order_service.settings.max_request_body_bytes
    huge = json.dumps(samples.channel_order(lines=[{"line_id": str(n), "sku": "S" * 60, "quantity": 1,
                                                    "unit_price": "1.00"} for n in range(200_000)])).encode()
    assert len(huge) > 19_000_000
    announced = await order_service.post("/v1/orders", content=huge, headers=JSON)
    assert (announced.status_code, announced.json()) == (413, {"detail": f"request body larger than {limit} bytes"})

    async def chunks():
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start:start + 64 * 1024]

    streamed = await order_service.post("/v1/orders", content=chunks(), headers=JSON)
    assert "content-length" not in streamed.request.headers
    assert (streamed.status_code, streamed.json()) == (413, {"detail": f"request body larger than {limit} bytes"})


async def test_a_large_invalid_order_is_refused_field_by_field_without_being_echoed(order_service):
    order = samples.channel_order(customer={"tier": "standard"}, ship_to={"name": "N" * 900_000})
    answer = await order_service.post("/v1/orders", json=order)
    assert answer.status_code == 422
    assert len(answer.content) < 2_000, answer.content[:2_000]
    assert [(error["loc"], error["type"]) for error in answer.json()["detail"]] == [
        (["body", "customer", "id"], "missing"), (["body", "ship_to", "name"], "string_too_long")]


@pytest.mark.parametrize("quantity", [2**31, -(2**31), 1_000_001])
async def test_a_quantity_beyond_what_the_databases_hold_is_a_422_naming_the_line(order_service, quantity):
    order = samples.channel_order(lines=[{**samples.CHANNEL_ORDER["lines"][0], "quantity": quantity}])
    answer = await order_service.post("/v1/orders", json=order)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "lines", 0, "quantity"]
    assert error["type"] in {"less_than_equal", "greater_than_equal"}
    assert "order_id" not in answer.json()  # malformed, not a rejected order: nothing stored


async def test_a_full_intake_queue_answers_503_with_retry_after_and_takes_orders_again(
        database_url, kafka_bootstrap, topic_prefix):
    settings = OrderSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                             topic_prefix=topic_prefix, topic_partitions=2, intake_queue_limit=1,
                             oidc_issuer=issuer().issuer)
    app = build_app(settings)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://order",
                                               headers=admin_headers()) as client:
        blocker = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # every intake batch waits
        posts = [asyncio.create_task(client.post("/v1/orders", json=samples.channel_order(external_order_id=f"q-{n}")))
                 for n in range(5)]
        # At most three are taken meanwhile: two batches in flight and one order waiting (the queue holds one).
        refused: set[asyncio.Task] = set()
        while len(refused) < 2:
            done, _ = await asyncio.wait(set(posts) - refused, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            assert done, "fewer than two answers while the intake was blocked"
            refused |= done
        assert all(task.result().status_code == 503 and task.result().headers["retry-after"] == "1"
                   for task in refused)
        await transaction.rollback()
        await blocker.close()
        taken = [answer.status_code for answer in await asyncio.gather(*(set(posts) - refused))]
        assert set(taken) <= {201, 503} and 201 in taken
        again = await client.post("/v1/orders", json=samples.channel_order(external_order_id="q-again"))
        assert again.status_code == 201, again.text
