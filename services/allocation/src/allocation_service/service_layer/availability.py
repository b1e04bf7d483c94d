"""What allocation tells others about supply: ATP per node (soft reservations and inbound included) and the dates
backordered lines are promised. Used inside the transactions that change stock, orders, soft reservations or
inbound supply, under their position locks."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from allocation_service.domain.book import AllocationBook
from allocation_service.domain.stock import StockKey, StockPosition
from allocation_service.domain.supply import InboundPlan, QueuedBackorder, plan_inbound, promise_change_reason, queued
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.contracts import ALLOCATION_EVENTS, INVENTORY_AVAILABILITY
from ecomops_common.contracts.allocation import BackorderPromiseChanged
from ecomops_common.contracts.inventory import (
    AvailabilityChanged,
    ChannelAvailability,
    InboundSupply,
    NodeAvailability,
)
from ecomops_common.envelope import new_event
from ecomops_common.handlers import Received

SOURCE = "allocation"
NO_INBOUND = InboundPlan({}, {})
QueueEntries = dict[tuple[str, str], tuple[QueuedBackorder, date | None]]  # (order, line) -> entry, promised date


def caused_by(cause: Received | None) -> dict[str, str | None]:
    """The ids an event takes from the message that caused it; none for an admin's change."""
    if cause is None:
        return {}
    return {"causation_id": cause.event_id, "correlation_id": cause.correlation_id, "traceparent": cause.traceparent}


async def inbound_plan(uow: AllocationUnitOfWork, skus: Iterable[str], book: AllocationBook | None = None
                       ) -> tuple[InboundPlan, QueueEntries]:
    """The inbound of these SKUs after their backorder queues, and the queues. With a book (a change of stock or
    orders), only the SKUs with inbound on its way and the book's orders as it has them now (saved or not): one
    query when none has inbound, the usual case. Without (a change of supply, a read), every SKU's queue."""
    skus = set(skus)
    inbound = await uow.allocation.inbound_of(skus)
    if book is not None and not inbound:
        return NO_INBOUND, {}
    supplied = {line.sku for line in inbound} if book is not None else skus
    entries: QueueEntries = {(entry.order_id, entry.line_id): (entry, promised)
                             for entry, promised in await uow.allocation.backorder_queue(supplied)
                             if book is None or entry.order_id not in book.orders}
    for order in book.orders.values() if book is not None else ():
        for b in order.backorders:
            if b.sku in supplied:
                entries[order.order_id, b.line_id] = (queued(order.demand, b.line_id, b.sku, b.qty),
                                                      order.promises.get(b.line_id))
    return plan_inbound([entry for entry, _ in entries.values()], inbound), entries


async def refresh_promises(uow: AllocationUnitOfWork, plan: InboundPlan, entries: QueueEntries,
                           causes: Mapping[str, tuple[str, Received | None]], book: AllocationBook | None,
                           now: datetime) -> None:
    """Gives the queued lines of these SKUs (sku -> (cause, message)) their promised dates; a line that waited
    before and whose date moved is announced (BackorderPromiseChanged), a new one is in its order's event."""
    saved_with_order = {order.order_id for order in book.orders_to_save()} if book is not None else set()
    written: dict[tuple[str, str], date | None] = {}
    for (order_id, line_id), (entry, previous) in sorted(entries.items()):
        if entry.sku not in causes or plan.promises.get((order_id, line_id)) == previous:
            continue
        promised = plan.promises.get((order_id, line_id))
        order = book.orders.get(order_id) if book is not None else None
        if order is not None:
            order.promises.pop(line_id, None)
            if promised is not None:
                order.promises[line_id] = promised
        if order_id not in saved_with_order:
            written[order_id, line_id] = promised
        if book is not None and not book.was_backordered(order_id, line_id, entry.sku):
            continue
        cause, message = causes[entry.sku]
        uow.emit(new_event("BackorderPromiseChanged", 1, SOURCE, "order", order_id, BackorderPromiseChanged(
            order_id=order_id, line_id=line_id, sku=entry.sku, quantity=entry.qty, previous_date=previous,
            promised_date=promised, reason=promise_change_reason(previous, promised, cause), changed_at=now),
            **caused_by(message)), ALLOCATION_EVENTS)
    await uow.allocation.set_promises(written)


def availability(sku: str, positions: Iterable, rules_by_channel, now: datetime,
                 inbound: Mapping[StockKey, Mapping[date, int]]) -> AvailabilityChanged:
    """ATP of one SKU per node, in total, and per channel with rules of its own (after protection), with the
    inbound no backorder takes per node. `positions` may include other SKUs' positions."""
    at_nodes = sorted((p for p in positions if p.sku == sku), key=lambda p: p.node)
    per_channel = {channel: sum(rules.channel_available(p) for p in at_nodes)
                   for channel, rules in sorted(rules_by_channel.items())}
    return AvailabilityChanged(
        sku=sku, atp=sum(p.atp for p in at_nodes), as_of=now,
        nodes=[NodeAvailability(node=p.node, on_hand=p.on_hand, reserved=p.reserved, safety_stock=p.safety_stock,
                                soft_reserved=p.soft_reserved, atp=p.atp,
                                inbound=[InboundSupply(expected_date=day, quantity=units)
                                         for day, units in sorted(inbound.get(p.key, {}).items())])
               for p in at_nodes],
        channels=[ChannelAvailability(channel=c, atp=atp) for c, atp in per_channel.items()])


def announce_availability(uow: AllocationUnitOfWork, skus: Iterable[str], positions: Iterable[StockPosition],
                          rules_by_channel, plan: InboundPlan, now: datetime) -> None:
    """AvailabilityChanged for each of these SKUs, from positions that include theirs."""
    skus = set(skus)
    by_sku: dict[str, list[StockPosition]] = {sku: [] for sku in skus}
    for position in positions:
        if position.sku in skus:
            by_sku[position.sku].append(position)
    for sku in sorted(skus):
        uow.emit(new_event("AvailabilityChanged", 1, SOURCE, "sku", sku,
                           availability(sku, by_sku[sku], rules_by_channel, now, plan.remaining)),
                 INVENTORY_AVAILABILITY)
