"""What one transaction holds locked: stock positions and the orders it may change, and the commands on them.

Plain Python: no framework, no I/O. The service layer loads a book (locking positions first, in key order,
then orders), runs commands, and saves what changed: positions, each changed order's whole allocation, and
exceptions. Every command keeps reserved == the sum of the orders' reservations for the positions it holds.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from allocation_service.domain.priority import fill_backorders, priority_key
from allocation_service.domain.rules import SourcingRules, rules_for
from allocation_service.domain.shrinkage import AllocationException, Reservation, resolve_shrinkage
from allocation_service.domain.soft_reservations import SoftHold
from allocation_service.domain.sourcing import (
    Allocation,
    AllocationPlan,
    Backorder,
    DemandLine,
    OrderDemand,
    apply_plan,
    plan_allocation,
)
from allocation_service.domain.stock import InsufficientStock, StockKey, StockPosition


class OrderAllocationStatus(StrEnum):
    """An order as allocation sees it; `held` and `pending` have nothing reserved yet."""

    held = "held"  # placed on hold (payment, fraud, address): waits for the order service's release
    pending = "pending"  # waiting for allocation
    allocated = "allocated"
    partially_allocated = "partially_allocated"
    backordered = "backordered"
    released = "released"  # cancelled or rejected: nothing reserved, and never again


ACTIVE = frozenset({OrderAllocationStatus.allocated, OrderAllocationStatus.partially_allocated,
                    OrderAllocationStatus.backordered})


@dataclass
class OrderAllocation:
    demand: OrderDemand
    status: OrderAllocationStatus
    revision: int = 0
    reservations: list[Allocation] = field(default_factory=list)
    backorders: list[Backorder] = field(default_factory=list)
    fulfilled: list[Allocation] = field(default_factory=list)  # picked by the warehouse: no longer reserved
    promises: dict[str, date] = field(default_factory=dict)  # line id -> promised date of its backordered units

    @property
    def order_id(self) -> str:
        return self.demand.order_id

    def settle(self) -> None:
        """Status from what is held: merges rows of the same line and node, drops empty ones."""
        reserved: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in self.reservations:
            reserved[r.line_id, r.sku, r.node] += r.qty
        waiting: dict[tuple[str, str], int] = defaultdict(int)
        for b in self.backorders:
            waiting[b.line_id, b.sku] += b.qty
        self.reservations = [Allocation(line, sku, node, qty) for (line, sku, node), qty in reserved.items() if qty]
        picked: dict[tuple[str, str, str], int] = defaultdict(int)
        for f in self.fulfilled:
            picked[f.line_id, f.sku, f.node] += f.qty
        self.fulfilled = [Allocation(line, sku, node, qty) for (line, sku, node), qty in picked.items()]
        self.backorders = [Backorder(line, sku, qty) for (line, sku), qty in waiting.items() if qty]
        self.promises = {line: day for line, day in self.promises.items() if any(b.line_id == line
                                                                                  for b in self.backorders)}
        if self.status is OrderAllocationStatus.released:
            return
        plan = AllocationPlan(self.order_id, tuple(self.reservations + self.fulfilled), tuple(self.backorders))
        self.status = OrderAllocationStatus(plan.outcome.value)


class AllocationBook:
    def __init__(self, positions: Mapping[StockKey, StockPosition], locked_skus: Iterable[str],
                 orders: Iterable[OrderAllocation], rules_by_channel: Mapping[str, SourcingRules]) -> None:
        # locked_skus: every node of these SKUs is locked, stocked or not; a SKU never stocked has no positions.
        self.locked_skus = set(locked_skus)
        self.positions = dict(positions)
        self._keys_by_sku: dict[str, list[StockKey]] = defaultdict(list)
        for key in self.positions:
            self._keys_by_sku[key[0]].append(key)
        self.orders = {order.order_id: order for order in orders}
        self.rules_by_channel = rules_by_channel
        self.changed: dict[str, str] = {}  # order id -> why its allocation changed (the latest reason)
        self._picked: set[str] = set()  # orders with units fulfilled: saved, but their allocation is unchanged
        self.exceptions: list[AllocationException] = []
        self._loaded = {key: _counts(position) for key, position in self.positions.items()}
        self._loaded_backorders = {order.order_id: _waiting(order) for order in self.orders.values()}

    def positions_of(self, skus: Iterable[str]) -> dict[StockKey, StockPosition]:
        """The positions of these SKUs (the same objects): planning looks at a few SKUs, not every one locked."""
        self._require_locked(skus)
        return {key: self.positions[key] for sku in skus for key in self._keys_by_sku.get(sku, ())}

    def changed_positions(self) -> list[StockPosition]:
        return [p for key, p in self.positions.items() if _counts(p) != self._loaded.get(key)]

    def changed_orders(self) -> list[OrderAllocation]:
        """Orders whose allocation changed: each is announced."""
        return [self.orders[order_id] for order_id in self.changed]

    def was_backordered(self, order_id: str, line_id: str, sku: str) -> bool:
        """Whether the line waited for stock before this transaction (an order not in the book: assumed so)."""
        loaded = self._loaded_backorders.get(order_id)
        return loaded is None or (line_id, sku) in loaded

    def joined_backorder_skus(self) -> set[str]:
        """SKUs whose backorder queue gained units: a new backordered line, or more units of one."""
        skus = set()
        for order_id in self.changed:
            loaded = self._loaded_backorders.get(order_id, {})
            skus |= {sku for (line_id, sku), qty in _waiting(self.orders[order_id]).items()
                     if qty > loaded.get((line_id, sku), 0)}
        return skus

    def orders_to_save(self) -> list[OrderAllocation]:
        return [self.orders[order_id] for order_id in dict.fromkeys([*self.changed, *self._picked])]

    def fulfil(self, order_id: str, line_id: str, sku: str, node: str, qty: int) -> int:
        """The warehouse picked units of a reservation: they stop being reserved (and stop being re-sourced).
        Returns the units taken off the reservation (never more than it holds)."""
        self._require_locked([sku])
        order = self.orders.get(order_id)
        if order is None:
            return 0
        held = sum(r.qty for r in order.reservations if (r.line_id, r.sku, r.node) == (line_id, sku, node))
        taken = min(qty, held)
        if taken:
            self.positions[sku, node].release(taken)
            # A negative row cancels units of the reservation; settle() nets it out.
            order.reservations.append(Allocation(line_id, sku, node, -taken))
            order.fulfilled.append(Allocation(line_id, sku, node, taken))
            order.settle()
            self._picked.add(order_id)
        return taken

    def add_order(self, order: OrderAllocation) -> None:
        self.orders[order.order_id] = order
        self._loaded_backorders.setdefault(order.order_id, {})

    def hold_softly(self, holds: Iterable[SoftHold]) -> None:
        """A soft reservation's units leave ATP; all or nothing (the holds were planned on these positions)."""
        holds = list(holds)
        self._require_locked(h.sku for h in holds)
        for hold in holds:
            if hold.qty > self.positions[hold.sku, hold.node].atp:
                raise InsufficientStock(hold.sku, hold.node, hold.qty, self.positions[hold.sku, hold.node].atp)
        for hold in holds:
            self.positions[hold.sku, hold.node].hold_softly(hold.qty)

    def release_soft(self, holds: Iterable[SoftHold]) -> None:
        """A soft reservation's units return to ATP. Call fill_backorders after the last change."""
        holds = list(holds)
        self._require_locked(h.sku for h in holds)
        for hold in holds:
            self.positions[hold.sku, hold.node].release_soft(hold.qty)

    def release_hold(self, order_id: str) -> None:
        """The order service released the order's last hold: it may be allocated now."""
        order = self.orders[order_id]
        if order.status is OrderAllocationStatus.held:
            order.status = OrderAllocationStatus.pending

    def allocate(self, order_ids: Iterable[str], reason: str) -> None:
        """Reserves pending orders, most urgent first, so express and vip orders win when stock is short."""
        waiting = [self.orders[i] for i in set(order_ids) if self.orders[i].status is OrderAllocationStatus.pending]
        for order in sorted(waiting, key=lambda o: priority_key(o.demand)):
            positions = self.positions_of({line.sku for line in order.demand.lines})
            plan = plan_allocation(order.demand, positions, self._rules(order))
            apply_plan(plan, positions)
            order.reservations, order.backorders = list(plan.allocations), list(plan.backordered)
            self._changed(order, reason)

    def release(self, order_id: str, reason: str) -> None:
        """Gives back everything the order holds; it will never be allocated again."""
        order = self.orders[order_id]
        if order.status is OrderAllocationStatus.released:
            return
        self._require_locked(r.sku for r in order.reservations)
        for r in order.reservations:
            self.positions[r.sku, r.node].release(r.qty)
        order.reservations, order.backorders = [], []
        order.status = OrderAllocationStatus.released
        self._changed(order, reason)

    def set_stock(self, sku: str, node: str, on_hand: int, safety_stock: int | None = None,
                  short_lines: Iterable[tuple[str, str]] = ()) -> None:
        """Records a count, receipt or safety stock. Stock that no longer backs the reservations is taken back
        from the lines a picker found short (`short_lines`: order id, line id), then from the newest orders,
        and re-sourced, and an exception records it. The orders holding units at the
        node must be in the book. Call fill_backorders after the last change."""
        self._require_locked([sku])
        if (sku, node) not in self.positions:
            self.positions[sku, node] = StockPosition(sku, node, on_hand=0)
            self._keys_by_sku[sku].append((sku, node))
        position = self.positions[sku, node]
        if safety_stock is not None:
            position.safety_stock = safety_stock
        if on_hand >= position.reserved:
            position.set_on_hand(on_hand)
            return
        at_node = [(order, r) for order in self.orders.values() for r in order.reservations
                   if (r.sku, r.node) == (sku, node)]
        outcome = resolve_shrinkage(sku, node, on_hand, self.positions,
                                    [Reservation(order.demand, r) for order, r in at_node], self.rules_by_channel,
                                    set(short_lines))
        for take in outcome.taken_back:
            # A negative row cancels units of the reservation; settle() nets it out.
            self.orders[take.order_id].reservations.append(Allocation(take.line_id, take.sku, take.node, -take.qty))
        for plan in outcome.replans:
            order = self.orders[plan.order_id]
            order.reservations += plan.allocations
            order.backorders += plan.backordered
            self._changed(order, "shrinkage")
        if outcome.exception is not None:
            self.exceptions.append(outcome.exception)

    def fill_backorders(self, skus: Iterable[str]) -> None:
        """Gives stock of these SKUs to the backordered orders in the book, most urgent first.

        Only open lines on locked SKUs are planned; an all-or-nothing channel's order with open lines on other
        SKUs waits for a change of those, so it never ships half.
        """
        skus = set(skus) & self.locked_skus
        queue = []
        for order in self.orders.values():
            if order.status not in ACTIVE or not any(b.sku in skus for b in order.backorders):
                continue
            lines = [DemandLine(b.line_id, b.sku, b.qty) for b in order.backorders if b.sku in self.locked_skus]
            if self._rules(order).short_stock == "backorder" and len(lines) < len(order.backorders):
                continue
            queue.append((order.demand, lines))
        if not queue:  # the common case; planning would copy every locked position for nothing
            return
        for plan in fill_backorders(queue, self.positions_of(skus | {line.sku for _, lines in queue for line in lines}),
                                    self.rules_by_channel):
            if not plan.allocations:
                continue
            apply_plan(plan, self.positions)
            order = self.orders[plan.order_id]
            order.reservations += plan.allocations
            # The plan covered every open line on locked SKUs: what it could not place is still open.
            order.backorders = [b for b in order.backorders if b.sku not in self.locked_skus] + list(plan.backordered)
            self._changed(order, "backorder_filled")

    def _changed(self, order: OrderAllocation, reason: str) -> None:
        order.settle()
        if order.order_id not in self.changed:
            order.revision += 1
        self.changed[order.order_id] = reason

    def _rules(self, order: OrderAllocation) -> SourcingRules:
        return rules_for(order.demand.channel, self.rules_by_channel)

    def _require_locked(self, skus: Iterable[str]) -> None:
        missing = set(skus) - self.locked_skus
        if missing:
            raise RuntimeError(f"positions of {sorted(missing)} are not locked by this transaction")


def _counts(position: StockPosition) -> tuple[int, int, int, int]:
    return position.on_hand, position.reserved, position.safety_stock, position.soft_reserved


def _waiting(order: OrderAllocation) -> dict[tuple[str, str], int]:
    waiting: dict[tuple[str, str], int] = defaultdict(int)
    for b in order.backorders:
        waiting[b.line_id, b.sku] += b.qty
    return dict(waiting)
