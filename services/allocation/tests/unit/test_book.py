"""The allocation book: the commands a transaction runs on its locked positions and orders."""

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation_service.domain.book import AllocationBook, OrderAllocation, OrderAllocationStatus
from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.sourcing import Allocation, Backorder, OrderDemand
from allocation_service.domain.stock import StockPosition

NODES = ["N1", "N2"]


def book_of(stock, *orders, rules=None) -> AllocationBook:
    positions = {p.key: p for p in stock}
    return AllocationBook(positions, {p.sku for p in stock} | {"A", "B"}, orders, rules or {})


def waiting(demand: OrderDemand) -> OrderAllocation:
    return OrderAllocation(demand, OrderAllocationStatus.pending)


def test_waiting_orders_are_allocated_most_urgent_first(make_demand, t0):
    old = make_demand(order_id="old", placed_at=t0)
    express = make_demand(order_id="express", placed_at=t0 + timedelta(hours=1), service_level="express")
    book = book_of([StockPosition("A", "N1", on_hand=1)], waiting(old), waiting(express))
    book.allocate(["old", "express"], "placed")
    assert book.orders["express"].status is OrderAllocationStatus.allocated
    assert book.orders["old"].status is OrderAllocationStatus.backordered
    assert book.orders["old"].backorders == [Backorder("1", "A", 1)]
    assert (book.orders["express"].revision, book.changed) == (1, {"express": "placed", "old": "placed"})
    assert [p.key for p in book.changed_positions()] == [("A", "N1")]


def test_allocated_orders_are_not_allocated_twice(make_demand):
    book = book_of([StockPosition("A", "N1", on_hand=5)], waiting(make_demand()))
    book.allocate(["o1"], "placed")
    book.allocate(["o1"], "placed")
    assert book.positions["A", "N1"].reserved == 1


def test_held_orders_wait_until_their_hold_is_released(make_demand):
    held = OrderAllocation(make_demand(), OrderAllocationStatus.held)
    book = book_of([StockPosition("A", "N1", on_hand=5)], held)
    book.allocate(["o1"], "placed")
    assert held.status is OrderAllocationStatus.held and book.positions["A", "N1"].reserved == 0
    book.release_hold("o1")
    book.allocate(["o1"], "placed")
    assert held.status is OrderAllocationStatus.allocated


def test_release_gives_back_every_unit_and_is_final(make_demand):
    demand = make_demand(lines=[("1", "A", 2), ("2", "B", 1)])
    order = OrderAllocation(demand, OrderAllocationStatus.partially_allocated, revision=1,
                            reservations=[Allocation("1", "A", "N1", 2)], backorders=[Backorder("2", "B", 1)])
    book = book_of([StockPosition("A", "N1", on_hand=2, reserved=2)], order)
    book.release("o1", "cancelled")
    assert (order.status, order.reservations, order.backorders, order.revision) == (
        OrderAllocationStatus.released, [], [], 2)
    assert book.positions["A", "N1"].reserved == 0
    book.allocate(["o1"], "placed")
    assert order.status is OrderAllocationStatus.released


def test_released_stock_fills_backorders_in_priority_order(make_demand, t0):
    holder = OrderAllocation(make_demand(order_id="holder"), OrderAllocationStatus.allocated, 1,
                             [Allocation("1", "A", "N1", 1)])
    later = OrderAllocation(make_demand(order_id="later", placed_at=t0 + timedelta(hours=2)),
                            OrderAllocationStatus.backordered, 1, [], [Backorder("1", "A", 1)])
    vip = OrderAllocation(make_demand(order_id="vip", placed_at=t0 + timedelta(hours=3), customer_tier="vip"),
                          OrderAllocationStatus.backordered, 1, [], [Backorder("1", "A", 1)])
    book = book_of([StockPosition("A", "N1", on_hand=1, reserved=1)], holder, later, vip)
    book.release("holder", "cancelled")
    book.fill_backorders(["A"])
    assert (vip.status, vip.reservations, vip.backorders) == (
        OrderAllocationStatus.allocated, [Allocation("1", "A", "N1", 1)], [])
    assert later.status is OrderAllocationStatus.backordered and "later" not in book.changed
    assert book.changed["vip"] == "backorder_filled" and vip.revision == 2


def test_an_all_or_nothing_order_is_not_filled_while_other_skus_are_not_locked(make_demand):
    demand = make_demand(channel="b2b", lines=[("1", "A", 1), ("2", "C", 1)])
    order = OrderAllocation(demand, OrderAllocationStatus.backordered, 1, [],
                            [Backorder("1", "A", 1), Backorder("2", "C", 1)])
    book = book_of([StockPosition("A", "N1", on_hand=5)], order, rules={"b2b": SourcingRules(short_stock="backorder")})
    book.fill_backorders(["A"])  # C is not locked by this book: filling A alone would ship half
    assert order.status is OrderAllocationStatus.backordered and book.positions["A", "N1"].reserved == 0


