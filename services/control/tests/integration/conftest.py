from datetime import UTC, datetime, timedelta

import pytest

from control_service.bootstrap import build_app
from control_service.settings import ControlSettings
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    FINANCE_EVENTS,
    INVENTORY_AVAILABILITY,
    INVENTORY_STOCK,
    ORDER_EVENTS,
    RETURNS_EVENTS,
    WAREHOUSE_EVENTS,
)
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.testing.plugin import produce_events, serving
from ecomops_common.testing.samples import order_placed


@pytest.fixture
def service_under_test() -> str:
    return "control"


@pytest.fixture
async def control(settings_for):
    """The control service in this process and an HTTP client on it (as an admin unless a request says otherwise)."""
    async with serving(build_app(settings_for(ControlSettings, alert_interval_s=0.5))) as client:
        yield client


T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def event(event_type: str, source: str, aggregate: str, payload: dict, minutes: float) -> EventEnvelope:
    envelope = new_event(event_type, 1, source, "x", aggregate, payload)
    return envelope.model_copy(update={"occurred_at": T0 + timedelta(minutes=minutes)})


def order_story(order_id: str, *, rma_id: str | None = None, held: bool = True) -> dict[str, list[EventEnvelope]]:
    """One order's life as the services publish it, per topic: placed on a payment hold, released, allocated
    (1 of 3 units backordered), picked, packed, shipped with DHL, delivered; a return of one unit authorized,
    received, inspected, restocked, its refund approved and paid."""
    placed = order_placed(order_id, [("1", "SKU-A", 2), ("2", "SKU-B", 1)], placed_at=at(0), held=held,
                          promised_date="2026-11-25")
    placed = placed.model_copy(update={"occurred_at": T0})
    status = {"order_id": order_id, "channel": "web-eu", "external_order_id": order_id, "actor": "system"}
    lines = [{"line_id": "1", "sku": "SKU-A", "node": "WH1", "quantity": 2}]
    allocation = {"order_id": order_id, "channel": "web-eu", "lines": lines, "reason": "placed"}
    stages = {"order_id": order_id, "units": 2}
    story = {
        ORDER_EVENTS: [placed] + ([event("OrderStatusChanged", "order", order_id, {
            **status, "from_status": "on_hold", "to_status": "awaiting_allocation", "actor": "supervisor:sam"}, 40)]
            if held else []) + [
            event("OrderStatusChanged", "order", order_id, {**status, "from_status": "awaiting_allocation",
                                                            "to_status": "partially_allocated"}, 41),
            event("OrderStatusChanged", "order", order_id, {**status, "from_status": "partially_allocated",
                                                            "to_status": "released_to_warehouse"}, 50),
            event("OrderStatusChanged", "order", order_id, {**status, "from_status": "released_to_warehouse",
                                                            "to_status": "shipped"}, 120),
            event("OrderStatusChanged", "order", order_id, {**status, "from_status": "shipped",
                                                            "to_status": "delivered"}, 60 * 24 * 2)],
        ALLOCATION_EVENTS: [event("OrderAllocated", "allocation", order_id, {
            **allocation, "status": "partially_allocated", "revision": 1,
            "backordered": [{"line_id": "2", "sku": "SKU-B", "quantity": 1}]}, 41)],
        WAREHOUSE_EVENTS: [
            event("OrderFulfilmentChanged", "warehouse", order_id,
                  {**stages, "stage": "released_to_warehouse", "picked": 0, "packed": 0, "shipped": 0}, 50),
            event("OrderFulfilmentChanged", "warehouse", order_id,
                  {**stages, "stage": "picking", "picked": 2, "packed": 0, "shipped": 0}, 70),
            event("OrderFulfilmentChanged", "warehouse", order_id,
                  {**stages, "stage": "packed", "picked": 2, "packed": 2, "shipped": 0}, 90),
            event("ShipmentDispatched", "warehouse", order_id, {
                "order_id": order_id, "node": "WH1", "tracking_number": f"T-{order_id}", "carrier": "dhl",
                "lines": [{"line_id": "1", "sku": "SKU-A", "quantity": 2}], "shipped_at": at(120)}, 120),
            event("OrderFulfilmentChanged", "warehouse", order_id,
                  {**stages, "stage": "shipped", "picked": 2, "packed": 2, "shipped": 2}, 120),
            event("OrderFulfilmentChanged", "warehouse", order_id,
                  {**stages, "stage": "delivered", "picked": 2, "packed": 2, "shipped": 2}, 60 * 24 * 2)],
        RETURNS_EVENTS: [], FINANCE_EVENTS: [],
    }
    if rma_id:
        rma = {"rma_id": rma_id, "order_id": order_id, "channel": "web-eu"}
        day = 60 * 24
        story[RETURNS_EVENTS] += [
            event("ReturnAuthorized", "returns", rma_id, {
                **rma, "node": "WH1", "lines": [{"line_id": "1", "sku": "SKU-A", "quantity": 1}],
                "authorized_at": at(3 * day), "reason": "size_fit"}, 3 * day),
            event("ReturnStatusChanged", "returns", rma_id, {**rma, "status": "refund_pending_approval",
                                                             "actor": "policy", "at": at(5 * day)}, 5 * day)]
        story[WAREHOUSE_EVENTS] += [
            event("ReturnReceived", "warehouse", rma_id, {"rma_id": rma_id, "node": "WH1", "sku": "SKU-A",
                                                          "quantity": 1, "condition": "like_new",
                                                          "received_at": at(4 * day)}, 4 * day),
            event("ReturnInspected", "warehouse", rma_id, {"rma_id": rma_id, "node": "WH1", "sku": "SKU-A",
                                                           "quantity": 1, "condition": "like_new",
                                                           "inspected_at": at(4.5 * day)}, 4.5 * day),
            event("ReturnDispositionApplied", "warehouse", rma_id, {"rma_id": rma_id, "node": "WH1", "sku": "SKU-A",
                                                                    "quantity": 1, "disposition": "restock",
                                                                    "applied_at": at(4.6 * day)}, 4.6 * day)]
    return story


