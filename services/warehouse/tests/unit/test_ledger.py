"""The movement ledger: balances are the sum of movements and never negative."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_service.domain.ledger import (
    Balances,
    InsufficientStock,
    Movement,
    Place,
    Reason,
    StockStatus,
    replay,
)

T0 = datetime(2026, 11, 22, 8, tzinfo=UTC)
DOCK = Place("BER1", "DOCK-IN", StockStatus.received_pending_putaway)
BIN = Place("BER1", "A-01-03", StockStatus.sellable)


def move(qty, source, target, reason=Reason.move, sku="SKU-RED-M"):
    return Movement(sku, qty, source, target, reason, "ref-1", "op-15", None, T0)


def test_receipt_then_putaway_makes_units_sellable():
    balances = Balances()
    balances.apply_all([move(5, None, DOCK, Reason.receipt), move(3, DOCK, BIN, Reason.putaway)])
    assert balances.held("SKU-RED-M", DOCK) == 2
    assert balances.on_hand("SKU-RED-M", "BER1", StockStatus.sellable) == 3


def test_taking_more_than_a_place_holds_is_refused_and_changes_nothing():
    balances = Balances()
    balances.apply(move(2, None, DOCK, Reason.receipt))
    with pytest.raises(InsufficientStock, match="asked for 2, only 1"):
        balances.apply_all([move(1, DOCK, BIN), move(2, DOCK, BIN)])
    assert balances.items() == {("SKU-RED-M", DOCK): 2}


@pytest.mark.parametrize("qty, source, target, message", [
    (0, None, DOCK, "positive"),
    (1, None, None, "source, a target"),
    (1, DOCK, DOCK, "must change"),
    (1, BIN, Place("HAM1", "A-01", StockStatus.sellable), "in_transit"),
])
def test_malformed_movements_are_refused(qty, source, target, message):
    with pytest.raises(ValueError, match=message):
        move(qty, source, target)


places = st.builds(Place, st.sampled_from(["BER1", "HAM1"]), st.sampled_from(["DOCK", "A-01", "A-02"]),
                   st.sampled_from(list(StockStatus)), st.sampled_from([None, "L1"]))
movements = st.builds(
    lambda sku, qty, source, target: (sku, qty, source, target),
    st.sampled_from(["A", "B"]), st.integers(1, 5), st.none() | places, st.none() | places)


@settings(deadline=None, max_examples=300)
@given(attempts=st.lists(movements, max_size=60))
def test_balances_always_equal_the_sum_of_the_applied_movements_and_are_never_negative(attempts):
    balances, ledger = Balances(), []
    for sku, qty, source, target in attempts:
        try:
            movement = Movement(sku, qty, source, target, Reason.move, None, "op", None, T0)
            balances.apply(movement)
        except (ValueError, InsufficientStock):
            continue
        ledger.append(movement)
    assert balances.items() == replay(ledger).items()
    assert all(units > 0 for units in balances.items().values())
