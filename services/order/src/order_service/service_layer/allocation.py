"""Allocation results (allocation.events.v1): each order's allocation replaced whole, its status moved on; the
dates backordered lines are promised for, as supply moves them."""

import logging
from datetime import UTC, datetime
from typing import Any

from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.allocation import BackorderPromiseChanged, OrderAllocationChanged
from ecomops_common.contracts.orders import OrderStatus
from ecomops_common.handlers import Received
from order_service.domain.allocation import AllocatedQuantity, AllocationReport, Outcome, ReportedAllocation
from order_service.domain.lifecycle import OrderState, follow_fulfilment
from order_service.service_layer.lifecycle import states_of_locked, status_changed
from order_service.service_layer.unit_of_work import OrderUnitOfWork

log = logging.getLogger(__name__)


def report_of(event: OrderAllocationChanged) -> AllocationReport:
    allocated = (AllocatedQuantity(line.line_id, line.sku, line.node, line.quantity) for line in event.lines)
    backordered = (AllocatedQuantity(line.line_id, line.sku, None, line.quantity, line.promised_date)
                   for line in event.backordered)
    return AllocationReport(event.order_id, event.revision, event.status, event.reason, (*allocated, *backordered))


async def record_allocations(uow: OrderUnitOfWork,
                             events: list[Received[OrderAllocationChanged | BackorderPromiseChanged]]) -> None:
    """A batch of allocation events in one transaction: the allocations, then the promise changes that no
    allocation of their order after them in the batch replaced (the topic is keyed by order id: in order)."""
    updates = [event for event in events if isinstance(event.message, OrderAllocationChanged)]
    if updates:
        await _replace_allocations(uow, updates)
    last_allocation = {event.message.order_id: position for position, event in enumerate(events)
                       if isinstance(event.message, OrderAllocationChanged)}
    await uow.orders.set_promised_dates([
        (event.message.order_id, event.message.line_id, event.message.promised_date)
        for position, event in enumerate(events) if isinstance(event.message, BackorderPromiseChanged)
        and position > last_allocation.get(event.message.order_id, -1)])
    await uow.commit()


async def _replace_allocations(uow: OrderUnitOfWork, updates: list[Received[OrderAllocationChanged]]) -> None:
    """Applies the updates of many orders with a fixed number of statements.

    Each order's updates apply in revision order; one not newer than the stored revision changes nothing.
    An unknown order fails the update, to be dead-lettered and redriven once the order exists.
    """
    now = datetime.now(UTC)
    order_ids = sorted({update.message.order_id for update in updates})
    rows = await uow.orders.lock_with_allocation_revisions(order_ids)
    states = await states_of_locked(uow, order_ids, rows)
    allocations = {order_id: ReportedAllocation(order_id, rows[order_id]["allocation_revision"] or 0)
                   for order_id in order_ids}

    replaced: dict[str, ReportedAllocation] = {}
    for update in sorted(updates, key=lambda u: u.message.revision):
        order_id, state = update.message.order_id, states[update.message.order_id]
        first_new = len(state.changes)
        outcome = allocations[order_id].take(report_of(update.message), state, now)
        if outcome is Outcome.stale:
            continue
        if outcome is Outcome.status_not_applicable:
            log.info("order %s is %s: allocation %s (revision %d) leaves its status as it is", order_id,
                     state.status, update.message.status, update.message.revision)
        replaced[order_id] = allocations[order_id]
        for transition in state.changes[first_new:]:
            if transition.from_status != transition.to_status:  # same status again is for the audit trail only
                uow.emit(status_changed(rows[order_id], state, transition, causation_id=update.event_id,
                                        correlation_id=update.correlation_id, traceparent=update.traceparent),
                         ORDER_EVENTS)
    await _catch_up_with_the_warehouse(uow, rows, states, now)
    await uow.orders.replace_allocations(list(replaced.values()), now)
    await uow.orders.save_statuses([state for state in states.values() if state.changes], now)


async def _catch_up_with_the_warehouse(uow: OrderUnitOfWork, rows: dict[str, dict[str, Any]],
                                       states: dict[str, OrderState], now: datetime) -> None:
    """The warehouse may have reported a stage before this allocation result arrived (another topic):
    orders allocated now follow it at once."""
    allocated = [order_id for order_id, state in states.items()
                 if state.status in (OrderStatus.allocated, OrderStatus.partially_allocated)]
    for order_id, stage in (await uow.orders.fulfilment_stages(allocated)).items():
        state = states[order_id]
        first_new = len(state.changes)
        follow_fulfilment(state, OrderStatus(stage), "warehouse", None, now)
        for transition in state.changes[first_new:]:
            uow.emit(status_changed(rows[order_id], state, transition), ORDER_EVENTS)
