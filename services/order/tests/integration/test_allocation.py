"""Allocation results from allocation.events.v1 move orders and replace their allocation, on PostgreSQL and Kafka."""

import asyncio
import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from ecomops_common.auth import SUPERVISOR
from ecomops_common.contracts import ALLOCATION_EVENTS, ORDER_EVENTS
from ecomops_common.contracts.allocation import (
    AllocationExceptionRaised,
    AllocationReleased,
    OrderAllocated,
    OrderBackordered,
)
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.testing.issuer import test_issuer as issuer  # aliased: pytest would collect test_issuer
from ecomops_common.testing.plugin import consume_until, produce
from order_service.settings import OrderSettings

pytestmark = pytest.mark.integration
SKU = "SKU-RED-M"


def allocation_event(order_id: str, revision: int, status: str, nodes: dict[str, int], backordered: int = 0,
                     reason: str = "placed") -> EventEnvelope:
    model = {"backordered": OrderBackordered, "released": AllocationReleased}.get(status, OrderAllocated)
    payload = model(order_id=order_id, channel="web-eu", status=status, revision=revision, reason=reason,
                    lines=[{"line_id": "1", "sku": SKU, "node": node, "quantity": n} for node, n in nodes.items()],
                    backordered=[{"line_id": "1", "sku": SKU, "quantity": backordered}] if backordered else [])
    return new_event(model.__name__, 1, "allocation", "order", order_id, payload)


def units(node: str | None, quantity: int) -> dict:
    """The order's units of line 1 at `node` (None: backordered, no date promised) as GET shows them."""
    return {"line_id": "1", "sku": SKU, "node": node, "quantity": quantity, "promised_date": None}


async def publish(settings: OrderSettings, *envelopes: EventEnvelope) -> None:
    for envelope in envelopes:  # one at a time: each has headers of its own
        await produce(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS),
                      [(envelope.aggregate_id.encode(), envelope.model_dump_json().encode())],
                      headers=envelope.kafka_headers())


async def order_once(client: httpx.AsyncClient, order_id: str, condition, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = (await client.get(f"/v1/orders/{order_id}")).json()
        if condition(order):
            return order
        assert time.monotonic() < deadline, f"condition not met in {timeout}s: {order}"
        await asyncio.sleep(0.1)


async def status_changes(settings: OrderSettings, count: int) -> list[tuple[dict, dict]]:
    """(envelope, payload) of the first `count` OrderStatusChanged on order.events.v1."""
    def changes(records):
        return [json.loads(r.value) for r in records if dict(r.headers)["event_type"] == b"OrderStatusChanged"]

    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS),
                                  lambda rs: len(changes(rs)) >= count)
    return [(envelope, envelope["payload"]) for envelope in changes(records)]


async def test_allocation_results_move_the_order_and_replace_its_allocation(order_service, order_json):
    settings = order_service.settings
    order = (await order_service.post("/v1/orders", json=order_json())).json()
    order_id = order["id"]
    assert order["allocation"] == [] and order["allocation_revision"] is None

    placed = allocation_event(order_id, 1, "allocated", {"berlin": 3})
    await publish(settings, placed)
    allocated = await order_once(order_service, order_id, lambda o: o["status"] == "allocated")
    assert allocated["allocation"] == [units("berlin", 3)]
    assert allocated["allocation_revision"] == 1

    await publish(settings, allocation_event(order_id, 2, "partially_allocated", {"berlin": 2}, 1, "shrinkage"))
    partial = await order_once(order_service, order_id, lambda o: o["allocation_revision"] == 2)
    assert partial["status"] == "partially_allocated"
    assert partial["allocation"] == [units("berlin", 2), units(None, 1)]

    # After revision 3: the first event redelivered, then new events with the same and an older revision.
    await publish(settings, allocation_event(order_id, 3, "partially_allocated", {"hamburg": 2}, 1, "re-sourced"),
                  placed, allocation_event(order_id, 3, "allocated", {"hamburg": 3}),
                  allocation_event(order_id, 1, "allocated", {"hamburg": 3}),
                  allocation_event(order_id, 4, "backordered", {}, 3, "shrinkage"))
    backordered = await order_once(order_service, order_id, lambda o: o["allocation_revision"] == 4)
    assert backordered["status"] == "backordered"
    assert backordered["allocation"] == [units(None, 3)]
    by_allocation = [(t["from_status"], t["to_status"], t["reason"]) for t in backordered["history"]
                     if t["actor"] == "allocation"]
    assert by_allocation == [  # the redelivered and the stale events left no trace
        ("awaiting_allocation", "allocated", "placed"),
        ("allocated", "partially_allocated", "shrinkage"),
        ("partially_allocated", "partially_allocated", "re-sourced"),
        ("partially_allocated", "backordered", "shrinkage"),
    ]

    await publish(settings, allocation_event(order_id, 5, "released", {}, reason="released"))
    released = await order_once(order_service, order_id, lambda o: o["allocation_revision"] == 5)
    assert released["status"] == "backordered" and released["allocation"] == []
    assert released["history"] == backordered["history"]

    changes = await status_changes(settings, 3)
    assert [(c["from_status"], c["to_status"], c["actor"]) for _, c in changes] == [
        ("awaiting_allocation", "allocated", "allocation"),
        ("allocated", "partially_allocated", "allocation"),
        ("partially_allocated", "backordered", "allocation"),
    ]
    envelope, first = changes[0]
    assert first["reason"] == "placed" and first["order_id"] == order_id
    assert envelope["causation_id"] == placed.event_id


async def test_a_cancelled_order_keeps_its_status_and_bad_events_are_dead_lettered(order_service, order_json):
    settings = order_service.settings
    order = (await order_service.post("/v1/orders", json=order_json())).json()
    assert (await order_service.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "customer request"},
                                     headers=issuer().bearer("jane", SUPERVISOR))).status_code == 200

    shortfall = AllocationExceptionRaised(exception_id="x1", sku=SKU, node="berlin", shortfall=2,
                                          affected_order_ids=[order["id"]], raised_at=datetime.now(UTC))
    raised = new_event("AllocationExceptionRaised", 1, "allocation", "stock", f"{SKU}@berlin", shortfall)
    await publish(settings, raised, allocation_event("nope", 1, "allocated", {"berlin": 3}),
                  allocation_event(order["id"], 1, "allocated", {"berlin": 3}))
    await produce(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [(b"x", b"not json")])

    cancelled = await order_once(order_service, order["id"], lambda o: o["allocation_revision"] == 1)
    assert cancelled["status"] == "cancelled" and cancelled["allocation"] == []
    assert [t["actor"] for t in cancelled["history"]][-1] == "jane"

    dead = await consume_until(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS) + ".dlq",
                               lambda rs: len(rs) >= 2)
    reasons = {dict(r.headers)["dlq_reason"].decode(): dict(r.headers)["dlq_error"].decode() for r in dead}
    assert reasons.keys() == {"handler_error", "unparseable"} and "no order nope" in reasons["handler_error"]
