"""Inbound supply (open purchase orders and transfers), the dates backorders are promised from it, and ATP by date.
Plain Python: no framework, no I/O; the supply and warehouse services' statuses are their words, compared as strings.

Backorders wait in one queue per SKU, in the order stock would fill them (domain.priority.priority_key, then the
order's line order). Each line in turn takes the earliest inbound units not taken by the lines before it, at any
node, so its promised date is the earliest date by which inbound covers it after every earlier line. A line that
the inbound cannot cover takes what is left and has no date; so have the lines behind it: the queue is not jumped.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from allocation_service.domain.priority import priority_key
from allocation_service.domain.sourcing import OrderDemand
from allocation_service.domain.stock import StockKey

# A purchase order brings its open units while it is one of these; draft, closed and cancelled ones bring none.
OPEN_PURCHASE_ORDER_STATUSES = frozenset({"approved", "sent", "partially_received"})
QUEUE_CHANGED = "queue_changed"  # a backorder earlier in the queue now takes the supply a line was promised from


@dataclass(frozen=True)
class InboundLine:
    """One line of a purchase order or transfer: `open` units expected at `node` on `expected_date`."""

    source: str  # purchase_order:<po_id> or transfer:<reference>
    line_id: str
    sku: str
    node: str
    expected_date: date
    ordered: int
    received: int
    open: int


def purchase_order_supply(po_id: str, status: str, node: str,
                          lines: Iterable[tuple[str, str, int, int, date]]) -> list[InboundLine]:
    """Lines (line id, sku, quantity, received, expected date) of a purchase order in `status`."""
    brings = status in OPEN_PURCHASE_ORDER_STATUSES
    return [InboundLine(f"purchase_order:{po_id}", line_id, sku, node, expected, quantity, received,
                        max(0, quantity - received) if brings else 0)
            for line_id, sku, quantity, received, expected in lines]


def transfer_supply(reference: str, to_node: str, expected_date: date,
                    lines: Sequence[tuple[str, int, int]]) -> list[InboundLine]:
    """Lines (sku, quantity sent, received) of a transfer: what is not received yet comes to `to_node`."""
    return [InboundLine(f"transfer:{reference}", str(index), sku, to_node, expected_date, quantity, received,
                        max(0, quantity - received))
            for index, (sku, quantity, received) in enumerate(lines, start=1)]


class SupplyCause(StrEnum):
    """Why a SKU's inbound changed, for the promises it moves later (earlier ones are always supply_earlier)."""

    cancelled = "supply_cancelled"  # the purchase order was cancelled (or went back to draft)
    short = "supply_short"  # fewer units will come than were open, beyond those received
    moved = "supply_delayed"  # dates moved or units were added


def supply_cause(before: Sequence[InboundLine], after: Sequence[InboundLine], cancelled: bool) -> SupplyCause | None:
    """How one source's lines of one SKU changed; None when only receipts took units off (the stock arrives on
    its own topic and fills backorders, so promises stay as they are rather than flap)."""
    old = {line.line_id: line for line in before}
    new = {line.line_id: line for line in after}
    receipts_only = True
    for line_id in old.keys() | new.keys():
        was, now = old.get(line_id), new.get(line_id)
        open_before, received_before = (was.open, was.received) if was else (0, 0)
        open_after, received_after = (now.open, now.received) if now else (0, received_before)
        moved = was is not None and now is not None and open_after and was.expected_date != now.expected_date
        if open_after != max(0, open_before - (received_after - received_before)) or moved:
            receipts_only = False
    if receipts_only:
        return None
    if cancelled:
        return SupplyCause.cancelled
    received = sum(line.received for line in after) - sum(line.received for line in before)
    if sum(line.open for line in after) < sum(line.open for line in before) - received:
        return SupplyCause.short
    return SupplyCause.moved


def promise_change_reason(previous: date | None, promised: date | None, cause: str) -> str:
    """Why a line's promised date moved: earlier is supply_earlier; later (or none any more) says the cause."""
    if cause == QUEUE_CHANGED:
        return QUEUE_CHANGED
    later = promised is None or (previous is not None and promised > previous)
    return cause if later else "supply_earlier"


@dataclass(frozen=True)
class QueuedBackorder:
    order_id: str
    line_id: str
    sku: str
    qty: int
    rank: tuple  # the place in the queue: priority_key of the order, then the line's position in it


def queued(demand: OrderDemand, line_id: str, sku: str, qty: int) -> QueuedBackorder:
    """A backordered line in its place: its order's urgency, then its position among the order's lines."""
    position = next((i for i, line in enumerate(demand.lines) if line.line_id == line_id), len(demand.lines))
    return QueuedBackorder(demand.order_id, line_id, sku, qty, (*priority_key(demand), position))


@dataclass(frozen=True)
class InboundPlan:
    promises: dict[tuple[str, str], date | None]  # (order id, line id) -> promised date
    remaining: dict[StockKey, dict[date, int]]  # inbound units no backorder takes, per SKU×node and date


def plan_inbound(queue: Iterable[QueuedBackorder], inbound: Iterable[InboundLine]) -> InboundPlan:
    """Promised dates of the queued lines, and the inbound left for new demand (see the module's docstring)."""
    lots: dict[str, dict[tuple[date, str], int]] = defaultdict(lambda: defaultdict(int))
    for line in inbound:
        if line.open:
            lots[line.sku][line.expected_date, line.node] += line.open
    left = {sku: [[when, node, units] for (when, node), units in sorted(by_lot.items())]
            for sku, by_lot in lots.items()}
    promises: dict[tuple[str, str], date | None] = {}
    for entry in sorted(queue, key=lambda e: (e.sku, e.rank, e.line_id)):
        need, promised = entry.qty, None
        for lot in left.get(entry.sku, ()):
            take = min(need, lot[2])
            if take:
                lot[2] -= take
                need -= take
                promised = lot[0]
            if not need:
                break
        promises[entry.order_id, entry.line_id] = None if need else promised
    remaining: dict[StockKey, dict[date, int]] = defaultdict(dict)
    for sku, sku_lots in left.items():
        for when, node, units in sku_lots:
            if units:
                remaining[sku, node][when] = units
    return InboundPlan(promises, dict(remaining))


@dataclass(frozen=True)
class DatedAtp:
    day: date
    inbound: int  # units arriving that day that no backorder takes (overdue ones count on the first day)
    atp: int  # available to promise by the end of that day


def atp_by_date(atp_today: int, inbound: dict[date, int], first_day: date, days: int) -> list[DatedAtp]:
    """ATP at one SKU×node for `days` days from `first_day`: today's ATP plus the free inbound arrived so far."""
    overdue = sum(units for when, units in inbound.items() if when < first_day)
    dated, atp = [], atp_today
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        arriving = inbound.get(day, 0) + (overdue if offset == 0 else 0)
        atp += arriving
        dated.append(DatedAtp(day, arriving, atp))
    return dated
