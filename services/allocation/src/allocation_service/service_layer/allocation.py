"""Use cases that change reservations: order events, stock levels. Each runs in one transaction that locks
the positions of every SKU it may touch (sorted), then the orders, changes an AllocationBook, saves it and
announces the result: the orders' new allocations, exceptions and the SKUs' availability."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Counter

from allocation_service.domain.book import AllocationBook, OrderAllocation, OrderAllocationStatus
from allocation_service.domain.requests import OrderRequests
from allocation_service.domain.soft_reservations import SoftReservationStatus
from allocation_service.domain.sourcing import OrderDemand
from allocation_service.domain.stock import StockKey, is_stale
from allocation_service.domain.supply import QUEUE_CHANGED
from allocation_service.service_layer.availability import (
    SOURCE,
    announce_availability,
    caused_by,
    inbound_plan,
    refresh_promises,
)
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.contracts import ALLOCATION_EVENTS
from ecomops_common.contracts.allocation import (
    AllocatedLine,
    AllocationExceptionRaised,
    AllocationReleased,
    AllocationStatus,
    BackorderedLine,
    OrderAllocated,
    OrderBackordered,
)
from ecomops_common.contracts.inventory import StockLevelChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.envelope import new_event
from ecomops_common.errors import NotFound
from ecomops_common.handlers import Received
from ecomops_common.ids import new_id

log = logging.getLogger(__name__)
RESULTS = Counter("ecomops_allocation_results_total", "Orders' allocations announced, by the allocation's status "
                  "(allocated, partially_allocated, backordered, released), counted once committed", ["status"])


class OrderUnknown(NotFound):
    """No OrderPlaced of this order was handled (or not yet)."""


@dataclass(frozen=True)
class StockLevel:
    sku: str
    node: str
    on_hand: int | None = None  # None: keep
    safety_stock: int | None = None  # None: keep
    version: int | None = None  # the warehouse's number for the level (see is_stale); None: an admin's level
    cause: Received | None = None  # the warehouse's message; None: an admin's level
    fulfilled: tuple[tuple[str, str, int], ...] = ()  # (order id, line id, units) picked in this change
    short_picked: tuple[tuple[str, str, int], ...] = ()  # (order id, line id, units) not found: re-source first


def demand_of(order: OrderPlaced) -> OrderDemand:
    return OrderDemand(
        order_id=order.order_id, channel=order.channel,
        lines=[(line.line_id, line.sku, line.quantity) for line in order.lines],
        ship_to_country=order.ship_to.country or "", service_level=order.service_level.value,
        customer_tier=order.customer.tier.value, placed_at=order.placed_at, promised_date=order.promised_date,
    )


async def take_order_events(uow: AllocationUnitOfWork,
                            batch: list[Received[OrderPlaced | OrderStatusChanged]]) -> None:
    """order.events.v1: what the batch asks of allocation (the domain decides), done in one transaction; the
    events each order's change causes carry the latest message that asked something of it."""
    requests = OrderRequests()
    causes: dict[str, Received] = {}
    for received in batch:
        message = received.message
        if isinstance(message, OrderPlaced):
            asks = requests.order_placed(demand_of(message), message.status.value, message.reservation_id)
        else:
            asks = requests.status_changed(message.order_id, message.to_status.value)
        if asks:
            causes[message.order_id] = received
    await process_order_requests(uow, requests, causes)


async def take_stock_levels(uow: AllocationUnitOfWork, batch: list[Received[StockLevelChanged]]) -> None:
    """inventory.stock.v1: the warehouse's levels, in one transaction."""
    await set_stock_levels(uow, [
        StockLevel(r.message.sku, r.message.node, on_hand=r.message.sellable_on_hand, version=r.message.version,
                   cause=r, fulfilled=_line_units(r.message.fulfilled),
                   short_picked=_line_units(r.message.short_picked)) for r in batch])


def _line_units(units) -> tuple[tuple[str, str, int], ...]:
    return tuple((u.order_id, u.line_id, u.quantity) for u in units)


