"""Soft reservations for carts and quotes: held, read, released by a caller, expired by the sweeper. Each change
locks the SKUs' positions (sorted) before the reservation, like every other change of ATP, and republishes the
SKUs' availability; units given back go to backorders first, like a cancelled order's."""

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from allocation_service.domain.rules import rules_for
from allocation_service.domain.soft_reservations import (
    SoftReservation,
    SoftReservationStatus,
    plan_soft_holds,
)
from allocation_service.service_layer.allocation import open_book, save_and_announce
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.errors import Conflict, FieldProblem, Invalid, NotFound
from ecomops_common.ids import new_id

log = logging.getLogger(__name__)


class SoftReservationUnknown(NotFound):
    pass


class InvalidSoftReservation(Invalid):
    code = "invalid_soft_reservation"


async def hold(uow: AllocationUnitOfWork, reservation_id: str | None, channel: str, node: str | None,
               lines: Sequence[tuple[str, int]], expires_in_s: int, actor: str) -> SoftReservation:
    """Holds every line or nothing (ShortOfStock, 409, naming the SKUs short). A resent request (same id, same
    channel, node and lines) answers the reservation made, as it is now; one asking otherwise is a conflict."""
    problems = [FieldProblem(f"lines.{index}.sku", f"{sku} is listed before") for index, (sku, _) in
                enumerate(lines) if sku in {s for s, _ in lines[:index]}]
    if node is not None and node not in await uow.allocation.known_nodes():
        problems.append(FieldProblem("node", f"unknown node {node!r}"))
    if problems:
        raise InvalidSoftReservation(problems)
    if reservation_id is not None:
        existing = await uow.allocation.soft_reservations([reservation_id], lock=False)
        if existing:
            return _resent(existing[0], channel, node, lines)
    now = datetime.now(UTC)
    skus = {sku for sku, _ in lines}
    book, _ = await open_book(uow, skus, set(), _nothing)
    holds = plan_soft_holds(lines, book.positions_of(skus), rules_for(channel, book.rules_by_channel), node)
    reservation = SoftReservation(reservation_id or new_id(), channel, node, tuple(lines), tuple(holds),
                                  SoftReservationStatus.active, now + timedelta(seconds=expires_in_s), actor, now)
    if not await uow.allocation.add_soft_reservation(reservation):  # made meanwhile by the same request, resent
        await uow.rollback()
        return _resent((await uow.allocation.soft_reservations([reservation.reservation_id], lock=False))[0],
                       channel, node, lines)
    book.hold_softly(holds)
    await save_and_announce(uow, book, set(), {}, {}, now)
    return reservation


def _resent(reservation: SoftReservation, channel: str, node: str | None,
            lines: Sequence[tuple[str, int]]) -> SoftReservation:
    if not reservation.asks_the_same(channel, node, lines):
        raise Conflict(f"soft reservation {reservation.reservation_id} exists with other channel, node or lines")
    return reservation


async def get(uow: AllocationUnitOfWork, reservation_id: str) -> SoftReservation:
    found = await uow.allocation.soft_reservations([reservation_id], lock=False)
    if not found:
        raise SoftReservationUnknown(f"soft reservation {reservation_id} is unknown")
    return found[0]


async def release(uow: AllocationUnitOfWork, reservation: SoftReservation, actor: str) -> SoftReservation:
    """A caller gives the units back; an ended reservation stays as it ended (releasing again is a no-op)."""
    ended = await end(uow, [reservation.reservation_id], SoftReservationStatus.released, actor)
    return ended[0] if ended else await get(uow, reservation.reservation_id)


async def expire_due(uow: AllocationUnitOfWork, batch_size: int = 500) -> int:
    """The sweeper: gives back the units of soft reservations whose time is up, oldest first; returns how many."""
    due = await uow.allocation.soft_reservations_due(datetime.now(UTC), batch_size)
    if not due:
        return 0
    return len(await end(uow, due, SoftReservationStatus.expired, "system:soft-reservation-expiry"))


async def end(uow: AllocationUnitOfWork, reservation_ids: Iterable[str], status: SoftReservationStatus,
              actor: str) -> list[SoftReservation]:
    """Ends the active ones of these soft reservations (in one transaction) and commits; answers those ended.
    Their units go to the SKUs' backorders first, then back to ATP."""
    now = datetime.now(UTC)
    skus = {hold.sku for r in await uow.allocation.soft_reservations(reservation_ids, lock=False) for hold in r.holds}
    waiting = await uow.allocation.orders_backordered_on(skus)
    skus |= await uow.allocation.skus_of_orders(waiting)
    book, _ = await open_book(uow, skus, set(), lambda: uow.allocation.orders_backordered_on(skus))
    ended = []
    for reservation in await uow.allocation.soft_reservations(reservation_ids, lock=True):
        if reservation.status is not SoftReservationStatus.active:
            continue  # ended meanwhile (converted, released, expired)
        book.release_soft(reservation.holds)
        reservation.status, reservation.ended_by, reservation.ended_at = status, actor, now
        ended.append(reservation)
    await uow.allocation.end_soft_reservations(ended)
    book.fill_backorders({hold.sku for r in ended for hold in r.holds})
    await save_and_announce(uow, book, set(), {}, {}, now)
    if ended:
        log.info("soft reservations %s: %s", status.value, ", ".join(r.reservation_id for r in ended))
    return ended


async def _nothing() -> set[str]:
    return set()