def test_shrinkage_re_sources_the_newest_order_and_raises_an_exception(make_demand, t0):
    old = OrderAllocation(make_demand(order_id="old"), OrderAllocationStatus.allocated, 1,
                          [Allocation("1", "A", "N1", 1)])
    new = OrderAllocation(make_demand(order_id="new", placed_at=t0 + timedelta(hours=1)),
                          OrderAllocationStatus.allocated, 1, [Allocation("1", "A", "N1", 1)])
    book = book_of([StockPosition("A", "N1", on_hand=2, reserved=2), StockPosition("A", "N2", on_hand=1)], old, new)
    book.set_stock("A", "N1", 1)
    assert old.reservations == [Allocation("1", "A", "N1", 1)] and "old" not in book.changed
    assert new.reservations == [Allocation("1", "A", "N2", 1)] and book.changed["new"] == "shrinkage"
    assert [(e.sku, e.node, e.shortfall, e.affected_order_ids) for e in book.exceptions] == [("A", "N1", 1, ("new",))]
    book.set_stock("A", "N2", 0)  # nowhere left: backordered
    assert (new.status, new.backorders) == (OrderAllocationStatus.backordered, [Backorder("1", "A", 1)])


def test_picked_units_leave_the_reservation_and_are_never_re_sourced(make_demand):
    order = OrderAllocation(make_demand(lines=[("1", "A", 3)]), OrderAllocationStatus.allocated, 1,
                            [Allocation("1", "A", "N1", 3)])
    book = book_of([StockPosition("A", "N1", on_hand=3, reserved=3), StockPosition("A", "N2", on_hand=5)], order)
    assert book.fulfil("o1", "1", "A", "N1", 5) == 3  # never more than reserved
    book.set_stock("A", "N1", 0)  # the picked units left the shelf: no shrinkage, nothing re-sourced
    assert (order.reservations, order.fulfilled, order.status) == ([], [Allocation("1", "A", "N1", 3)],
                                                                   OrderAllocationStatus.allocated)
    assert book.exceptions == [] and book.changed == {} and book.positions["A", "N2"].reserved == 0
    assert [o.order_id for o in book.orders_to_save()] == ["o1"]


def test_commands_on_unlocked_skus_are_refused(make_demand):
    book = AllocationBook({}, {"A"}, [waiting(make_demand(lines=[("1", "Z", 1)]))], {})
    with pytest.raises(RuntimeError, match="not locked"):
        book.allocate(["o1"], "placed")


# --- any sequence of commands keeps the books straight ---------------------------------------------

command = st.one_of(
    st.tuples(st.just("place"), st.integers(0, 5)),
    st.tuples(st.just("pick"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("release"), st.integers(0, 5)),
    st.tuples(st.just("stock"), st.sampled_from(["A", "B"]), st.sampled_from(NODES), st.integers(0, 6)),
)


# make_demand is a stateless factory, safe to share between examples.
@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(command, max_size=25), data=st.data())
def test_any_sequence_of_commands_never_oversells(make_demand, commands, data):
    demands = [make_demand(order_id=f"o{i}", channel=data.draw(st.sampled_from(["web", "b2b"])),
                           lines=data.draw(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.integers(1, 3)),
                                                    min_size=1, max_size=3).map(
                               lambda lines: [(str(n), sku, qty) for n, (sku, qty) in enumerate(lines)])))
               for i in range(6)]
    rules = {"b2b": SourcingRules(allow_split=False, short_stock="backorder", protected_quantity=1)}
    book = book_of([StockPosition(sku, node, on_hand=2) for sku in "AB" for node in NODES],
                   *(waiting(d) for d in demands), rules=rules)
    for name, *args in commands:
        if name == "place":
            book.allocate([f"o{args[0]}"], "placed")
        elif name == "release":
            book.release(f"o{args[0]}", "cancelled")
        elif name == "pick":  # the warehouse picks units of the order's first reservation, and on_hand drops
            order = book.orders[f"o{args[0]}"]
            if order.reservations:
                r = order.reservations[0]
                picked = book.fulfil(order.order_id, r.line_id, r.sku, r.node, args[1])
                book.set_stock(r.sku, r.node, book.positions[r.sku, r.node].on_hand - picked)
        else:
            book.set_stock(*args)
        book.fill_backorders(["A", "B"])

        held = Counter()
        for order in book.orders.values():
            for r in order.reservations:
                held[r.sku, r.node] += r.qty
            assert all(r.qty > 0 for r in order.reservations) and all(b.qty > 0 for b in order.backorders)
            if order.status not in (OrderAllocationStatus.pending, OrderAllocationStatus.released):
                # every unit of every line is either reserved somewhere or waiting
                units = Counter({line.line_id: line.qty for line in order.demand.lines})
                covered = Counter()
                for r in order.reservations:
                    covered[r.line_id] += r.qty
                for b in order.backorders:
                    covered[b.line_id] += b.qty
                for f in order.fulfilled:
                    covered[f.line_id] += f.qty
                assert covered == units, order
        for key, position in book.positions.items():
            assert position.reserved == held[key]
            assert position.reserved <= position.on_hand
            assert position.atp >= 0
