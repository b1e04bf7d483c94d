"""Soft reservations in the domain: where units are held, what they take from ATP, when they stop. No I/O."""

from datetime import timedelta

import pytest

from allocation_service.domain.book import AllocationBook, OrderAllocation, OrderAllocationStatus
from allocation_service.domain.rules import DEFAULT_RULES, SourcingRules
from allocation_service.domain.soft_reservations import (
    ShortOfStock,
    SoftHold,
    SoftReservation,
    SoftReservationStatus,
    plan_soft_holds,
)
from allocation_service.domain.sourcing import Backorder
from allocation_service.domain.stock import InsufficientStock, StockPosition


def test_soft_reserved_units_leave_atp_until_released():
    position = StockPosition("A", "WH1", on_hand=10, reserved=2, safety_stock=1)
    position.hold_softly(5)
    assert (position.soft_reserved, position.atp) == (5, 2)
    with pytest.raises(InsufficientStock):
        position.hold_softly(3)
    position.release_soft(5)
    assert (position.soft_reserved, position.atp) == (0, 7)


def test_units_are_held_at_the_node_asked_for(stock):
    positions = stock(StockPosition("A", "WH1", on_hand=9), StockPosition("A", "WH2", on_hand=3))
    assert plan_soft_holds([("A", 3)], positions, DEFAULT_RULES, "WH2") == [SoftHold("A", "WH2", 3)]
    with pytest.raises(ShortOfStock) as short:
        plan_soft_holds([("A", 4)], positions, DEFAULT_RULES, "WH2")
    assert short.value.skus == ("A",) and "A (asked 4, 3 available)" in str(short.value)


def test_without_a_node_one_node_holds_a_line_whole_if_it_can_else_the_ranked_nodes_split_it(stock):
    positions = stock(StockPosition("A", "WH1", on_hand=2), StockPosition("A", "WH2", on_hand=5),
                      StockPosition("B", "WH1", on_hand=2), StockPosition("B", "WH2", on_hand=1))
    assert plan_soft_holds([("A", 4), ("B", 3)], positions, DEFAULT_RULES, None) == [
        SoftHold("A", "WH2", 4), SoftHold("B", "WH1", 2), SoftHold("B", "WH2", 1)]


def test_every_short_sku_is_named_and_a_channels_protected_quantity_is_left_alone(stock):
    positions = stock(StockPosition("A", "WH1", on_hand=5), StockPosition("B", "WH1", on_hand=1))
    with pytest.raises(ShortOfStock) as short:
        plan_soft_holds([("A", 4), ("B", 1), ("C", 1)], positions, SourcingRules(protected_quantity=2), None)
    assert short.value.skus == ("A", "B", "C")


def test_a_soft_reservation_is_active_until_it_expires_or_ends(t0):
    reservation = SoftReservation("r1", "web-eu", None, (("A", 1),), (SoftHold("A", "WH1", 1),),
                                  SoftReservationStatus.active, t0 + timedelta(minutes=15), "cs-ana", t0)
    assert reservation.is_active(t0 + timedelta(minutes=14))
    assert not reservation.is_active(t0 + timedelta(minutes=15))
    reservation.status = SoftReservationStatus.released
    assert not reservation.is_active(t0)


def test_a_resent_request_is_the_same_reservation_only_if_it_asks_the_same(t0):
    reservation = SoftReservation("r1", "web-eu", None, (("A", 1), ("B", 2)), (), SoftReservationStatus.active,
                                  t0, "cs-ana", t0)
    assert reservation.asks_the_same("web-eu", None, [("B", 2), ("A", 1)])
    assert not reservation.asks_the_same("web-eu", None, [("A", 1)])
    assert not reservation.asks_the_same("web-eu", "WH1", [("A", 1), ("B", 2)])


def test_units_a_book_releases_from_a_soft_reservation_go_to_backorders_first(stock, make_demand):
    positions = stock(StockPosition("A", "WH1", on_hand=3, soft_reserved=3))
    waiting = OrderAllocation(make_demand(lines=(("1", "A", 2),)), OrderAllocationStatus.backordered, revision=1,
                              backorders=[Backorder("1", "A", 2)])
    book = AllocationBook(positions, {"A"}, [waiting], {})
    book.release_soft([SoftHold("A", "WH1", 3)])
    book.fill_backorders({"A"})
    assert (positions["A", "WH1"].soft_reserved, positions["A", "WH1"].reserved, positions["A", "WH1"].atp) == (0, 2, 1)
    assert waiting.status is OrderAllocationStatus.allocated and book.changed == {"o1": "backorder_filled"}


def test_a_book_holds_all_of_a_soft_reservation_or_nothing(stock):
    positions = stock(StockPosition("A", "WH1", on_hand=3), StockPosition("B", "WH1", on_hand=1))
    book = AllocationBook(positions, {"A", "B"}, [], {})
    with pytest.raises(InsufficientStock):
        book.hold_softly([SoftHold("A", "WH1", 2), SoftHold("B", "WH1", 2)])
    assert book.changed_positions() == []
    book.hold_softly([SoftHold("A", "WH1", 2)])
    assert [(p.sku, p.soft_reserved) for p in book.changed_positions()] == [("A", 2)]
