"""Stock that vanished under reservations: take some back and re-source them. Plain Python: no framework, no I/O."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from allocation_service.domain.priority import priority_key
from allocation_service.domain.rules import SourcingRules, rules_for
from allocation_service.domain.sourcing import (
    Allocation,
    AllocationPlan,
    DemandLine,
    OrderDemand,
    apply_plan,
    plan_allocation,
)
from allocation_service.domain.stock import StockKey, StockPosition


class Reservation(NamedTuple):
    """Units of one order line held at one SKU×node, with the order they belong to."""

    demand: OrderDemand
    allocation: Allocation


class TakenBack(NamedTuple):
    order_id: str
    line_id: str
    sku: str
    node: str
    qty: int


@dataclass(frozen=True)
class AllocationException:
    """For operators: a node lost stock that was already promised."""

    sku: str
    node: str
    shortfall: int
    affected_order_ids: tuple[str, ...]


@dataclass(frozen=True)
class ShrinkageOutcome:
    shortfall: int
    taken_back: tuple[TakenBack, ...]
    # One plan per affected order, for the taken-back units only; what they cannot place is backordered.
    replans: tuple[AllocationPlan, ...]
    exception: AllocationException | None


def choose_take_backs(reservations: Iterable[Reservation], shortfall: int,
                      first: Collection[tuple[str, str]] = ()) -> list[TakenBack]:
    """Newest orders give up their units first, just enough to cover the shortfall; `first` (order id, line id)
    pairs before all others: the lines a picker found short.

    Older orders have waited longest and are most likely already being picked. Raises ValueError when the
    reservations cannot cover the shortfall: reservation records and the reserved counter disagree.
    """
    newest_first = sorted(reservations, reverse=True,
                          key=lambda r: ((r.demand.order_id, r.allocation.line_id) in first, r.demand.placed_at,
                                         r.demand.order_id, r.allocation.line_id))
    taken: list[TakenBack] = []
    still_short = shortfall
    for reservation in newest_first:
        if not still_short:
            break
        allocation = reservation.allocation
        qty = min(allocation.qty, still_short)
        taken.append(TakenBack(reservation.demand.order_id, allocation.line_id, allocation.sku, allocation.node, qty))
        still_short -= qty
    if still_short:
        raise ValueError(f"reservations cover only {shortfall - still_short} of a shortfall of {shortfall}")
    return taken


def resolve_shrinkage(sku: str, node: str, new_on_hand: int,
                      positions: Mapping[StockKey, StockPosition],
                      reservations: Sequence[Reservation],
                      rules_by_channel: Mapping[str, SourcingRules],
                      first: Collection[tuple[str, str]] = ()) -> ShrinkageOutcome:
    """Records the new on-hand count at sku×node and, if it no longer backs the reservations, fixes that.

    Mutates positions (the caller holds their locks): the taken-back units are released, so the node ends with
    reserved <= on_hand, and are re-sourced to other nodes under each order's channel rules, most urgent order
    first. Reservations for other SKU×nodes are ignored, so callers may pass an order's reservations whole.
    Taken-back units are planned as their own demand: on a no-split channel they ship from one node, though
    the rest of the line stays where it was. Nothing is changed if the reservations cannot cover the shortfall.
    """
    position = positions[sku, node]
    at_node = [r for r in reservations if (r.allocation.sku, r.allocation.node) == (sku, node)]
    # Work out the shortfall and choose before mutating, so bad input raises with the positions untouched.
    taken_back = choose_take_backs(at_node, replace(position, on_hand=new_on_hand).shortfall, first)
    shortfall = position.set_on_hand(new_on_hand)
    if not shortfall:
        return ShrinkageOutcome(0, (), (), None)
    # Releasing exactly the shortfall leaves reserved == on_hand, so the node itself has nothing to promise
    # and re-sourcing cannot land there again.
    position.release(shortfall)

    demands = {r.demand.order_id: r.demand for r in at_node}
    open_qty: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for take in taken_back:
        open_qty[take.order_id][take.line_id] += take.qty
    replans: list[AllocationPlan] = []
    for order_id in sorted(open_qty, key=lambda order_id: priority_key(demands[order_id])):
        demand = demands[order_id]
        lines = [DemandLine(line_id, sku, qty) for line_id, qty in open_qty[order_id].items()]
        plan = plan_allocation(replace(demand, lines=lines), positions, rules_for(demand.channel, rules_by_channel))
        apply_plan(plan, positions)
        replans.append(plan)

    exception = AllocationException(sku, node, shortfall, tuple(sorted(open_qty)))
    return ShrinkageOutcome(shortfall, tuple(taken_back), tuple(replans), exception)