def refund_paid(order_id: str, rma_id: str) -> dict[str, list[EventEnvelope]]:
    """What follows an approval: the status change, the approved refund, and finance paying it."""
    rma = {"rma_id": rma_id, "order_id": order_id, "channel": "web-eu"}
    day = 60 * 24
    return {
        RETURNS_EVENTS: [
            event("ReturnStatusChanged", "returns", rma_id, {**rma, "status": "refund_approved",
                                                             "actor": "sam", "at": at(6 * day)}, 6 * day),
            event("RefundApproved", "returns", rma_id, {
                **rma, "refund_id": f"rf-{rma_id}", "customer_id": "c-42", "amount": "10.00", "currency": "EUR",
                "reason": "size_fit", "timing": "after_inspection",
                "lines": [{"line_id": "1", "sku": "SKU-A", "quantity": 1}],
                "breakdown": [{"line_id": "1", "kind": "goods", "amount": "10.00"}], "approved_by": "sam",
                "approved_at": at(6 * day)}, 6 * day)],
        FINANCE_EVENTS: [event("RefundIssued", "finance", rma_id, {
            "refund_id": f"rf-{rma_id}", "rma_id": rma_id, "order_id": order_id, "amount": "10.00",
            "currency": "EUR", "issued_at": at(6.5 * day)}, 6.5 * day)],
    }


def stock_disagreement() -> dict[str, list[EventEnvelope]]:
    """The warehouse says 5 sellable SKU-A at WH1, allocation still believes 7."""
    return {
        INVENTORY_STOCK: [event("StockLevelChanged", "warehouse", "SKU-A@WH1", {
            "sku": "SKU-A", "node": "WH1", "sellable_on_hand": 5, "reason": "count", "as_of": at(10), "version": 3,
            "on_hand_by_status": {"sellable": 5, "quarantine": 2}}, 10)],
        INVENTORY_AVAILABILITY: [event("AvailabilityChanged", "allocation", "SKU-A", {
            "sku": "SKU-A", "atp": 4, "nodes": [{"node": "WH1", "on_hand": 7, "reserved": 3, "safety_stock": 0,
                                                 "atp": 4}], "as_of": at(5)}, 5)],
    }


async def publish(settings: ControlSettings, story: dict[str, list[EventEnvelope]]) -> None:
    for topic, envelopes in story.items():
        if envelopes:
            await produce_events(settings.kafka_bootstrap_servers, settings.topic(topic), envelopes)
