"""Allocation results in the domain: status moves, audit entries, replacement by revision."""

from datetime import UTC, datetime

import pytest

from ecomops_common.contracts.allocation import AllocationStatus, OrderAllocated
from ecomops_common.contracts.orders import HoldReason, OrderStatus
from ecomops_common.testing.fakes import FakeDelivery
from order_service.adapters.fakes import FakeOrders, FakeOrderUnitOfWork, order_row
from order_service.domain.allocation import AllocatedQuantity, AllocationReport, Outcome, ReportedAllocation
from order_service.domain.lifecycle import ALLOWED, LifecycleError, OrderState
from order_service.service_layer.allocation import record_allocations, report_of
from order_service.service_layer.lifecycle import OrderNotFound

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
S = OrderStatus
A = AllocationStatus
AT_BERLIN = (AllocatedQuantity("1", "SKU", "berlin", 3),)


def report(revision: int, status: AllocationStatus, quantities=AT_BERLIN, reason="placed") -> AllocationReport:
    return AllocationReport("o1", revision, status, reason, quantities)


@pytest.mark.parametrize("outcome", [S.allocated, S.partially_allocated, S.backordered])
def test_an_order_awaiting_allocation_takes_the_outcome(outcome):
    state = OrderState("o1", S.awaiting_allocation)
    assert state.allocation_changed(outcome, "placed", NOW)
    assert state.status is outcome
    assert [(t.from_status, t.to_status, t.actor, t.reason) for t in state.changes] == [
        (S.awaiting_allocation, outcome, "allocation", "placed")]


@pytest.mark.parametrize(("before", "after"), [
    (S.allocated, S.partially_allocated), (S.allocated, S.backordered), (S.partially_allocated, S.backordered),
    (S.backordered, S.partially_allocated), (S.backordered, S.allocated), (S.partially_allocated, S.allocated),
])
def test_shrinkage_and_filled_backorders_move_between_outcomes(before, after):
    assert after in ALLOWED[before]
    state = OrderState("o1", before)
    assert state.allocation_changed(after, "shrinkage", NOW)
    assert state.status is after and state.changes[-1].reason == "shrinkage"


def test_the_same_outcome_again_is_an_audit_entry():
    state = OrderState("o1", S.allocated)
    assert state.allocation_changed(S.allocated, "re-sourced", NOW)
    assert state.status is S.allocated
    assert [(t.from_status, t.to_status, t.reason) for t in state.changes] == [(S.allocated, S.allocated, "re-sourced")]


@pytest.mark.parametrize("status", [S.on_hold, S.cancelled, S.rejected, S.released_to_warehouse, S.shipped,
                                    S.exception])
def test_other_statuses_do_not_take_allocation_results(status):
    state = OrderState("o1", status, {HoldReason.fraud_review} if status is S.on_hold else set())
    assert not state.allocation_changed(S.allocated, "placed", NOW)
    assert state.status is status and not state.changes


def test_only_allocation_outcomes_are_taken():
    with pytest.raises(LifecycleError, match="not an allocation outcome"):
        OrderState("o1", S.allocated).allocation_changed(S.released_to_warehouse, "placed", NOW)


def test_a_report_replaces_the_whole_allocation():
    state, allocation = OrderState("o1", S.awaiting_allocation), ReportedAllocation("o1")
    assert allocation.take(report(1, A.allocated), state, NOW) is Outcome.applied
    assert allocation.revision == 1 and allocation.quantities == AT_BERLIN
    shrunk = (AllocatedQuantity("1", "SKU", "berlin", 1), AllocatedQuantity("1", "SKU", None, 2))
    assert allocation.take(report(2, A.partially_allocated, shrunk, "shrinkage"), state, NOW) is Outcome.applied
    assert allocation.quantities == shrunk and state.status is S.partially_allocated
    assert [t.to_status for t in state.changes] == [S.allocated, S.partially_allocated]


def test_stale_revisions_change_nothing():
    state, allocation = OrderState("o1", S.backordered), ReportedAllocation("o1", revision=5)
    for revision in (4, 5):
        assert allocation.take(report(revision, A.allocated), state, NOW) is Outcome.stale
    assert allocation.revision == 5 and allocation.quantities == () and state.status is S.backordered
    assert not state.changes


def test_released_clears_the_allocation_and_keeps_the_status():
    state, allocation = OrderState("o1", S.allocated), ReportedAllocation("o1", 1, AT_BERLIN)
    assert allocation.take(report(2, A.released, (), "cancelled"), state, NOW) is Outcome.applied
    assert allocation.quantities == () and allocation.revision == 2
    assert state.status is S.allocated and not state.changes


