from datetime import UTC, datetime
from decimal import Decimal

import pytest

from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.sourcing import (
    Allocation,
    AllocationPlan,
    Backorder,
    DemandLine,
    FillOutcome,
    apply_plan,
    plan_allocation,
)
from allocation_service.domain.stock import InsufficientStock, StockPosition

ZONED = SourcingRules(node_priority={"DE": ["WH-DE", "WH-NL"], "FR": ["WH-FR", "WH-NL"]})
TWO_LINES = (("1", "A", 2), ("2", "B", 1))


def test_one_node_shipping_everything_beats_a_better_ranked_node_that_needs_a_split(make_demand, stock):
    positions = stock(StockPosition("A", "WH-DE", 5), StockPosition("A", "WH-NL", 5), StockPosition("B", "WH-NL", 5))
    plan = plan_allocation(make_demand(lines=TWO_LINES), positions, ZONED)
    assert plan.allocations == (Allocation("1", "A", "WH-NL", 2), Allocation("2", "B", "WH-NL", 1))
    assert plan.outcome == "allocated"


def test_the_zone_of_the_ship_to_country_ranks_nodes(make_demand, stock):
    positions = stock(StockPosition("A", "WH-DE", 5), StockPosition("A", "WH-FR", 5), StockPosition("A", "WH-NL", 5))
    assert plan_allocation(make_demand(), positions, ZONED).allocations[0].node == "WH-DE"
    assert plan_allocation(make_demand(ship_to_country="FR"), positions, ZONED).allocations[0].node == "WH-FR"
    # A country without a zone falls back to cost, then name.
    assert plan_allocation(make_demand(ship_to_country="IT"), positions, ZONED).allocations[0].node == "WH-DE"


def test_shipping_cost_breaks_zone_ties_and_node_name_breaks_cost_ties(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 5), StockPosition("A", "WH2", 5), StockPosition("A", "WH3", 5))
    by_cost = SourcingRules(node_cost={"WH1": Decimal("6.00"), "WH2": Decimal("4.50"), "WH3": Decimal("4.50")})
    assert plan_allocation(make_demand(), positions, by_cost).allocations[0].node == "WH2"
    assert plan_allocation(make_demand(), positions, SourcingRules()).allocations[0].node == "WH1"


def test_zone_rank_outranks_cost(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 5), StockPosition("A", "WH2", 5))
    rules = SourcingRules(node_priority={"DE": ["WH2", "WH1"]}, node_cost={"WH1": Decimal("1"), "WH2": Decimal("9")})
    assert plan_allocation(make_demand(), positions, rules).allocations[0].node == "WH2"


def test_split_across_nodes_when_no_node_has_everything(make_demand, stock):
    positions = stock(StockPosition("A", "WH-DE", 5), StockPosition("B", "WH-NL", 5))
    plan = plan_allocation(make_demand(lines=TWO_LINES), positions, ZONED)
    assert plan.allocations == (Allocation("1", "A", "WH-DE", 2), Allocation("2", "B", "WH-NL", 1))
    assert plan.outcome == FillOutcome.allocated


def test_a_line_no_node_covers_is_split_in_rank_order(make_demand, stock):
    positions = stock(StockPosition("A", "WH-DE", 2), StockPosition("A", "WH-NL", 5))
    plan = plan_allocation(make_demand(lines=[("1", "A", 6)]), positions, ZONED)
    assert plan.allocations == (Allocation("1", "A", "WH-DE", 2), Allocation("1", "A", "WH-NL", 4))


def test_a_line_one_node_covers_is_not_split_even_if_a_better_node_has_some(make_demand, stock):
    positions = stock(StockPosition("A", "WH-DE", 2), StockPosition("A", "WH-NL", 5), StockPosition("B", "WH-DE", 1))
    plan = plan_allocation(make_demand(lines=[("1", "A", 4), ("2", "B", 1)]), positions, ZONED)
    assert plan.allocations == (Allocation("1", "A", "WH-NL", 4), Allocation("2", "B", "WH-DE", 1))


def test_without_split_the_node_shipping_most_units_ships_and_the_rest_is_backordered(make_demand, stock):
    positions = stock(StockPosition("A", "WH-DE", 2), StockPosition("B", "WH-NL", 1), StockPosition("A", "WH-NL", 1))
    rules = SourcingRules(allow_split=False, node_priority=ZONED.node_priority)
    plan = plan_allocation(make_demand(lines=TWO_LINES), positions, rules)
    assert plan.allocations == (Allocation("1", "A", "WH-DE", 2),)
    assert plan.backordered == (Backorder("2", "B", 1),)
    assert plan.outcome == FillOutcome.partially_allocated


