from datetime import timedelta

import pytest

from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.shrinkage import (
    AllocationException,
    Reservation,
    TakenBack,
    choose_take_backs,
    resolve_shrinkage,
)
from allocation_service.domain.sourcing import Allocation, Backorder
from allocation_service.domain.stock import StockPosition


@pytest.fixture
def reservations(make_demand, t0):
    """Three orders holding A at WH1: old (2 units), middle (3), new (2), placed an hour apart."""

    def reservation(order_id, hours, qty, **changes):
        demand = make_demand(order_id=order_id, lines=[("1", "A", qty)], placed_at=t0 + timedelta(hours=hours),
                             **changes)
        return Reservation(demand, Allocation("1", "A", "WH1", qty))

    return [reservation("old", 0, 2), reservation("middle", 1, 3), reservation("new", 2, 2)]


def test_newest_orders_give_back_just_enough_units(reservations):
    assert choose_take_backs(reservations, 3) == [TakenBack("new", "1", "A", "WH1", 2),
                                                  TakenBack("middle", "1", "A", "WH1", 1)]
    assert choose_take_backs(reservations, 0) == []


def test_lines_a_picker_found_short_give_back_first(reservations):
    assert choose_take_backs(reservations, 2, first={("old", "1")}) == [TakenBack("old", "1", "A", "WH1", 2)]


def test_reservations_that_cannot_cover_the_shortfall_are_an_error(reservations):
    with pytest.raises(ValueError):
        choose_take_backs(reservations, 8)


def test_taken_back_units_are_re_sourced_to_other_nodes_newest_order_first(stock, reservations):
    positions = stock(StockPosition("A", "WH1", on_hand=7, reserved=7), StockPosition("A", "WH2", on_hand=2))
    outcome = resolve_shrinkage("A", "WH1", 4, positions, reservations, {})
    assert outcome.shortfall == 3
    assert [(t.order_id, t.qty) for t in outcome.taken_back] == [("new", 2), ("middle", 1)]
    # Both re-plans are for the taken-back units only; "middle" is older so it gets WH2 first.
    assert [(plan.order_id, plan.allocations, plan.backordered) for plan in outcome.replans] == [
        ("middle", (Allocation("1", "A", "WH2", 1),), ()),
        ("new", (Allocation("1", "A", "WH2", 1),), (Backorder("1", "A", 1),)),
    ]
    assert outcome.exception == AllocationException("A", "WH1", 3, ("middle", "new"))
    assert (positions["A", "WH1"].on_hand, positions["A", "WH1"].reserved) == (4, 4)
    assert (positions["A", "WH2"].reserved, positions["A", "WH2"].atp) == (2, 0)


def test_re_sourcing_respects_the_channels_rules(stock, make_demand):
    demand = make_demand(order_id="mkt", channel="marketplace", lines=[("1", "A", 3)])
    positions = stock(StockPosition("A", "WH1", on_hand=3, reserved=3), StockPosition("A", "WH2", on_hand=4))
    rules = {"marketplace": SourcingRules(protected_quantity=2, short_stock="backorder")}
    outcome = resolve_shrinkage("A", "WH1", 0, positions, [Reservation(demand, Allocation("1", "A", "WH1", 3))],
                                rules)
    (plan,) = outcome.replans
    assert plan.outcome == "backordered"  # WH2 has 4, the marketplace may take 2, and it will not take part
    assert positions["A", "WH2"].reserved == 0
    assert positions["A", "WH1"].reserved == 0


def test_no_shortfall_changes_only_on_hand(stock, reservations):
    positions = stock(StockPosition("A", "WH1", on_hand=9, reserved=7, safety_stock=2))
    outcome = resolve_shrinkage("A", "WH1", 7, positions, reservations, {})
    assert (outcome.shortfall, outcome.taken_back, outcome.replans, outcome.exception) == (0, (), (), None)
    assert (positions["A", "WH1"].on_hand, positions["A", "WH1"].reserved) == (7, 7)


def test_the_shrunk_node_is_never_picked_again_even_with_other_skus_reserved_elsewhere(stock, make_demand):
    demand = make_demand(lines=[("1", "A", 2), ("2", "B", 1)])
    positions = stock(StockPosition("A", "WH1", on_hand=2, reserved=2), StockPosition("B", "WH1", 5, reserved=1))
    held = [Reservation(demand, Allocation("1", "A", "WH1", 2)), Reservation(demand, Allocation("2", "B", "WH1", 1))]
    outcome = resolve_shrinkage("A", "WH1", 1, positions, held, {})
    assert outcome.replans[0].backordered == (Backorder("1", "A", 1),)
    assert positions["A", "WH1"].reserved == positions["A", "WH1"].on_hand == 1
    assert positions["B", "WH1"].reserved == 1  # the other SKU's reservation is left alone


def test_inconsistent_reservations_raise_before_anything_changes(stock, reservations):
    positions = stock(StockPosition("A", "WH1", on_hand=10, reserved=10))
    with pytest.raises(ValueError):
        resolve_shrinkage("A", "WH1", 1, positions, reservations, {})  # they hold 7, the shortfall is 9
    assert (positions["A", "WH1"].on_hand, positions["A", "WH1"].reserved) == (10, 10)
