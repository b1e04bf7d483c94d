"""Inbound supply, promise dates and ATP by date: the domain rules, no I/O."""

from datetime import date, timedelta

import pytest

from allocation_service.domain.book import AllocationBook, OrderAllocation, OrderAllocationStatus
from allocation_service.domain.sourcing import Backorder
from allocation_service.domain.stock import StockPosition
from allocation_service.domain.supply import (
    QUEUE_CHANGED,
    InboundLine,
    SupplyCause,
    atp_by_date,
    plan_inbound,
    promise_change_reason,
    purchase_order_supply,
    queued,
    supply_cause,
    transfer_supply,
)

D1, D2, D3 = date(2026, 12, 3), date(2026, 12, 7), date(2026, 12, 14)


def inbound(sku: str, node: str, when: date, units: int, source: str = "purchase_order:po1",
            line_id: str = "1") -> InboundLine:
    return InboundLine(source, line_id, sku, node, when, units, 0, units)


@pytest.mark.parametrize("status, open_units", [("approved", 6), ("sent", 6), ("partially_received", 6),
                                                ("draft", 0), ("closed", 0), ("cancelled", 0)])
def test_a_purchase_order_brings_its_unreceived_units_only_while_approved_sent_or_partially_received(
        status, open_units):
    (line,) = purchase_order_supply("po1", status, "WH1", [("1", "A", 10, 4, D1)])
    assert (line.source, line.sku, line.node, line.expected_date, line.open) == (
        "purchase_order:po1", "A", "WH1", D1, open_units)


def test_a_transfer_brings_what_is_not_received_yet_to_its_destination():
    lines = transfer_supply("t-7", "WH2", D2, [("A", 5, 2), ("B", 3, 3)])
    assert [(line.line_id, line.sku, line.node, line.open) for line in lines] == [("1", "A", "WH2", 3),
                                                                                 ("2", "B", "WH2", 0)]


def test_backorders_are_promised_the_earliest_date_inbound_covers_them_after_earlier_ones_in_the_queue(
        make_demand, t0):
    # o-old was placed first, but o-express is express: the queue (like the fill order) puts it first.
    express = make_demand(order_id="o-express", lines=(("1", "A", 3),), service_level="express",
                          placed_at=t0 + timedelta(hours=1))
    old = make_demand(order_id="o-old", lines=(("1", "A", 4), ("2", "A", 2)))
    queue = [queued(old, "1", "A", 4), queued(old, "2", "A", 2), queued(express, "1", "A", 3)]
    plan = plan_inbound(queue, [inbound("A", "WH1", D1, 5), inbound("A", "WH2", D2, 4, line_id="2"),
                                inbound("A", "WH1", D3, 10, line_id="3")])
    assert plan.promises == {("o-express", "1"): D1,  # 3 of the 5 on D1
                             ("o-old", "1"): D2,  # 2 left on D1 + 2 of D2's 4
                             ("o-old", "2"): D2}  # the last 2 of D2
    assert plan.remaining == {("A", "WH1"): {D3: 10}}


def test_a_line_inbound_cannot_cover_has_no_date_and_the_lines_behind_it_do_not_jump_it(make_demand, t0):
    first = make_demand(order_id="o1", lines=(("1", "A", 8),))
    second = make_demand(order_id="o2", lines=(("1", "A", 1),), placed_at=t0 + timedelta(minutes=5))
    plan = plan_inbound([queued(second, "1", "A", 1), queued(first, "1", "A", 8)], [inbound("A", "WH1", D1, 5)])
    assert plan.promises == {("o1", "1"): None, ("o2", "1"): None}
    assert plan.remaining == {}


def test_other_skus_inbound_never_covers_a_line(make_demand):
    plan = plan_inbound([queued(make_demand(lines=(("1", "A", 1),)), "1", "A", 1)], [inbound("B", "WH1", D1, 5)])
    assert plan.promises == {("o1", "1"): None}
    assert plan.remaining == {("B", "WH1"): {D1: 5}}


def test_atp_by_date_adds_the_free_inbound_as_it_arrives_and_overdue_inbound_on_the_first_day():
    dated = atp_by_date(2, {D1 - timedelta(days=2): 1, D1 + timedelta(days=1): 4}, D1, 3)
    assert [(d.day, d.inbound, d.atp) for d in dated] == [
        (D1, 1, 3), (D1 + timedelta(days=1), 4, 7), (D1 + timedelta(days=2), 0, 7)]


def po_lines(status: str, quantity: int = 10, received: int = 0, expected: date = D1) -> list[InboundLine]:
    return purchase_order_supply("po1", status, "WH1", [("1", "A", quantity, received, expected)])


@pytest.mark.parametrize("before, after, cancelled, cause", [
    ([], po_lines("approved"), False, SupplyCause.moved),  # new supply
    (po_lines("sent"), po_lines("sent", expected=D2), False, SupplyCause.moved),
    (po_lines("sent"), po_lines("partially_received", received=4), False, None),  # a receipt only
    (po_lines("partially_received", received=4), po_lines("closed", received=10), False, None),  # received in full
    (po_lines("partially_received", received=4), po_lines("closed", received=6), False, SupplyCause.short),
    (po_lines("sent"), po_lines("sent", quantity=7), False, SupplyCause.short),
    (po_lines("sent"), po_lines("cancelled"), True, SupplyCause.cancelled),
    (po_lines("sent"), po_lines("sent"), False, None),  # nothing changed
])
def test_what_moved_a_sources_supply_of_a_sku(before, after, cancelled, cause):
    assert supply_cause(before, after, cancelled) is cause


@pytest.mark.parametrize("previous, promised, cause, reason", [
    (D2, D1, SupplyCause.moved, "supply_earlier"),
    (None, D1, SupplyCause.moved, "supply_earlier"),
    (D1, D2, SupplyCause.moved, "supply_delayed"),
    (D1, None, SupplyCause.short, "supply_short"),
    (D1, D3, SupplyCause.short, "supply_short"),
    (D1, None, SupplyCause.cancelled, "supply_cancelled"),
    (D1, D2, QUEUE_CHANGED, "queue_changed"),
])
def test_a_moved_promise_says_why(previous, promised, cause, reason):
    assert promise_change_reason(previous, promised, cause) == reason


def test_a_book_knows_the_queues_that_gained_units_and_forgets_the_promises_of_filled_lines(stock, make_demand):
    positions = stock(StockPosition("A", "WH1", on_hand=0), StockPosition("B", "WH1", on_hand=0))
    waiting = OrderAllocation(make_demand(lines=(("1", "A", 2),)), OrderAllocationStatus.backordered, revision=1,
                              backorders=[Backorder("1", "A", 2)], promises={"1": D1})
    book = AllocationBook(positions, {"A", "B"}, [waiting], {})
    book.add_order(OrderAllocation(make_demand(order_id="o2", lines=(("1", "B", 1),)), OrderAllocationStatus.pending))
    book.allocate(["o2"], "placed")
    book.set_stock("A", "WH1", 2)
    book.fill_backorders({"A"})
    assert book.joined_backorder_skus() == {"B"}  # o1's queue of A only lost units
    assert book.was_backordered("o1", "1", "A") and not book.was_backordered("o2", "1", "B")
    assert book.was_backordered("o-not-in-book", "1", "A")
    assert waiting.status is OrderAllocationStatus.allocated and waiting.promises == {}
