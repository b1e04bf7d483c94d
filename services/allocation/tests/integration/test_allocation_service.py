"""The allocation service on PostgreSQL and Kafka: order events in, reservations and results out."""

import pytest
from sqlalchemy import func, select

from allocation_service.service_layer import reconcile
from allocation_service.service_layer.allocation import RESULTS
from allocation_service.service_layer.handlers import ORDER_EVENTS_CONSUMER
from allocation_service.service_layer.unit_of_work import SqlAllocationUnitOfWork
from ecomops_common import metrics
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.orders import OrderStatusChanged
from ecomops_common.db import Database
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.inbox import ProcessedEvent
from ecomops_common.testing.plugin import committed_offset_total, eventually, produce_events
from ecomops_common.testing.samples import order_placed

pytestmark = pytest.mark.integration


async def test_orders_are_allocated_split_backordered_and_released(allocation, allocation_results):
    settings = allocation.settings
    statuses = ("allocated", "partially_allocated", "backordered", "released")
    counted_before = [RESULTS.labels(status=status)._value.get() for status in statuses]
    seeded = await allocation.put("/v1/stock", json={"levels": [
        {"sku": "A", "node": "WH1", "on_hand": 5}, {"sku": "A", "node": "WH2", "on_hand": 3},
        {"sku": "B", "node": "WH2", "on_hand": 2, "safety_stock": 1}]})
    assert seeded.status_code == 200 and seeded.json() == {"applied": 3}

    events = settings.topic(ORDER_EVENTS)
    # Only WH2 has both SKUs, so it ships the whole order from one node.
    await produce_events(settings.kafka_bootstrap_servers, events,
                         [order_placed("o-whole", [("1", "A", 2), ("2", "B", 1)])])
    results = await allocation_results(settings, lambda latest: "o-whole" in latest)
    assert results["o-whole"]["status"] == "allocated" and results["o-whole"]["event_type"] == "OrderAllocated"
    assert {(line["sku"], line["node"], line["quantity"]) for line in results["o-whole"]["lines"]} == {
        ("A", "WH2", 2), ("B", "WH2", 1)}

    # No node has 6 of A: split 5 + 1. B has nothing left to promise (safety stock): backordered.
    await produce_events(settings.kafka_bootstrap_servers, events,
                         [order_placed("o-split", [("1", "A", 6)]), order_placed("o-short", [("1", "B", 3)])])
    results = await allocation_results(settings, lambda latest: {"o-split", "o-short"} <= set(latest))
    assert sorted((line["node"], line["quantity"]) for line in results["o-split"]["lines"]) == [("WH1", 5), ("WH2", 1)]
    assert results["o-short"]["status"] == "backordered" and results["o-short"]["event_type"] == "OrderBackordered"
    assert results["o-short"]["backordered"] == [{"line_id": "1", "sku": "B", "quantity": 3, "promised_date": None}]

    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert availability["atp"] == 0
    assert [(n["node"], n["reserved"], n["atp"]) for n in availability["nodes"]] == [("WH1", 5, 0), ("WH2", 3, 0)]
    reservations = (await allocation.get("/v1/reservations", params={"order_id": "o-whole"})).json()
    assert reservations["status"] == "allocated" and len(reservations["lines"]) == 2

    cancel = new_event("OrderStatusChanged", 1, "order", "order", "o-whole", OrderStatusChanged(
        order_id="o-whole", channel="web-eu", external_order_id="o-whole", from_status="allocated",
        to_status="cancelled", actor="supervisor:jane", reason="customer request"))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS), [cancel])
    # The released unit of B goes to the backordered order at once: both results come from one transaction, on
    # two partitions (keyed by order), so the reader waits for both.
    results = await allocation_results(settings, lambda latest: latest.get("o-whole", {}).get("status") == "released"
                                       and latest.get("o-short", {}).get("status") != "backordered")
    assert results["o-whole"]["event_type"] == "AllocationReleased"
    assert results["o-short"]["status"] == "partially_allocated" and results["o-short"]["reason"] == "backorder_filled"
    assert results["o-short"]["lines"] == [{"line_id": "1", "sku": "B", "node": "WH2", "quantity": 1}]
    assert results["o-short"]["backordered"] == [{"line_id": "1", "sku": "B", "quantity": 2, "promised_date": None}]
    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert availability["atp"] == 2
    assert (await allocation.get("/v1/reconciliation")).json() == {"ok": True, "drift": []}
    # The metrics: each result once, and what the periodic reconciliation measures.
    counted = [RESULTS.labels(status=status)._value.get() - before for status, before in zip(statuses, counted_before,
                                                                                             strict=True)]
    assert counted == [2, 1, 1, 1]  # o-whole, o-split; o-short's fill; o-short; o-whole
    database = Database(settings.database_url)
    try:
        async with SqlAllocationUnitOfWork(database) as uow:
            await reconcile.observe(uow)
    finally:
        await database.dispose()
    assert (reconcile.BACKORDERED_ORDERS._value.get(), reconcile.BACKORDERED_UNITS._value.get()) == (1, 2)
    assert metrics.RECONCILIATION_DRIFT.labels(check="allocation_reservations")._value.get() == 0


