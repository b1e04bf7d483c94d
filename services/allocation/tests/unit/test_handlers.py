"""The service layer against in-memory fakes (not mocks): what each handler and command stores, announces and
commits, and what it refuses. No Kafka, no database."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from allocation_service.adapters.fakes import FakeAllocationStore, FakeAllocationUnitOfWork
from allocation_service.domain.book import OrderAllocationStatus
from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.stock import StockPosition
from allocation_service.service_layer import reconcile
from allocation_service.service_layer.allocation import (
    StockLevel,
    set_stock_levels,
    take_order_events,
    take_stock_levels,
)
from allocation_service.service_layer.handlers import (
    ORDER_EVENTS_CONSUMER,
    PURCHASE_ORDERS_CONSUMER,
    STOCK_LEVELS_CONSUMER,
    TRANSFERS_CONSUMER,
    handlers,
)
from allocation_service.service_layer.rules import InvalidRules, put_rules
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    INVENTORY_AVAILABILITY,
    INVENTORY_STOCK,
    ORDER_EVENTS,
    SUPPLY_EVENTS,
    WAREHOUSE_EVENTS,
)
from ecomops_common.contracts.inventory import FulfilledUnits, StockLevelChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.contracts.supply import PurchaseOrderChanged
from ecomops_common.contracts.warehouse import TransferChanged
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
S = OrderAllocationStatus
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def placed(order_id: str, lines=(("1", "A", 2),), **changes) -> OrderPlaced:
    return OrderPlaced.model_validate(order_placed(order_id, list(lines), **changes).payload)


def status_changed(order_id: str, to_status: str, from_status: str = "on_hold") -> OrderStatusChanged:
    return OrderStatusChanged(order_id=order_id, channel="web-eu", external_order_id=order_id,
                              from_status=from_status, to_status=to_status, actor="supervisor:jane")


def level(sku: str, node: str, on_hand: int, version: int, **changes) -> StockLevelChanged:
    return StockLevelChanged(sku=sku, node=node, sellable_on_hand=on_hand, reason="count", as_of=NOW,
                             version=version, **changes)


def uow_with(*positions: StockPosition) -> FakeAllocationUnitOfWork:
    return FakeAllocationUnitOfWork(FakeAllocationStore(positions))


def results(uow: FakeAllocationUnitOfWork) -> dict[str, tuple[str, dict]]:
    """The latest allocation event per order: (event type, payload)."""
    return {envelope.aggregate_id: (envelope.event_type, envelope.payload) for topic, envelope in uow.published
            if topic == ALLOCATION_EVENTS and "order_id" in envelope.payload}


def test_the_registry_keeps_one_consumer_group_per_topic_and_claims_the_inbox():
    assert [(s.topic, s.consumer, s.messages, s.once) for s in handlers(AllocationSettings())] == [
        (ORDER_EVENTS, ORDER_EVENTS_CONSUMER, (OrderPlaced, OrderStatusChanged), True),
        (INVENTORY_STOCK, STOCK_LEVELS_CONSUMER, (StockLevelChanged,), True),
        (SUPPLY_EVENTS, PURCHASE_ORDERS_CONSUMER, (PurchaseOrderChanged,), True),
        (WAREHOUSE_EVENTS, TRANSFERS_CONSUMER, (TransferChanged,), True)]
    assert (ORDER_EVENTS_CONSUMER, STOCK_LEVELS_CONSUMER, PURCHASE_ORDERS_CONSUMER, TRANSFERS_CONSUMER) == (
        "allocation-service.order-events", "allocation-service.stock-levels", "allocation-service.purchase-orders",
        "allocation-service.transfers")


def test_the_order_events_consumer_wants_new_orders_and_only_the_status_changes_that_ask_something():
    wants = handlers(AllocationSettings())[0].wants
    assert wants(placed("o1"))
    assert [status for status in ("awaiting_allocation", "cancelled", "rejected", "allocated", "picking", "shipped")
            if wants(status_changed("o1", status))] == ["awaiting_allocation", "cancelled", "rejected"]


async def test_a_placed_order_is_stored_reserved_and_announced_with_its_cause():
    uow = uow_with(StockPosition("A", "WH1", on_hand=5))
    (order,) = batch = received(placed("o1"), correlation_id="c-1", traceparent=TRACEPARENT)
    await take_order_events(uow, batch)
    assert uow.commits == 1
    (allocated,) = uow.events("OrderAllocated")
    assert allocated.payload["status"] == "allocated" and allocated.payload["reason"] == "placed"
    assert allocated.payload["lines"] == [{"line_id": "1", "sku": "A", "node": "WH1", "quantity": 2}]
    assert (allocated.causation_id, allocated.correlation_id, allocated.traceparent) == (
        order.event_id, "c-1", order.traceparent)
    (availability,) = [e for topic, e in uow.published if topic == INVENTORY_AVAILABILITY]
    assert (availability.aggregate_id, availability.payload["atp"]) == ("A", 3)
    assert uow.allocation.orders["o1"].status is S.allocated
    assert uow.allocation.positions["A", "WH1"].reserved == 2


async def test_a_held_order_reserves_nothing_until_its_holds_are_released():
    uow = uow_with(StockPosition("A", "WH1", on_hand=5))
    await take_order_events(uow, received(placed("o1", held=True)))
    assert uow.allocation.orders["o1"].status is S.held and uow.allocation.positions["A", "WH1"].reserved == 0
    assert uow.events() == [] and uow.commits == 1
    await take_order_events(uow, received(status_changed("o1", "awaiting_allocation")))
    assert results(uow)["o1"][0] == "OrderAllocated"
    assert uow.allocation.positions["A", "WH1"].reserved == 2


async def test_a_cancelled_order_releases_its_stock_to_the_backordered_order():
    uow = uow_with(StockPosition("A", "WH1", on_hand=2))
    await take_order_events(uow, received(placed("first"), placed("second", placed_at="2026-11-20T11:00:00Z")))
    assert {order_id: result[0] for order_id, result in results(uow).items()} == {
        "first": "OrderAllocated", "second": "OrderBackordered"}
    await take_order_events(uow, received(status_changed("first", "cancelled", from_status="allocated")))
    released, filled = results(uow)["first"], results(uow)["second"]
    assert released[0] == "AllocationReleased" and released[1]["reason"] == "cancelled"
    assert filled[0] == "OrderAllocated" and filled[1]["reason"] == "backorder_filled"
    assert uow.allocation.orders["first"].status is S.released
    assert uow.allocation.positions["A", "WH1"].reserved == 2


async def test_a_release_before_placement_is_remembered_and_the_late_order_reserves_nothing():
    uow = uow_with(StockPosition("A", "WH1", on_hand=5))
    await take_order_events(uow, received(status_changed("late", "rejected", from_status="received")))
    assert uow.allocation.released_early == {"late": "rejected"} and uow.events() == []
    await take_order_events(uow, received(placed("late")))
    assert "late" not in uow.allocation.orders and uow.allocation.positions["A", "WH1"].reserved == 0
    assert uow.events() == [] and uow.commits == 2


@pytest.mark.parametrize("to_status", ["picking", "shipped", "allocated"])
async def test_news_that_asks_nothing_of_allocation_changes_nothing_but_commits_the_batch(to_status):
    uow = uow_with(StockPosition("A", "WH1", on_hand=5))
    await take_order_events(uow, received(placed("o1")))
    published = list(uow.published)
    await take_order_events(uow, received(status_changed("o1", to_status, from_status="allocated")))
    assert uow.published == published and uow.commits == 2  # the inbox rows of the batch are committed


async def test_warehouse_levels_apply_by_version_and_stale_ones_are_ignored():
    uow = uow_with()
    await take_stock_levels(uow, received(level("A", "WH1", 7, version=2), level("A", "WH1", 3, version=1)))
    assert uow.allocation.positions["A", "WH1"].on_hand == 7 and uow.allocation.versions["A", "WH1"] == 2
    (availability,) = uow.events("AvailabilityChanged")
    assert availability.payload["atp"] == 7 and uow.commits == 1


async def test_shrinkage_re_sources_the_order_and_raises_an_exception_caused_by_the_level():
    uow = uow_with(StockPosition("A", "WH1", on_hand=2), StockPosition("A", "WH2", on_hand=2))
    await take_order_events(uow, received(placed("o1", country="DE")))
    (count,) = batch = received(level("A", "WH1", 0, version=1))
    await take_stock_levels(uow, batch)
    moved = uow.events("OrderAllocated")[-1]
    assert moved.payload["reason"] == "shrinkage" and moved.causation_id == count.event_id
    assert moved.payload["lines"] == [{"line_id": "1", "sku": "A", "node": "WH2", "quantity": 2}]
    (exception,) = uow.events("AllocationExceptionRaised")
    assert (exception.payload["node"], exception.payload["shortfall"]) == ("WH1", 2)
    assert [(e["sku"], e["node"], e["affected_order_ids"]) for e in uow.allocation.exceptions] == [
        ("A", "WH1", ["o1"])]


async def test_picked_units_leave_the_reservation_without_announcing_a_new_allocation():
    uow = uow_with(StockPosition("A", "WH1", on_hand=2))
    await take_order_events(uow, received(placed("o1")))
    announced = len(uow.events("OrderAllocated"))
    picked = [FulfilledUnits(order_id="o1", line_id="1", quantity=2)]
    await take_stock_levels(uow, received(level("A", "WH1", 0, version=1, fulfilled=picked)))
    order = uow.allocation.orders["o1"]
    assert (order.reservations, [(f.node, f.qty) for f in order.fulfilled]) == ([], [("WH1", 2)])
    assert len(uow.events("OrderAllocated")) == announced and uow.events("AllocationExceptionRaised") == []
    assert uow.allocation.positions["A", "WH1"].reserved == 0


async def test_an_admins_level_always_applies_keeps_what_it_omits_and_names_no_cause():
    uow = uow_with(StockPosition("A", "WH1", on_hand=5, safety_stock=1))
    uow.allocation.versions["A", "WH1"] = 9  # the warehouse's level: an admin's carries no version
    applied = await set_stock_levels(uow, [StockLevel("A", "WH1", on_hand=3), StockLevel("B", "WH1", safety_stock=2)])
    assert applied == 2 and uow.commits == 1
    a, b = uow.allocation.positions["A", "WH1"], uow.allocation.positions["B", "WH1"]
    assert (a.on_hand, a.safety_stock, b.on_hand, b.safety_stock) == (3, 1, 0, 2)
    assert {e.aggregate_id: e.causation_id for e in uow.events("AvailabilityChanged")} == {"A": None, "B": None}


async def test_rules_naming_unknown_nodes_are_refused_field_by_field_and_nothing_is_stored():
    uow = uow_with(StockPosition("A", "WH1", on_hand=1))
    rules = SourcingRules(node_priority={"DE": ["WH1", "NOPE"]}, node_cost={"ELSEWHERE": Decimal("4.90")})
    with pytest.raises(InvalidRules) as refused:
        await put_rules(uow, "web-eu", rules, "admin")
    assert [problem.field for problem in refused.value.problems] == ["node_priority.DE.1", "node_cost.ELSEWHERE"]
    assert refused.value.code == "invalid_rule"
    assert uow.allocation.rules == {} and uow.commits == 0


async def test_valid_rules_replace_the_channels_and_are_committed():
    uow = uow_with(StockPosition("A", "WH1", on_hand=1))
    await put_rules(uow, "web-eu", SourcingRules(allow_split=False), "admin")
    assert uow.allocation.rules["web-eu"]["rules"] == SourcingRules(allow_split=False)
    assert uow.allocation.rules["web-eu"]["updated_by"] == "admin" and uow.commits == 1


async def test_reconciliation_reports_drift_and_observe_counts_backorders():
    uow = uow_with(StockPosition("A", "WH1", on_hand=1))
    await take_order_events(uow, received(placed("o1", [("1", "A", 3)])))
    assert await reconcile.reconcile(uow) == []
    uow.allocation.positions["A", "WH1"].reserved = 0  # a counter gone wrong
    assert await reconcile.reconcile(uow) == [reconcile.Drift("A", "WH1", 0, 1)]
    await reconcile.observe(uow)
    assert (reconcile.BACKORDERED_ORDERS._value.get(), reconcile.BACKORDERED_UNITS._value.get()) == (1, 2)
