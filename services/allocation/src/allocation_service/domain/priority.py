"""Who gets scarce stock first. Plain Python: no framework, no I/O."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date

from allocation_service.domain.rules import SourcingRules, rules_for
from allocation_service.domain.sourcing import AllocationPlan, DemandLine, OrderDemand, apply_plan, plan_allocation
from allocation_service.domain.stock import StockKey, StockPosition, copy_positions


def priority_key(demand: OrderDemand) -> tuple:
    """Most urgent first: earliest promise (no promise last), express, vip, oldest, then order id."""
    return (
        demand.promised_date is None,
        demand.promised_date or date.min,
        demand.service_level != "express",
        demand.customer_tier != "vip",
        demand.placed_at,
        demand.order_id,
    )


def fill_backorders(backorders: Iterable[tuple[OrderDemand, Sequence[DemandLine]]],
                    positions: Mapping[StockKey, StockPosition],
                    rules_by_channel: Mapping[str, SourcingRules]) -> list[AllocationPlan]:
    """Plans for the still-open lines of each backordered order, most urgent order first.

    Each plan is applied to a private copy of positions before the next order is planned, so arriving stock
    goes to the most urgent orders and the plans together never promise more than exists. The caller's
    positions are untouched; it applies the returned plans, in order, to the rows it has locked.
    Orders with no open lines are skipped.
    """
    working = copy_positions(positions)
    plans: list[AllocationPlan] = []
    for demand, open_lines in sorted(backorders, key=lambda entry: priority_key(entry[0])):
        if not open_lines:
            continue
        plan = plan_allocation(replace(demand, lines=tuple(open_lines)), working,
                               rules_for(demand.channel, rules_by_channel))
        apply_plan(plan, working)
        plans.append(plan)
    return plans