async def test_an_order_placed_after_its_cancellation_reserves_nothing(allocation):
    """As when an OrderPlaced that was dead-lettered is redriven after the order was cancelled."""
    settings = allocation.settings
    assert (await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 10}]}
                                 )).status_code == 200
    topic, group = settings.topic(ORDER_EVENTS), settings.consumer_group(ORDER_EVENTS_CONSUMER)
    cancel = new_event("OrderStatusChanged", 1, "order", "order", "o-late", OrderStatusChanged(
        order_id="o-late", channel="web-eu", external_order_id="o-late", from_status="on_hold",
        to_status="cancelled", actor="supervisor:jane", reason="customer request"))
    await produce_events(settings.kafka_bootstrap_servers, topic, [cancel])

    def handled(count: int):
        async def check() -> bool:
            return await committed_offset_total(settings.kafka_bootstrap_servers, group, topic) >= count
        return check

    await eventually(handled(1))
    await produce_events(settings.kafka_bootstrap_servers, topic, [order_placed("o-late", [("1", "A", 3)])])
    await eventually(handled(2))

    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert (availability["atp"], availability["nodes"][0]["reserved"]) == (10, 0)
    assert (await allocation.get("/v1/reservations", params={"order_id": "o-late"})).status_code == 404


def status_changed(order_id: str, from_status: str, to_status: str) -> EventEnvelope:
    return new_event("OrderStatusChanged", 1, "order", "order", order_id, OrderStatusChanged(
        order_id=order_id, channel="web-eu", external_order_id=order_id, from_status=from_status,
        to_status=to_status, actor="system"))


async def inbox_rows(database_url: str, consumer: str) -> int:
    database = Database(database_url)
    try:
        async with database.sessions() as session:
            inbox = ProcessedEvent.__table__
            return (await session.execute(select(func.count()).select_from(inbox).where(
                inbox.c.consumer == consumer))).scalar_one()
    finally:
        await database.dispose()


async def test_the_order_services_own_status_echoes_cost_no_transaction_and_a_cancellation_still_releases(
        allocation, allocation_results):
    settings = allocation.settings
    assert (await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 10}]}
                                 )).status_code == 200
    topic, group = settings.topic(ORDER_EVENTS), settings.consumer_group(ORDER_EVENTS_CONSUMER)
    await produce_events(settings.kafka_bootstrap_servers, topic,
                         [order_placed("o-kept", [("1", "A", 3)]), order_placed("o-cancelled", [("1", "A", 2)])])
    await allocation_results(settings, lambda latest: {"o-kept", "o-cancelled"} <= set(latest))
    assert await inbox_rows(settings.database_url, group) == 2

    # The order service's news of its own progress: nothing for allocation to do.
    echoes = [status_changed("o-kept", "awaiting_allocation", "allocated"),
              status_changed("o-cancelled", "awaiting_allocation", "allocated"),
              status_changed("o-kept", "allocated", "released_to_warehouse"),
              status_changed("o-kept", "released_to_warehouse", "picking")]
    await produce_events(settings.kafka_bootstrap_servers, topic, echoes)

    async def echoes_handled() -> bool:
        return await committed_offset_total(settings.kafka_bootstrap_servers, group, topic) >= 2 + len(echoes)

    await eventually(echoes_handled)
    assert await inbox_rows(settings.database_url, group) == 2  # offsets moved on, no inbox row written

    await produce_events(settings.kafka_bootstrap_servers, topic,
                         [status_changed("o-cancelled", "allocated", "cancelled")])
    results = await allocation_results(settings, lambda latest: latest.get("o-cancelled", {}).get("status")
                                       == "released")
    assert results["o-kept"]["status"] == "allocated"
    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert (availability["atp"], availability["nodes"][0]["reserved"]) == (7, 3)
    assert await inbox_rows(settings.database_url, group) == 3