async def process_order_requests(uow: AllocationUnitOfWork, requests: OrderRequests,
                                 causes: Mapping[str, Received]) -> None:
    """Stores new orders, releases cancelled ones (their stock first goes to backorders), allocates the rest.

    A release of an order not placed yet is remembered, and its OrderPlaced, arriving late (redriven from
    the dead-letter topic), reserves nothing. A new order naming an active soft reservation of its channel
    converts it: its units are released just before the order is allocated, so the order may take them.
    """
    now = datetime.now(UTC)
    placed_ids = [demand.order_id for demand, _ in requests.placed]
    known = await uow.allocation.existing_order_ids([*placed_ids, *requests.to_allocate, *requests.to_release])
    released_before = await uow.allocation.released_before_placement(set(placed_ids) - known)
    for order_id in sorted(released_before):
        log.warning("order %s was placed after its release (cancelled or rejected); nothing reserved", order_id)
    new_orders = {demand.order_id: OrderAllocation(demand, OrderAllocationStatus.held if held
                                                   else OrderAllocationStatus.pending)
                  for demand, held in requests.placed if demand.order_id not in known | released_before}
    existing = (requests.to_allocate | set(requests.to_release)) & known
    await uow.allocation.remember_releases_before_placement(
        {order_id: reason for order_id, reason in requests.to_release.items()
         if order_id not in known and order_id not in new_orders}, now)
    for order_id in requests.to_allocate - known - set(new_orders):
        log.warning("order %s is unknown to allocation (its OrderPlaced was never handled); ignored", order_id)

    converting = {}  # reservation id -> the first new order naming it
    for order_id, reservation_id in requests.converting.items():
        if order_id in new_orders:
            converting.setdefault(reservation_id, order_id)
    soft_skus = {hold.sku for reservation in await uow.allocation.soft_reservations(converting, lock=False)
                 for hold in reservation.holds}
    released_skus = await uow.allocation.skus_of_orders(set(requests.to_release) & known)
    freed_skus = released_skus | soft_skus
    waiting_on_freed = await uow.allocation.orders_backordered_on(freed_skus)
    skus = ({line.sku for order in new_orders.values() for line in order.demand.lines} | soft_skus
            | await uow.allocation.skus_of_orders(existing | waiting_on_freed))
    book, _ = await open_book(uow, skus, existing, lambda: uow.allocation.orders_backordered_on(freed_skus))
    for order in new_orders.values():
        book.add_order(order)

    for order_id, reason in requests.to_release.items():
        if order_id in book.orders:
            book.release(order_id, reason)
    book.fill_backorders(released_skus)
    for order_id in requests.to_allocate & set(book.orders):
        book.release_hold(order_id)
    await _convert_soft_reservations(uow, book, converting, now)
    book.allocate([i for i in [*new_orders, *requests.to_allocate] if i in book.orders], "placed")
    book.fill_backorders(soft_skus)  # what the converting orders left of their soft reservations
    await save_and_announce(uow, book, set(new_orders), {}, causes, now)


async def _convert_soft_reservations(uow: AllocationUnitOfWork, book: AllocationBook, converting: dict[str, str],
                                     now: datetime) -> None:
    """Releases the soft reservations new orders convert (reservation id -> order id): active ones of the
    order's channel only; an expired, ended or foreign one converts nothing and the order is allocated as any."""
    converted = []
    for reservation in await uow.allocation.soft_reservations(converting, lock=True):
        order = book.orders[converting[reservation.reservation_id]]
        if not reservation.is_active(now) or reservation.channel != order.demand.channel:
            log.info("order %s names soft reservation %s, not active for its channel: nothing converted",
                     order.order_id, reservation.reservation_id)
            continue
        book.release_soft(reservation.holds)
        reservation.status, reservation.order_id = SoftReservationStatus.converted, order.order_id
        reservation.ended_by, reservation.ended_at = f"channel:{order.demand.channel}", now
        converted.append(reservation)
    await uow.allocation.end_soft_reservations(converted)


async def set_stock_levels(uow: AllocationUnitOfWork, levels: list[StockLevel]) -> int:
    """Applies stock counts and safety stock; returns how many were applied (stale ones are not).

    Shrinkage below reservations re-sources the newest orders' units; any increase fills backorders.
    """
    now = datetime.now(UTC)
    keys = {(level.sku, level.node) for level in levels}
    await uow.allocation.add_missing_positions(keys, now)
    skus = {sku for sku, _ in keys}
    # Orders that may be re-sourced or filled: their SKUs are locked too, so the book can plan all their lines.
    picked_for = {order_id for level in levels for order_id, _, _ in (*level.fulfilled, *level.short_picked)}
    related = await uow.allocation.orders_reserved_at(keys) | await uow.allocation.orders_backordered_on(skus)
    skus |= await uow.allocation.skus_of_orders(related)

    async def affected() -> set[str]:  # again under the position locks, now authoritative
        return (await uow.allocation.orders_reserved_at(keys) | await uow.allocation.orders_backordered_on(skus)
                | picked_for)

    book, versions = await open_book(uow, skus, set(), affected)
    applied_versions: dict[StockKey, int] = {}
    applied = 0
    for level in levels:
        key = (level.sku, level.node)
        position = book.positions[key]
        # Picked units leave the reservation before on_hand drops, so a pick is never taken for shrinkage. So do
        # a stale level's: the newer level applied has counted them off on_hand already.
        for order_id, line_id, units in level.fulfilled:
            book.fulfil(order_id, line_id, level.sku, level.node, units)
        version = applied_versions.get(key, versions.get(key))
        if is_stale(level.version, version):
            log.info("stale stock level for %s@%s (version %s, %s applied): ignored", *key, level.version, version)
            continue
        book.set_stock(level.sku, level.node, position.on_hand if level.on_hand is None else level.on_hand,
                       level.safety_stock, [(order_id, line_id) for order_id, line_id, _ in level.short_picked])
        if level.version is not None:
            applied_versions[key] = level.version
        applied += 1
    book.fill_backorders(skus)
    causes = {order_id: levels[-1].cause for order_id in book.changed if levels[-1].cause is not None}
    await save_and_announce(uow, book, set(), applied_versions, causes, now)
    return applied


