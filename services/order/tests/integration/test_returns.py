"""The returns service's RMAs (returns.events.v1) shown beside the order, on Kafka and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.contracts import RETURNS_EVENTS
from ecomops_common.contracts.returns import (
    ReturnAuthorized,
    ReturnLine,
    ReturnRefusal,
    ReturnRefused,
    ReturnStatusChanged,
)
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import committed_offset_total, consume_until, eventually, produce_events
from order_service.service_layer.handlers import RETURNS_CONSUMER

pytestmark = pytest.mark.integration
AUTHORIZED_AT = datetime(2026, 11, 25, 9, tzinfo=UTC)


def rma_event(payload: ReturnAuthorized | ReturnStatusChanged):
    return new_event(type(payload).__name__, 1, "returns", "return", payload.rma_id, payload)


def authorization(rma_id: str, order_id: str) -> ReturnAuthorized:
    return ReturnAuthorized(rma_id=rma_id, order_id=order_id, channel="web-eu", node="berlin",
                            lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=2)],
                            authorized_at=AUTHORIZED_AT, reason="size_fit")


async def test_an_order_shows_its_returns_each_step_once_and_keeps_its_status(order_service, order_json):
    settings = order_service.settings
    placed = (await order_service.post("/v1/orders", json=order_json())).json()
    order_id = placed["id"]
    assert placed["returns"] == []

    received = rma_event(ReturnStatusChanged(rma_id="RMA-1", order_id=order_id, channel="web-eu", status="received",
                                             actor="warehouse:berlin", note="2 units, like new",
                                             at=AUTHORIZED_AT + timedelta(days=3)))
    refused = new_event("ReturnRefused", 1, "returns", "return_request", "web-eu:req-9", ReturnRefused(
        channel="web-eu", request_id="req-9", order_id=order_id,
        refusals=[ReturnRefusal(rule="outside_return_window", field="requested_at", message="too late")]))
    events = [rma_event(authorization("RMA-1", order_id)), received,
              received,  # redelivered: the same event id
              refused,  # for channels: not the order's business
              rma_event(authorization("RMA-2", "an-order-not-stored-here"))]
    topic = settings.topic(RETURNS_EVENTS)
    await produce_events(settings.kafka_bootstrap_servers, topic, events)

    async def all_handled() -> bool:
        group = settings.consumer_group(RETURNS_CONSUMER)
        return await committed_offset_total(settings.kafka_bootstrap_servers, group, topic) == len(events)

    await eventually(all_handled)
    order = (await order_service.get(f"/v1/orders/{order_id}")).json()
    assert order["returns"] == [{
        "rma_id": "RMA-1", "status": "received", "resolution": "refund",
        "lines": [{"line_id": "1", "sku": "SKU-RED-M", "quantity": 2}],
        "steps": [{"status": "authorized", "actor": "returns", "note": "size_fit", "at": "2026-11-25T09:00:00Z"},
                  {"status": "received", "actor": "warehouse:berlin", "note": "2 units, like new",
                   "at": "2026-11-28T09:00:00Z"}],
    }]
    assert order["status"] == placed["status"] and order["history"] == placed["history"]
    # Dead letters are sent before the offsets are committed: none by now means none at all.
    assert await consume_until(settings.kafka_bootstrap_servers, topic + ".dlq", lambda records: False,
                               timeout=2) == []
