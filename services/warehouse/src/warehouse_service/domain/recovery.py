"""Returned units leaving the recovery statuses (refurbish, quarantined, vendor_return, liquidation, damaged): back to
sellable (possibly as a graded variant), to another status after a QA decision, to the vendor against a
return-to-vendor authorization, sold off or scrapped. Plain Python: no framework, no I/O.

A write-off (scrap or liquidation) worth more than the threshold waits for a supervisor other than the requester;
scrapping hazardous units needs a disposal record.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from ecomops_common.contracts.warehouse import RecoveryAction
from ecomops_common.errors import Conflict, FieldProblem, Invalid
from warehouse_service.domain.ledger import Balances, Movement, Reason, StockStatus
from warehouse_service.domain.refusals import ScanRefused

RECOVERY_STATUSES = frozenset({StockStatus.refurbish, StockStatus.quarantined, StockStatus.vendor_return,
                               StockStatus.liquidation, StockStatus.damaged})
# Where a QA decision sends quarantined units (scrap leaves the books).
QA_TARGETS = {"sellable": StockStatus.sellable, "refurbish": StockStatus.refurbish,
              "vendor_return": StockStatus.vendor_return}
_REASONS = {RecoveryAction.refurbished: Reason.refurbishment, RecoveryAction.refurbish_failed: Reason.scrap,
            RecoveryAction.qa_released: Reason.qa_release, RecoveryAction.liquidated: Reason.liquidation,
            RecoveryAction.scrapped: Reason.scrap, RecoveryAction.rtv_picked: Reason.rtv_pick,
            RecoveryAction.rtv_packed: Reason.rtv_pack, RecoveryAction.rtv_shipped: Reason.rtv_ship}


class Shortfall(Conflict):
    """Fewer units in the source status and location than asked for: 409 naming the shortfall."""

    def __init__(self, sku: str, node: str, location: str, status: StockStatus, asked: int, held: int) -> None:
        super().__init__(f"{node}/{location} holds {held} {status} units of {sku}, {asked} asked: {asked - held} "
                         f"short")


@dataclass(frozen=True)
class RecoveryMove:
    """Units of a SKU leaving a recovery status at a location: to another status (and location, and for a graded
    variant another SKU), or off the books when `to_status` is None."""

    action: RecoveryAction
    node: str
    sku: str
    location: str
    from_status: StockStatus
    quantity: int
    to_status: StockStatus | None = None
    to_location: str | None = None  # None: the units stay where they are
    to_sku: str | None = None  # the graded variant the units become
    reference: str | None = None  # RMA, return-to-vendor authorization or liquidation lot
    vendor_id: str | None = None
    buyer: str | None = None  # of a liquidation lot
    proceeds: Decimal | None = None
    currency: str | None = None
    disposal: dict[str, Any] | None = None  # a DisposalRecord: how scrapped units were destroyed
    note: str | None = None  # the QA decision's note, or why units are scrapped

    @property
    def leaves_books(self) -> bool:
        return self.to_status is None

    @property
    def is_scrap(self) -> bool:
        return self.action in (RecoveryAction.scrapped, RecoveryAction.refurbish_failed)


def recovery_movements(balances: Balances, move: RecoveryMove, actor: str, at: datetime) -> list[Movement]:
    """The ledger movements of a move, applied to `balances` (all or nothing): its units are drawn from every
    lot and serial at the location in the source status, fullest first. Raises Shortfall."""
    drawn, left = [], move.quantity
    for place, units in sorted(((place, units) for (sku, place), units in balances.items().items()
                                if sku == move.sku and (place.node, place.location, place.status)
                                == (move.node, move.location, move.from_status)),
                               key=lambda entry: (-entry[1], str(entry[0]))):
        drawn.append((place, min(units, left)))
        left -= drawn[-1][1]
        if not left:
            break
    if left:
        raise Shortfall(move.sku, move.node, move.location, move.from_status, move.quantity, move.quantity - left)
    movements = []
    for place, units in drawn:
        target = None if move.to_status is None else replace(place, location=move.to_location or place.location,
                                                               status=move.to_status)
        if move.to_sku:  # a graded variant is another SKU: the units leave the base SKU's books, enter the variant's
            movements += [Movement(move.sku, units, place, None, Reason.regrade, move.reference, actor, None, at),
                          Movement(move.to_sku, units, None, target, Reason.regrade, move.reference, actor, None, at)]
        else:
            movements.append(Movement(move.sku, units, place, target, _REASONS[move.action], move.reference, actor,
                                      None, at))
    balances.apply_all(movements)
    return movements


def require_recovery_status(status: StockStatus) -> None:
    if status not in RECOVERY_STATUSES:
        raise Invalid([FieldProblem("status", f"{status} is not a recovery status (one of "
                                              f"{', '.join(sorted(RECOVERY_STATUSES))})")])


def require_disposal(moves: list[RecoveryMove], hazardous: set[tuple[str, str]]) -> None:
    """Hazardous or regulated units (remembered per SKU and node from their disposition) are scrapped only with a
    disposal record."""
    for move in moves:
        if move.is_scrap and move.disposal is None and (move.sku, move.node) in hazardous:
            raise Invalid([FieldProblem("disposal", f"{move.sku} at {move.node} is hazardous: scrapping it needs "
                                                    "a disposal record (method, facility)")])


def write_off_value(moves: list[RecoveryMove], unit_costs: dict[str, tuple[Decimal, str]]
                    ) -> tuple[Decimal, str] | None:
    """Units × unit cost of the moves that leave the books, in the cost's currency; None when a SKU's cost is
    unknown or the costs are in different currencies (then it cannot be shown to be small)."""
    value, currencies = Decimal(0), set()
    for move in moves:
        if not move.leaves_books:
            continue
        if move.sku not in unit_costs:
            return None
        cost, currency = unit_costs[move.sku]
        value += move.quantity * cost
        currencies.add(currency)
    if len(currencies) > 1:
        return None
    return value, next(iter(currencies), "")


def needs_approval(moves: list[RecoveryMove], value: tuple[Decimal, str] | None, threshold: Decimal) -> bool:
    """A scrap or liquidation worth more than the threshold (or of unknown worth) waits for a second supervisor."""
    return any(move.leaves_books for move in moves) and (value is None or value[0] > threshold)


@dataclass
class QaItem:
    """Quarantined units of one disposition waiting for a QA decision."""

    id: str
    node: str
    sku: str
    remaining: int


def answer_qa_items(items: list[QaItem], units: int) -> list[tuple[QaItem, int]]:
    """Units that left quarantine answer the oldest items first (`items` in the order they were raised); returns
    the items touched with the units each gave (an item with none remaining is resolved)."""
    touched = []
    for item in items:
        if not units:
            break
        taken = min(item.remaining, units)
        item.remaining -= taken
        units -= taken
        touched.append((item, taken))
    return touched


@dataclass
class GradedVariant:
    """A graded or open-box variant of a SKU, with its own price and the channels that may sell it."""

    variant_sku: str
    base_sku: str
    grade: str
    list_price: Decimal
    currency: str
    channels: list[str]

    def __post_init__(self) -> None:
        if self.variant_sku == self.base_sku:
            raise Invalid([FieldProblem("base_sku", "a graded variant needs its own SKU, not its base SKU")])

    def require_base(self, sku: str) -> None:
        if sku != self.base_sku:
            raise Invalid([FieldProblem("variant_sku", f"{self.variant_sku} is a variant of {self.base_sku}, "
                                                       f"not of {sku}")])


# Each step of a return to vendor takes what the one before it did: (units it takes from, units it counts).
RTV_STEPS = {"pick": ("quantity", "picked"), "pack": ("picked", "packed"), "ship": ("packed", "shipped")}


@dataclass
class RtvLine:
    quantity: int
    picked: int = 0
    packed: int = 0
    shipped: int = 0


@dataclass
class VendorReturn:
    """A return-to-vendor authorization: vendor_return units of its lines are picked, packed and shipped against
    it by the ordinary scans (reference = rtv_id), each step at most what the previous one did."""

    rtv_id: str
    vendor_id: str
    node: str
    lines: dict[str, RtvLine]
    claim_id: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None

    def _line(self, node: str, sku: str) -> RtvLine:
        line = self.lines.get(sku)
        if line is None or node != self.node:
            raise ScanRefused("wrong_item", f"return-to-vendor {self.rtv_id} has no {sku} at {node}")
        return line

    def advance(self, step: str, node: str, sku: str, quantity: int) -> None:
        """A pick, pack or ship scan against the authorization: at most what the step before it left."""
        line = self._line(node, sku)
        before, done = RTV_STEPS[step]
        left = getattr(line, before) - getattr(line, done)
        if quantity > left:
            raise ScanRefused(f"over_{step}", f"return-to-vendor {self.rtv_id} has {left} of {sku} left to {step}, "
                                              f"{quantity} scanned")
        setattr(line, done, getattr(line, done) + quantity)



@dataclass
class WriteOff:
    """Moves off the books waiting for a supervisor other than the requester (status pending_approval, then
    approved or rejected)."""

    id: str
    node: str
    moves: list[RecoveryMove]
    value: tuple[Decimal, str] | None
    requested_by: str
    requested_at: datetime
    status: str = "pending_approval"