def test_a_cancelled_order_keeps_no_allocation_and_its_status():
    state, allocation = OrderState("o1", S.cancelled), ReportedAllocation("o1", 1, AT_BERLIN)
    assert allocation.take(report(2, A.allocated), state, NOW) is Outcome.status_not_applicable
    assert allocation.quantities == () and allocation.revision == 2 and state.status is S.cancelled


def test_an_order_further_on_keeps_the_reported_allocation():
    state, allocation = OrderState("o1", S.released_to_warehouse), ReportedAllocation("o1", 1, AT_BERLIN)
    moved = (AllocatedQuantity("1", "SKU", "hamburg", 3),)
    assert allocation.take(report(2, A.allocated, moved, "shrinkage"), state, NOW) is Outcome.status_not_applicable
    assert allocation.quantities == moved and state.status is S.released_to_warehouse and not state.changes


def test_the_event_becomes_quantities_per_node_with_backorders_as_no_node():
    event = OrderAllocated(order_id="o1", channel="web-eu", status="partially_allocated", revision=3, reason="placed",
                           lines=[{"line_id": "1", "sku": "SKU", "node": "berlin", "quantity": 2}],
                           backordered=[{"line_id": "1", "sku": "SKU", "quantity": 1}])
    assert report_of(event) == AllocationReport("o1", 3, A.partially_allocated, "placed", (
        AllocatedQuantity("1", "SKU", "berlin", 2), AllocatedQuantity("1", "SKU", None, 1)))


def update(order_id: str, revision: int, status: str, reason: str = "placed", node: str = "berlin"):
    lines = [] if status == "backordered" else [{"line_id": "1", "sku": "SKU", "node": node, "quantity": 1}]
    backordered = [{"line_id": "1", "sku": "SKU", "quantity": 1}] if status == "backordered" else []
    event = OrderAllocated(order_id=order_id, channel="web-eu", status=status, revision=revision, reason=reason,
                           lines=lines, backordered=backordered)
    return FakeDelivery(event, f"e-{order_id}-{revision}-{status}", "corr")


async def test_a_batch_applies_each_orders_updates_in_revision_order_and_announces_real_changes():
    orders = FakeOrders([order_row("o1", S.awaiting_allocation), order_row("o2", S.allocated, 4),
                         order_row("o3", S.cancelled)])
    uow = FakeOrderUnitOfWork(orders)
    await record_allocations(uow, [
        update("o1", 2, "backordered", "shrinkage"), update("o1", 1, "allocated"), update("o1", 1, "allocated"),
        update("o2", 4, "backordered"), update("o2", 5, "allocated", "re-sourced", node="hamburg"),
        update("o3", 1, "allocated"),
    ])
    assert uow.commits == 1
    assert [(t.from_status, t.to_status) for t in orders.transitions] == [
        (S.awaiting_allocation, S.allocated), (S.allocated, S.backordered), (S.allocated, S.allocated)]
    assert orders.rows["o1"]["status"] == "backordered" and orders.rows["o3"]["status"] == "cancelled"
    assert {order_id: (a.revision, a.quantities) for order_id, a in orders.allocations.items()} == {
        "o1": (2, (AllocatedQuantity("1", "SKU", None, 1),)),
        "o2": (5, (AllocatedQuantity("1", "SKU", "hamburg", 1),)),
        "o3": (1, ()),
    }
    announced = [(e.payload["to_status"], e.payload["actor"], e.causation_id) for _, e in uow.published]
    assert announced == [("allocated", "allocation", "e-o1-1-allocated"),
                         ("backordered", "allocation", "e-o1-2-backordered")]
    assert {topic for topic, _ in uow.published} == {"order.events.v1"}


async def test_an_unknown_order_fails_the_batch():
    uow = FakeOrderUnitOfWork(FakeOrders([order_row("o1", S.awaiting_allocation)]))
    with pytest.raises(OrderNotFound, match="no order nope"):
        await record_allocations(uow, [update("o1", 1, "allocated"), update("nope", 1, "allocated")])
    assert not uow.commits and not uow.published


async def test_an_order_follows_the_warehouse_stage_that_arrived_before_its_allocation():
    # The warehouse's pick tasks were announced first (another topic); the allocation result comes later.
    orders = FakeOrders([order_row("o1", S.awaiting_allocation)], stages={"o1": "released_to_warehouse"})
    uow = FakeOrderUnitOfWork(orders)
    await record_allocations(uow, [update("o1", 1, "allocated")])
    assert orders.rows["o1"]["status"] == "released_to_warehouse"
    assert [(t.to_status, t.actor) for t in orders.transitions] == [("allocated", "allocation"),
                                                                    ("released_to_warehouse", "warehouse")]
