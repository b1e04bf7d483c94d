"""Deciding which node ships which order line: the promise engine. Plain Python: no framework, no I/O.

plan_allocation only reads; apply_plan is the one place reservations happen, and it refuses anything the
positions no longer cover. Together they make overselling impossible rather than unlikely.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, NamedTuple

from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.stock import InsufficientStock, StockKey, StockPosition

ServiceLevel = Literal["standard", "express"]
CustomerTier = Literal["standard", "vip"]


class DemandLine(NamedTuple):
    line_id: str
    sku: str
    qty: int


class Allocation(NamedTuple):
    line_id: str
    sku: str
    node: str
    qty: int


class Backorder(NamedTuple):
    line_id: str
    sku: str
    qty: int


class FillOutcome(StrEnum):
    """How much of an order a plan fills: all of it, part of it, none of it (all backordered)."""

    allocated = "allocated"
    partially_allocated = "partially_allocated"
    backordered = "backordered"


@dataclass(frozen=True)
class OrderDemand:
    order_id: str
    channel: str
    lines: tuple[DemandLine, ...]
    ship_to_country: str
    service_level: ServiceLevel
    customer_tier: CustomerTier
    placed_at: datetime
    promised_date: date | None = None

    def __post_init__(self) -> None:
        # Accept any sequence of (line_id, sku, qty); keep an immutable tuple of DemandLine.
        object.__setattr__(self, "lines", tuple(DemandLine(*line) for line in self.lines))
        if not self.lines:
            raise ValueError(f"order {self.order_id}: demand has no lines")
        for line in self.lines:
            if isinstance(line.qty, bool) or not isinstance(line.qty, int) or line.qty <= 0:
                raise ValueError(f"order {self.order_id} line {line.line_id}: qty must be a positive integer")
        duplicates = [line_id for line_id, n in Counter(line.line_id for line in self.lines).items() if n > 1]
        if duplicates:
            raise ValueError(f"order {self.order_id}: duplicate line ids {duplicates}")
        if self.service_level not in ("standard", "express"):
            raise ValueError(f"order {self.order_id}: unknown service level {self.service_level!r}")
        if self.customer_tier not in ("standard", "vip"):
            raise ValueError(f"order {self.order_id}: unknown customer tier {self.customer_tier!r}")
        # Orders are ranked by placed_at; naive and aware datetimes cannot be compared.
        if self.placed_at.tzinfo is None:
            raise ValueError(f"order {self.order_id}: placed_at must be timezone-aware")


@dataclass(frozen=True)
class AllocationPlan:
    order_id: str
    allocations: tuple[Allocation, ...]
    backordered: tuple[Backorder, ...]

    @property
    def outcome(self) -> FillOutcome:
        if not self.backordered:
            return FillOutcome.allocated
        if self.allocations:
            return FillOutcome.partially_allocated
        return FillOutcome.backordered


def plan_allocation(demand: OrderDemand, positions: Mapping[StockKey, StockPosition],
                    rules: SourcingRules) -> AllocationPlan:
    """Which node ships how much of each line. Pure: positions are only read."""
    skus = {line.sku for line in demand.lines}
    available = {key: rules.channel_available(position) for key, position in positions.items() if key[0] in skus}
    nodes = rules.rank_nodes((node for _, node in available), demand.ship_to_country)

    # One parcel from the best node that has everything beats any split.
    for node in nodes:
        allocations, backordered = _fill_lines(demand.lines, [node], available)
        if not backordered:
            return AllocationPlan(demand.order_id, allocations, ())

    sources = nodes if rules.allow_split else _node_shipping_most_units(demand.lines, nodes, available)
    allocations, backordered = _fill_lines(demand.lines, sources, available)
    if backordered and rules.short_stock == "backorder":
        return AllocationPlan(demand.order_id, (), tuple(Backorder(*line) for line in demand.lines))
    return AllocationPlan(demand.order_id, allocations, backordered)


def apply_plan(plan: AllocationPlan, positions: Mapping[StockKey, StockPosition]) -> None:
    """Reserves the plan's allocations, all or nothing.

    Raises InsufficientStock, before changing anything, if any SKU×node no longer has the units to promise;
    the caller then re-plans against positions it has locked (in key order: sku, then node).
    """
    needed = Counter[StockKey]()
    for allocation in plan.allocations:
        needed[allocation.sku, allocation.node] += allocation.qty
    for sku, node in sorted(needed):
        position = positions.get((sku, node))
        available = position.atp if position is not None else 0
        if needed[sku, node] > available:
            raise InsufficientStock(sku, node, needed[sku, node], available)
    for key in sorted(needed):
        positions[key].reserve(needed[key])


def _fill_lines(lines: Sequence[DemandLine], nodes: Sequence[str], available: Mapping[StockKey, int]
                ) -> tuple[tuple[Allocation, ...], tuple[Backorder, ...]]:
    """Greedy fill, line by line, from nodes in the given order; lines sharing a SKU share its availability."""
    left = dict(available)
    allocations: list[Allocation] = []
    backordered: list[Backorder] = []
    for line in lines:
        # A line that one node can cover whole ships whole; only otherwise is the line itself split.
        whole = next((node for node in nodes if left.get((line.sku, node), 0) >= line.qty), None)
        remaining = line.qty
        for node in [whole] if whole is not None else nodes:
            take = min(remaining, left.get((line.sku, node), 0))
            if take:
                allocations.append(Allocation(line.line_id, line.sku, node, take))
                left[line.sku, node] -= take
                remaining -= take
            if not remaining:
                break
        if remaining:
            backordered.append(Backorder(line.line_id, line.sku, remaining))
    return tuple(allocations), tuple(backordered)


def _node_shipping_most_units(lines: Sequence[DemandLine], ranked_nodes: Sequence[str],
                              available: Mapping[StockKey, int]) -> list[str]:
    """Without splitting, the one node to ship from when none has everything: most units, then rank."""
    best, best_units = [], 0
    for node in ranked_nodes:
        units = sum(allocation.qty for allocation in _fill_lines(lines, [node], available)[0])
        if units > best_units:
            best, best_units = [node], units
    return best
