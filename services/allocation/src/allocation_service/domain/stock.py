"""Stock of one SKU at one fulfilment node, and the arithmetic that keeps it from being oversold.

Plain Python: no framework, no I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

StockKey = tuple[str, str]
"""(sku, node): how positions are keyed everywhere, and the order the DB layer locks them in."""


class InsufficientStock(Exception):
    """A reservation asked for more than is available to promise; the caller re-plans under lock."""

    def __init__(self, sku: str, node: str, requested: int, available: int):
        super().__init__(f"{sku}@{node}: asked to reserve {requested}, only {available} available to promise")
        self.sku, self.node, self.requested, self.available = sku, node, requested, available


class ReleaseExceedsReserved(Exception):
    """Releasing more than is reserved means reservation records and the counter disagree: a bug, not a state."""

    def __init__(self, sku: str, node: str, requested: int, reserved: int):
        super().__init__(f"{sku}@{node}: asked to release {requested}, only {reserved} reserved")
        self.sku, self.node, self.requested, self.reserved = sku, node, requested, reserved


@dataclass
class StockPosition:
    sku: str
    node: str
    on_hand: int
    reserved: int = 0
    safety_stock: int = 0
    soft_reserved: int = 0  # held by unexpired soft reservations (carts, quotes): not promised to orders either

    def __post_init__(self) -> None:
        # reserved may exceed on_hand here: that is a shrunk position waiting for its shortfall to be resolved.
        for name in ("on_hand", "reserved", "safety_stock", "soft_reserved"):
            _require_count(name, getattr(self, name))

    @property
    def key(self) -> StockKey:
        return self.sku, self.node

    @property
    def atp(self) -> int:
        """Available to promise, never negative.

        After a count drops on_hand below reserved + safety stock the raw difference is negative; clamping keeps
        "minus three available" from meaning anything but "nothing to promise". Soft reservations count like
        reservations until they expire, are released or converted.
        """
        return max(0, self.on_hand - self.reserved - self.soft_reserved - self.safety_stock)

    @property
    def shortfall(self) -> int:
        """Reserved units no longer physically backed; safety stock may be eaten into, but not air."""
        return max(0, self.reserved - self.on_hand)

    def reserve(self, qty: int) -> None:
        _require_positive(qty)
        if qty > self.atp:
            raise InsufficientStock(self.sku, self.node, qty, self.atp)
        self.reserved += qty

    def release(self, qty: int) -> None:
        _require_positive(qty)
        if qty > self.reserved:
            raise ReleaseExceedsReserved(self.sku, self.node, qty, self.reserved)
        self.reserved -= qty

    def hold_softly(self, qty: int) -> None:
        """A soft reservation takes units from ATP, like a reservation, without an order."""
        _require_positive(qty)
        if qty > self.atp:
            raise InsufficientStock(self.sku, self.node, qty, self.atp)
        self.soft_reserved += qty

    def release_soft(self, qty: int) -> None:
        _require_positive(qty)
        if qty > self.soft_reserved:
            raise ReleaseExceedsReserved(self.sku, self.node, qty, self.soft_reserved)
        self.soft_reserved -= qty

    def set_on_hand(self, new_on_hand: int) -> int:
        """Records a stock count or receipt; returns the shortfall the caller must re-source (0 if none)."""
        _require_count("on_hand", new_on_hand)
        self.on_hand = new_on_hand
        return self.shortfall


def is_stale(version: int | None, applied_version: int | None) -> bool:
    """Whether a stock level is older than the one applied. The warehouse numbers its levels per position in
    commit order; a level without a number (an admin's, an older producer's) is never stale and leaves the
    number applied as it is, so the warehouse's next level replaces it and its older ones stay ignored."""
    return version is not None and applied_version is not None and version <= applied_version


def copy_positions(positions: Mapping[StockKey, StockPosition]) -> dict[StockKey, StockPosition]:
    """An independent copy to plan against, so trial reservations never touch the caller's positions."""
    return {key: replace(position) for key, position in positions.items()}


def _require_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _require_positive(qty: int) -> None:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise ValueError(f"quantity must be a positive integer, got {qty!r}")