def test_without_split_equal_units_go_to_the_better_ranked_node(make_demand, stock):
    positions = stock(StockPosition("A", "WH-NL", 2), StockPosition("B", "WH-DE", 2))
    rules = SourcingRules(allow_split=False, node_priority=ZONED.node_priority)
    plan = plan_allocation(make_demand(lines=[("1", "A", 2), ("2", "B", 2)]), positions, rules)
    assert {allocation.node for allocation in plan.allocations} == {"WH-DE"}


def test_partial_allocates_what_exists_and_backorders_the_remainder_per_line(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3))
    plan = plan_allocation(make_demand(lines=[("1", "A", 5), ("2", "B", 2)]), positions, SourcingRules())
    assert plan.allocations == (Allocation("1", "A", "WH1", 3),)
    assert plan.backordered == (Backorder("1", "A", 2), Backorder("2", "B", 2))
    assert plan.outcome == "partially_allocated"


def test_backorder_policy_allocates_nothing_when_anything_is_short(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3))
    plan = plan_allocation(make_demand(lines=[("1", "A", 5)]), positions, SourcingRules(short_stock="backorder"))
    assert plan == AllocationPlan("o1", (), (Backorder("1", "A", 5),))
    assert plan.outcome == FillOutcome.backordered


def test_backorder_policy_still_allocates_an_order_that_fits_by_splitting(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3), StockPosition("A", "WH2", 3))
    plan = plan_allocation(make_demand(lines=[("1", "A", 5)]), positions, SourcingRules(short_stock="backorder"))
    assert plan.outcome == FillOutcome.allocated


def test_a_channel_only_takes_atp_above_its_protected_quantity(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", on_hand=10, reserved=2, safety_stock=1))  # atp 7
    marketplace = SourcingRules(protected_quantity=4)
    plan = plan_allocation(make_demand(lines=[("1", "A", 5)]), positions, marketplace)
    assert plan.allocations == (Allocation("1", "A", "WH1", 3),)
    assert plan.backordered == (Backorder("1", "A", 2),)
    assert plan_allocation(make_demand(lines=[("1", "A", 5)]), positions, SourcingRules()).outcome == "allocated"


def test_lines_for_the_same_sku_share_its_availability(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3))
    plan = plan_allocation(make_demand(lines=[("1", "A", 2), ("2", "A", 2)]), positions, SourcingRules())
    assert plan.allocations == (Allocation("1", "A", "WH1", 2), Allocation("2", "A", "WH1", 1))
    assert plan.backordered == (Backorder("2", "A", 1),)


def test_shrunk_positions_have_nothing_to_promise(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", on_hand=1, reserved=4))
    assert plan_allocation(make_demand(), positions, SourcingRules()).outcome == "backordered"


def test_planning_does_not_touch_positions(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3))
    plan_allocation(make_demand(lines=[("1", "A", 2)]), positions, SourcingRules())
    assert positions["A", "WH1"].reserved == 0


def test_apply_plan_reserves_the_allocations(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3), StockPosition("B", "WH1", 3))
    apply_plan(plan_allocation(make_demand(lines=TWO_LINES), positions, SourcingRules()), positions)
    assert (positions["A", "WH1"].reserved, positions["B", "WH1"].reserved) == (2, 1)


def test_apply_plan_refuses_a_plan_that_no_longer_fits_and_changes_nothing(make_demand, stock):
    positions = stock(StockPosition("A", "WH1", 3), StockPosition("B", "WH1", 3))
    plan = plan_allocation(make_demand(lines=TWO_LINES), positions, SourcingRules())
    positions["B", "WH1"].reserve(3)  # someone else got there first
    with pytest.raises(InsufficientStock):
        apply_plan(plan, positions)
    assert positions["A", "WH1"].reserved == 0


@pytest.mark.parametrize("changes", [
    dict(lines=[]),
    dict(lines=[("1", "A", 0)]),
    dict(lines=[("1", "A", 1), ("1", "B", 1)]),
    dict(service_level="overnight"),
    dict(customer_tier="gold"),
    dict(placed_at=datetime(2026, 11, 20, 10, 0)),
])
def test_malformed_demand_is_refused(make_demand, changes):
    with pytest.raises(ValueError):
        make_demand(**changes)


def test_demand_lines_become_demand_line_tuples(make_demand):
    assert make_demand(lines=[["1", "A", 2]]).lines == (DemandLine("1", "A", 2),)
    assert make_demand(placed_at=datetime(2026, 1, 1, tzinfo=UTC)).lines[0].qty == 1
