"""Physical stock as an immutable movement ledger and the balances it sums to. Plain Python: no framework, no I/O.

Every change is a Movement from one place to another (a receipt comes from nowhere, a shipment goes nowhere).
Balances are only ever changed by applying a movement, so they always equal the sum of the ledger, and a
movement that would take more than a place holds is refused before anything changes.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class StockStatus(StrEnum):
    received_pending_putaway = "received_pending_putaway"
    sellable = "sellable"
    picked = "picked"  # taken from its bin for an order: no longer sellable, not yet packed
    packed = "packed"
    quarantined = "quarantined"
    damaged = "damaged"
    return_pending_inspection = "return_pending_inspection"
    refurbish = "refurbish"
    vendor_return = "vendor_return"
    in_transit = "in_transit"  # between nodes: visible, not sellable
    liquidation = "liquidation"  # returned units awaiting a sale through a secondary channel


class Reason(StrEnum):
    receipt = "receipt"
    putaway = "putaway"
    pick = "pick"
    pack = "pack"
    ship = "ship"
    move = "move"
    count_adjustment = "count_adjustment"
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"
    return_receipt = "return_receipt"
    inspection = "inspection"
    disposition = "disposition"
    refurbishment = "refurbishment"  # refurbished units back to sellable under their own SKU
    regrade = "regrade"  # refurbished units leave their SKU and enter its graded variant's
    qa_release = "qa_release"  # a QA decision moved quarantined units to another status
    rtv_pick = "rtv_pick"  # vendor-return units picked, packed and shipped against a return-to-vendor authorization
    rtv_pack = "rtv_pack"
    rtv_ship = "rtv_ship"
    liquidation = "liquidation"  # sold through a secondary channel
    scrap = "scrap"


@dataclass(frozen=True)
class Place:
    """Where units are and in what condition: node (warehouse), location in it, status, and optionally the
    lot, serial number and expiry date that tell units of one SKU apart."""

    node: str
    location: str
    status: StockStatus
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None


@dataclass(frozen=True)
class Movement:
    sku: str
    quantity: int
    source: Place | None  # None: units enter the books (receipt, found in a count)
    target: Place | None  # None: units leave the books (shipment, lost in a count)
    reason: Reason
    reference: str | None  # PO, ASN, task, RMA, transfer
    actor: str  # operator or supervisor, or the device for scans
    scan_id: str | None
    at: datetime

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {self.quantity!r}")
        if self.source is None and self.target is None:
            raise ValueError("a movement needs a source, a target or both")
        if self.source == self.target:
            raise ValueError("a movement must change where or in what status the units are")
        if self.source and self.target and self.target.status is not StockStatus.in_transit \
                and self.source.status is not StockStatus.in_transit and self.source.node != self.target.node:
            raise ValueError("units change node only through in_transit")


class InsufficientStock(Exception):
    def __init__(self, sku: str, place: Place, requested: int, held: int) -> None:
        super().__init__(f"{sku} at {place.node}/{place.location} ({place.status}): asked for {requested}, "
                         f"only {held} there")
        self.sku, self.place, self.requested, self.held = sku, place, requested, held


BalanceKey = tuple[str, Place]


class Balances:
    """Units per (sku, place). Only `apply` changes them."""

    def __init__(self, balances: dict[BalanceKey, int] | None = None) -> None:
        self._units: dict[BalanceKey, int] = defaultdict(int)
        for key, units in (balances or {}).items():
            if units < 0:
                raise ValueError(f"negative balance {units} for {key}")
            if units:
                self._units[key] = units

    def held(self, sku: str, place: Place) -> int:
        return self._units.get((sku, place), 0)

    def apply(self, movement: Movement) -> None:
        if movement.source is not None:
            held = self.held(movement.sku, movement.source)
            if movement.quantity > held:
                raise InsufficientStock(movement.sku, movement.source, movement.quantity, held)
            self._units[movement.sku, movement.source] = held - movement.quantity
            if not self._units[movement.sku, movement.source]:
                del self._units[movement.sku, movement.source]
        if movement.target is not None:
            self._units[movement.sku, movement.target] += movement.quantity

    def apply_all(self, movements: Iterable[Movement]) -> None:
        """All or nothing: a refused movement leaves the balances as they were."""
        movements = list(movements)
        # Only the places these movements touch are kept aside: copying every balance per scan made a batch
        # cost scans × positions.
        kept = {key: self._units.get(key, 0) for m in movements for key in ((m.sku, m.source), (m.sku, m.target))}
        try:
            for movement in movements:
                self.apply(movement)
        except InsufficientStock:
            for key, units in kept.items():
                if units:
                    self._units[key] = units
                else:
                    self._units.pop(key, None)
            raise

    def items(self) -> dict[BalanceKey, int]:
        return dict(self._units)

    def by_sku_node(self) -> dict[tuple[str, str], dict[str, int]]:
        """Units per (sku, node) and status, over all locations and lots, in one pass."""
        return units_by_sku_node(self._units)

    def places(self, sku: str, node: str, status: StockStatus) -> list[tuple[Place, int]]:
        """The places (locations, lots) holding units of a SKU at a node in one status, with their units."""
        return [(place, units) for (s, place), units in self._units.items()
                if s == sku and place.node == node and place.status is status]

    def on_hand(self, sku: str, node: str, status: StockStatus) -> int:
        """Units of a SKU at a node in one status, over all its locations and lots (e.g. sellable on-hand)."""
        return sum(units for (s, place), units in self._units.items()
                   if s == sku and place.node == node and place.status is status)


def replay(movements: Iterable[Movement]) -> Balances:
    """The balances a ledger sums to; reconciliation compares them with the stored balances."""
    balances = Balances()
    for movement in movements:
        balances.apply(movement)
    return balances


def units_by_sku_node(balances: dict[BalanceKey, int]) -> dict[tuple[str, str], dict[str, int]]:
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (sku, place), units in balances.items():
        totals[sku, place.node][place.status.value] += units
    return {key: dict(by_status) for key, by_status in totals.items()}
