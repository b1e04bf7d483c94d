"""In-memory adapters for service-layer unit tests: the store keeps positions, orders and rules in dicts (copies,
so a book's changes count only once saved), the unit of work is ecomops_common's fake. Locks are no-ops: one
test is one transaction at a time."""

import copy
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from allocation_service.domain.book import AllocationBook, OrderAllocation
from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.shrinkage import AllocationException
from allocation_service.domain.soft_reservations import SoftReservation, SoftReservationStatus
from allocation_service.domain.stock import StockKey, StockPosition
from allocation_service.domain.supply import InboundLine, QueuedBackorder, queued
from ecomops_common.testing.fakes import FakeUnitOfWork


class FakeAllocationStore:
    def __init__(self, positions: Iterable[StockPosition] = (), orders: Iterable[OrderAllocation] = ()) -> None:
        self.positions = {position.key: copy.copy(position) for position in positions}
        self.versions: dict[StockKey, int | None] = {}  # the warehouse level each on_hand was set from
        self.orders = {order.order_id: copy.deepcopy(order) for order in orders}
        self.released_early: dict[str, str] = {}  # order id -> why, for orders not placed yet
        self.rules: dict[str, dict[str, Any]] = {}  # channel -> {"rules", "updated_by", "updated_at"}
        self.exceptions: list[dict[str, Any]] = []
        self.inbound: dict[tuple[str, str], InboundLine] = {}  # (source, line id) -> line
        self.supply_applied: dict[str, tuple[int | None, datetime]] = {}
        self.soft: dict[str, SoftReservation] = {}

    async def add_missing_positions(self, keys: Iterable[StockKey], at: datetime) -> None:
        for sku, node in keys:
            self.positions.setdefault((sku, node), StockPosition(sku, node, on_hand=0))

    async def lock_positions(self, skus: Iterable[str]) -> tuple[dict[StockKey, StockPosition],
                                                                 dict[StockKey, int | None]]:
        positions = await self.positions_of(skus)
        return positions, {key: self.versions.get(key) for key in positions}

    async def positions_of(self, skus: Iterable[str]) -> dict[StockKey, StockPosition]:
        skus = set(skus)
        return {key: copy.copy(p) for key, p in sorted(self.positions.items()) if p.sku in skus}

    async def known_nodes(self) -> set[str]:
        return {node for _, node in self.positions}

    async def existing_order_ids(self, order_ids: Iterable[str]) -> set[str]:
        return set(order_ids) & set(self.orders)

    async def released_before_placement(self, order_ids: Iterable[str]) -> set[str]:
        return set(order_ids) & set(self.released_early)

    async def remember_releases_before_placement(self, reasons: dict[str, str], at: datetime) -> None:
        self.released_early = {**reasons, **self.released_early}

    async def skus_of_orders(self, order_ids: Iterable[str]) -> set[str]:
        return {line.sku for order_id in order_ids if order_id in self.orders
                for line in self.orders[order_id].demand.lines}

    async def orders_backordered_on(self, skus: Iterable[str]) -> set[str]:
        skus = set(skus)
        return {order.order_id for order in self.orders.values() if any(b.sku in skus for b in order.backorders)}

    async def orders_reserved_at(self, keys: Iterable[StockKey]) -> set[str]:
        keys = set(keys)
        return {order.order_id for order in self.orders.values()
                if any((r.sku, r.node) in keys for r in order.reservations)}

    async def load_orders(self, order_ids: Iterable[str], *, lock: bool) -> list[OrderAllocation]:
        return [copy.deepcopy(self.orders[order_id]) for order_id in sorted(set(order_ids)) if order_id in self.orders]

    async def rules_by_channel(self) -> dict[str, SourcingRules]:
        return {channel: row["rules"] for channel, row in self.rules.items()}

    async def rules_row(self, channel: str) -> dict[str, Any] | None:
        return self.rules.get(channel)

    async def put_rules(self, channel: str, rules: SourcingRules, actor: str, at: datetime) -> None:
        self.rules[channel] = {"channel": channel, "rules": rules, "updated_by": actor, "updated_at": at}

    async def save(self, book: AllocationBook, new_order_ids: set[str], versions: dict[StockKey, int],
                   at: datetime) -> None:
        for position in book.changed_positions():
            self.positions[position.key] = copy.copy(position)
        self.versions.update(versions)
        for order_id in new_order_ids:
            self.orders[order_id] = copy.deepcopy(book.orders[order_id])
        for order in book.orders_to_save():
            self.orders[order.order_id] = copy.deepcopy(order)

    async def inbound_of(self, skus: Iterable[str]) -> list[InboundLine]:
        skus = set(skus)
        return [line for line in self.inbound.values() if line.sku in skus and line.open > 0]

    async def inbound_of_sources(self, sources: Iterable[str]) -> list[InboundLine]:
        sources = set(sources)
        return [line for line in self.inbound.values() if line.source in sources]

    async def supply_versions(self, sources: Iterable[str]) -> dict[str, tuple[int | None, datetime]]:
        return {source: self.supply_applied[source] for source in sources if source in self.supply_applied}

    async def replace_supply(self, source: str, lines: list[InboundLine], revision: int | None,
                             changed_at: datetime) -> None:
        self.inbound = {key: line for key, line in self.inbound.items() if line.source != source}
        self.inbound.update({(line.source, line.line_id): line for line in lines})
        self.supply_applied[source] = (revision, changed_at)

    async def backorder_queue(self, skus: Iterable[str]) -> list[tuple[QueuedBackorder, date | None]]:
        skus = set(skus)
        return [(queued(order.demand, b.line_id, b.sku, b.qty), order.promises.get(b.line_id))
                for order in self.orders.values() for b in order.backorders if b.sku in skus]

    async def set_promises(self, promises: dict[tuple[str, str], date | None]) -> None:
        for (order_id, line_id), day in promises.items():
            self.orders[order_id].promises.pop(line_id, None)
            if day is not None:
                self.orders[order_id].promises[line_id] = day

    async def add_soft_reservation(self, reservation: SoftReservation) -> bool:
        if reservation.reservation_id in self.soft:
            return False
        self.soft[reservation.reservation_id] = copy.deepcopy(reservation)
        return True

    async def soft_reservations(self, reservation_ids: Iterable[str], *, lock: bool) -> list[SoftReservation]:
        return [copy.deepcopy(self.soft[i]) for i in sorted(set(reservation_ids)) if i in self.soft]

    async def end_soft_reservations(self, reservations: Iterable[SoftReservation]) -> None:
        for reservation in reservations:
            self.soft[reservation.reservation_id] = copy.deepcopy(reservation)

    async def soft_reservations_due(self, now: datetime, limit: int) -> list[str]:
        due = sorted((r.expires_at, r.reservation_id) for r in self.soft.values()
                     if r.status is SoftReservationStatus.active and r.expires_at <= now)
        return [reservation_id for _, reservation_id in due[:limit]]

    async def add_exception(self, exception_id: str, exception: AllocationException, at: datetime) -> None:
        self.exceptions.append({"id": exception_id, "sku": exception.sku, "node": exception.node,
                                "shortfall": exception.shortfall,
                                "affected_order_ids": list(exception.affected_order_ids), "raised_at": at})

    async def recent_exceptions(self, limit: int) -> list[dict[str, Any]]:
        return sorted(self.exceptions, key=lambda e: e["raised_at"], reverse=True)[:limit]

    async def backorder_totals(self) -> tuple[int, int]:
        waiting = [order for order in self.orders.values() if order.backorders]
        return len(waiting), sum(b.qty for order in waiting for b in order.backorders)

    async def reservation_drift(self) -> list[dict[str, Any]]:
        reserved: dict[StockKey, int] = {}
        for order in self.orders.values():
            for r in order.reservations:
                reserved[r.sku, r.node] = reserved.get((r.sku, r.node), 0) + r.qty
        soft_held: dict[StockKey, int] = {}
        for reservation in self.soft.values():
            if reservation.status is SoftReservationStatus.active:
                for h in reservation.holds:
                    soft_held[h.sku, h.node] = soft_held.get((h.sku, h.node), 0) + h.qty
        return [*self._counter_drift("reserved", reserved), *self._counter_drift("soft_reserved", soft_held)]

    def _counter_drift(self, counter: str, live: dict[StockKey, int]) -> list[dict[str, Any]]:
        drift = [{"sku": p.sku, "node": p.node, "reserved": getattr(p, counter), "live": live.get(key, 0),
                  "counter": counter}
                 for key, p in sorted(self.positions.items()) if getattr(p, counter) != live.get(key, 0)]
        return drift + [{"sku": sku, "node": node, "reserved": None, "live": units, "counter": counter}
                        for (sku, node), units in sorted(live.items()) if (sku, node) not in self.positions]


class FakeAllocationUnitOfWork(FakeUnitOfWork):
    def __init__(self, allocation: FakeAllocationStore | None = None) -> None:
        super().__init__()
        self.allocation = allocation or FakeAllocationStore()
