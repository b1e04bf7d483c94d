import pytest

from allocation_service.domain.stock import (
    InsufficientStock,
    ReleaseExceedsReserved,
    StockPosition,
    copy_positions,
    is_stale,
)


def test_atp_is_on_hand_less_reserved_and_safety_stock():
    assert StockPosition("A", "WH1", on_hand=10, reserved=3, safety_stock=2).atp == 5


def test_atp_is_never_negative_after_shrink():
    assert StockPosition("A", "WH1", on_hand=2, reserved=5, safety_stock=1).atp == 0


def test_reserve_takes_from_atp():
    position = StockPosition("A", "WH1", on_hand=10, reserved=3, safety_stock=2)
    position.reserve(5)
    assert (position.reserved, position.atp) == (8, 0)


def test_reserving_more_than_atp_raises_and_changes_nothing():
    position = StockPosition("A", "WH1", on_hand=10, reserved=3, safety_stock=2)
    with pytest.raises(InsufficientStock) as raised:
        position.reserve(6)
    assert (raised.value.requested, raised.value.available) == (6, 5)
    assert position.reserved == 3


def test_safety_stock_cannot_be_reserved():
    with pytest.raises(InsufficientStock):
        StockPosition("A", "WH1", on_hand=3, safety_stock=3).reserve(1)


def test_release_returns_units_to_atp():
    position = StockPosition("A", "WH1", on_hand=10, reserved=4)
    position.release(3)
    assert (position.reserved, position.atp) == (1, 9)


def test_releasing_more_than_reserved_raises():
    position = StockPosition("A", "WH1", on_hand=10, reserved=2)
    with pytest.raises(ReleaseExceedsReserved):
        position.release(3)
    assert position.reserved == 2


@pytest.mark.parametrize("qty", [0, -1, True, 1.5])
def test_quantities_must_be_positive_integers(qty):
    position = StockPosition("A", "WH1", on_hand=10, reserved=5)
    with pytest.raises(ValueError):
        position.reserve(qty)
    with pytest.raises(ValueError):
        position.release(qty)


def test_counts_cannot_be_negative():
    with pytest.raises(ValueError):
        StockPosition("A", "WH1", on_hand=-1)
    with pytest.raises(ValueError):
        StockPosition("A", "WH1", on_hand=1).set_on_hand(-1)


def test_set_on_hand_returns_no_shortfall_while_reservations_are_backed():
    position = StockPosition("A", "WH1", on_hand=10, reserved=6, safety_stock=2)
    assert position.set_on_hand(12) == 0
    # Eating into safety stock is not a shortfall: the reserved units still physically exist.
    assert position.set_on_hand(7) == 0
    assert position.atp == 0


def test_set_on_hand_returns_the_reserved_units_no_longer_backed():
    position = StockPosition("A", "WH1", on_hand=10, reserved=6)
    assert position.set_on_hand(4) == 2
    assert (position.on_hand, position.reserved, position.atp) == (4, 6, 0)


def test_copy_positions_is_independent():
    original = {("A", "WH1"): StockPosition("A", "WH1", on_hand=5)}
    copy = copy_positions(original)
    copy["A", "WH1"].reserve(2)
    assert original["A", "WH1"].reserved == 0


def test_a_warehouse_level_not_numbered_above_the_applied_one_is_stale():
    assert is_stale(4, 5) and is_stale(5, 5)
    assert not is_stale(6, 5)
    assert not is_stale(1, None)  # the position's first warehouse level


def test_a_level_without_a_version_is_never_stale():
    """An admin's level (PUT /v1/stock) or an older producer's applies whatever the warehouse numbered before."""
    assert not is_stale(None, 5) and not is_stale(None, None)