async def open_book(uow: AllocationUnitOfWork, skus: set[str], order_ids: set[str], more_order_ids
                     ) -> tuple[AllocationBook, dict[StockKey, int | None]]:
    """Locks positions (sorted), then the orders named and those `more_order_ids()` finds under those locks.
    Also returns the version of the warehouse level each position's on_hand was last set from."""
    positions, versions = await uow.allocation.lock_positions(skus)
    orders = await uow.allocation.load_orders(order_ids | await more_order_ids(), lock=True)
    return AllocationBook(positions, skus, orders, await uow.allocation.rules_by_channel()), versions


async def save_and_announce(uow: AllocationUnitOfWork, book: AllocationBook, new_order_ids: set[str],
                            versions: dict[StockKey, int], causes: Mapping[str, Received], now: datetime) -> None:
    """Saves the book and announces it, then commits: changed orders, exceptions, availability of the changed
    positions and, where backorders joined a queue with inbound supply, the promises that moved."""
    joined = book.joined_backorder_skus()
    announced = {position.sku for position in book.changed_positions()}
    plan, queues = await inbound_plan(uow, joined | announced, book)
    await refresh_promises(uow, plan, queues, dict.fromkeys(joined, (QUEUE_CHANGED, None)), book, now)
    await uow.allocation.save(book, new_order_ids, versions, now)
    changed = book.changed_orders()
    for order in changed:
        cause = causes.get(order.order_id)
        event_type, payload = allocation_event(order, book.changed[order.order_id])
        uow.emit(new_event(event_type, 1, SOURCE, "order", order.order_id, payload, **caused_by(cause)),
                 ALLOCATION_EVENTS)
    for exception in book.exceptions:
        exception_id = new_id()
        await uow.allocation.add_exception(exception_id, exception, now)
        uow.emit(new_event("AllocationExceptionRaised", 1, SOURCE, "stock_position",
                           f"{exception.sku}@{exception.node}", AllocationExceptionRaised(
                               exception_id=exception_id, sku=exception.sku, node=exception.node,
                               shortfall=exception.shortfall, affected_order_ids=list(exception.affected_order_ids),
                               raised_at=now)), ALLOCATION_EVENTS)
        log.warning("stock of %s at %s fell %d short of reservations; re-sourced orders %s", exception.sku,
                    exception.node, exception.shortfall, ", ".join(exception.affected_order_ids))
    announce_availability(uow, announced, book.positions.values(), book.rules_by_channel, plan, now)
    await uow.commit()
    for order in changed:
        RESULTS.labels(status=order.status.value).inc()


def allocation_event(order: OrderAllocation, reason: str):
    """Lines are every unit allocated per line and node, reserved or already picked (the warehouse's task)."""
    allocated: dict[tuple[str, str, str], int] = {}
    for unit in [*order.reservations, *order.fulfilled]:
        allocated[unit.line_id, unit.sku, unit.node] = allocated.get((unit.line_id, unit.sku, unit.node), 0) + unit.qty
    lines = [AllocatedLine(line_id=line_id, sku=sku, node=node, quantity=qty)
             for (line_id, sku, node), qty in allocated.items()]
    backordered = [BackorderedLine(line_id=b.line_id, sku=b.sku, quantity=b.qty,
                                   promised_date=order.promises.get(b.line_id)) for b in order.backorders]
    fields = dict(order_id=order.order_id, channel=order.demand.channel, status=AllocationStatus(order.status.value),
                  revision=order.revision, lines=lines, backordered=backordered, reason=reason,
                  service_level=order.demand.service_level)
    if order.status is OrderAllocationStatus.released:
        return "AllocationReleased", AllocationReleased(**fields)
    if order.status is OrderAllocationStatus.backordered:
        return "OrderBackordered", OrderBackordered(**fields)
    return "OrderAllocated", OrderAllocated(**fields)
