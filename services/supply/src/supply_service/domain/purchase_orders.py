"""Purchase orders: draft → approved (above the approval threshold by someone other than the creator) → sent →
partially received → closed, or cancelled before anything is on its way; advance ship notices announce units of a
sent order (never more than is open on a line), receipts against them close its lines with their discrepancies;
a buyer may close an order short. Every change is a step with who took it and a new revision. Plain Python."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from ecomops_common.errors import Conflict, FieldProblem, Forbidden, Invalid

DRAFT, APPROVED, SENT = "draft", "approved", "sent"
PARTIALLY_RECEIVED, CLOSED, CANCELLED = "partially_received", "closed", "cancelled"
ON_ORDER = frozenset({DRAFT, APPROVED, SENT, PARTIALLY_RECEIVED})  # units still to come (or to be ordered)
RECEIVING = frozenset({SENT, PARTIALLY_RECEIVED})
MAX_TOTAL = Decimal(10) ** 13  # what a money field can carry
FOUR_EYES = "four_eyes"


class PurchaseOrderConflict(Conflict):
    """A step the order's status does not allow; the message names the status."""


class InvalidPurchaseOrder(Invalid):
    code = "invalid_purchase_order"


@dataclass
class PoLine:
    line_id: str
    sku: str
    vendor_sku: str | None
    quantity: int
    unit_cost: Decimal
    expected_date: date
    received: int = 0
    discrepancy: int = 0  # received - quantity once the line is closed: negative short, positive over

    @property
    def open(self) -> int:
        return max(0, self.quantity - self.received)

    @property
    def amount(self) -> Decimal:
        return self.unit_cost * self.quantity


@dataclass
class AsnLine:
    po_line_id: str
    sku: str
    quantity: int
    lot: str | None = None
    expiry: date | None = None
    received: int = 0  # units booked in against this notice's line

    @property
    def in_transit(self) -> int:
        return max(0, self.quantity - self.received)


class AnnouncedUnits(NamedTuple):
    """A line of a notice as the vendor sends it."""

    po_line_id: str
    quantity: int
    lot: str | None = None
    expiry: date | None = None


@dataclass
class Asn:
    asn_id: str
    expected_date: date
    lines: list[AsnLine]
    issued_by: str
    issued_at: datetime


@dataclass(frozen=True)
class Step:
    reason: str  # created, approved, sent, asn, received, closed, closed_short, cancelled, received_after_close
    actor: str
    at: datetime
    note: str | None = None


@dataclass
class PurchaseOrder:
    po_id: str
    vendor_id: str
    node: str
    currency: str
    expected_date: date
    created_by: str
    lines: list[PoLine]
    status: str = DRAFT
    revision: int = 1
    approved_by: str | None = None
    asns: list[Asn] = field(default_factory=list)
    timeline: list[Step] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def last_step(self) -> Step:
        return self.timeline[-1]

    def on_order(self, line: PoLine) -> int:
        """Units of the line still to come: none once the order is closed or cancelled."""
        return line.open if self.status in ON_ORDER else 0

    def in_transit(self, line_id: str) -> int:
        return sum(asn_line.in_transit for asn in self.asns for asn_line in asn.lines if asn_line.po_line_id == line_id)

    def approve(self, actor: str, threshold: Decimal, at: datetime, note: str | None = None) -> None:
        """Four eyes: an order totalling more than `threshold` (in its currency) is approved by someone else than
        whoever created it."""
        self._expect({DRAFT}, "only a draft is approved")
        if self.total > threshold and actor == self.created_by:
            raise Forbidden(FOUR_EYES, f"purchase order {self.po_id} totals {self.total} {self.currency}, above the "
                                       f"approval threshold of {threshold}: four eyes, it needs an approver other "
                                       f"than its creator {self.created_by}")
        self.status, self.approved_by = APPROVED, actor
        self._step("approved", actor, at, note)

    def send(self, actor: str, at: datetime, note: str | None = None) -> None:
        self._expect({APPROVED}, "only an approved order is sent to the vendor")
        self.status = SENT
        self._step("sent", actor, at, note)

    def cancel(self, actor: str, at: datetime, note: str | None = None) -> None:
        """Before anything is announced or received; after that, close it short."""
        self._expect({DRAFT, APPROVED, SENT}, "only an order with nothing received is cancelled")
        if self.asns:
            raise PurchaseOrderConflict(f"purchase order {self.po_id} has advance ship notices "
                                        f"({', '.join(asn.asn_id for asn in self.asns)}): close it short instead")
        self.status = CANCELLED
        self._step("cancelled", actor, at, note)

    def close_short(self, actor: str, at: datetime, note: str | None = None) -> None:
        """Nothing more is expected: each line closes with what it received (its discrepancy)."""
        self._expect(RECEIVING, "only a sent or partially received order is closed short")
        for line in self.lines:
            line.discrepancy = line.received - line.quantity
        self.status = CLOSED
        self._step("closed_short", actor, at, note)

    def issue_asn(self, asn_id: str, expected_date: date, lines: Sequence[AnnouncedUnits], actor: str,
                  at: datetime) -> Asn:
        """The vendor's notice of units on their way: each line names a line of this order and at most the units
        still open on it (ordered − received − already announced in transit); those lines now expect the units on
        the notice's date."""
        self._expect(RECEIVING, "advance ship notices are for a sent order")
        by_id = {line.line_id: line for line in self.lines}
        problems, seen = [], set()
        for n, asn_line in enumerate(lines):
            line = by_id.get(asn_line.po_line_id)
            if line is None:
                problems.append(FieldProblem(f"lines.{n}.po_line_id", f"purchase order {self.po_id} has no line "
                                                                      f"{asn_line.po_line_id!r}"))
                continue
            if asn_line.po_line_id in seen:
                problems.append(FieldProblem(f"lines.{n}.po_line_id", f"line {asn_line.po_line_id} is on the notice "
                                                                      "twice"))
                continue
            seen.add(asn_line.po_line_id)
            open_units = max(0, line.open - self.in_transit(line.line_id))
            if asn_line.quantity > open_units:
                problems.append(FieldProblem(f"lines.{n}.quantity", f"at most {open_units} units of line "
                                                                    f"{line.line_id} ({line.sku}) are open"))
        if problems:
            raise InvalidPurchaseOrder(problems)
        asn = Asn(asn_id, expected_date, [AsnLine(asn_line.po_line_id, by_id[asn_line.po_line_id].sku,
                                                  asn_line.quantity, asn_line.lot, asn_line.expiry)
                                          for asn_line in lines], actor, at)
        self.asns.append(asn)
        for asn_line in asn.lines:
            by_id[asn_line.po_line_id].expected_date = expected_date
        self._step("asn", actor, at, f"{asn_id}: {sum(line.quantity for line in asn.lines)} units expected "
                                     f"{expected_date.isoformat()}")
        return asn

    def receive(self, asn_id: str, sku: str, quantity: int, actor: str, at: datetime) -> bool:
        """Units of a SKU booked in against one of the order's notices; False (nothing changes) when the order has
        no line of that SKU. A line fully received closes with its discrepancy (over-receipt positive); the order
        closes when every line has, else it is partially received. Units arriving after the order was closed (or
        cancelled) are still counted, and the closed lines' discrepancies follow."""
        line = next((line for line in self.lines if line.sku == sku), None)
        if line is None:
            return False
        line.received += quantity
        asn_line = next((asn_line for asn in self.asns if asn.asn_id == asn_id
                         for asn_line in asn.lines if asn_line.po_line_id == line.line_id), None)
        if asn_line is not None:
            asn_line.received += quantity
        note = f"{quantity} × {sku} on {asn_id}"
        if self.status not in RECEIVING:
            for closed in self.lines:
                closed.discrepancy = closed.received - closed.quantity
            self._step("received_after_close", actor, at, note)
            return True
        if line.received >= line.quantity:
            line.discrepancy = line.received - line.quantity
        if all(each.received >= each.quantity for each in self.lines):
            self.status = CLOSED
        else:
            self.status = PARTIALLY_RECEIVED
        self._step("received", actor, at, note)
        return True

    def _expect(self, statuses: set[str] | frozenset[str], why: str) -> None:
        if self.status not in statuses:
            raise PurchaseOrderConflict(f"purchase order {self.po_id} is {self.status}: {why}")

    def _step(self, reason: str, actor: str, at: datetime, note: str | None) -> None:
        self.revision += 1
        self.timeline.append(Step(reason, actor, at, note))


def new_purchase_order(po_id: str, vendor_id: str, node: str, currency: str, expected_date: date, lines: list[PoLine],
                       actor: str, at: datetime, today: date, note: str | None = None) -> PurchaseOrder:
    """A draft; InvalidPurchaseOrder names every field a rule refuses: line ids and SKUs once each, dates not
    in the past, a total a money field can carry."""
    problems = []
    if expected_date < today:
        problems.append(FieldProblem("expected_date", f"{expected_date.isoformat()} is in the past"))
    line_ids: dict[str, int] = {}
    skus: dict[str, int] = {}
    for n, line in enumerate(lines):
        if line.line_id in line_ids:
            problems.append(FieldProblem(f"lines.{n}.line_id", f"line {line.line_id} is lines.{line_ids[line.line_id]}"
                                                               " already"))
        if line.sku in skus:
            problems.append(FieldProblem(f"lines.{n}.sku", f"{line.sku} is on lines.{skus[line.sku]} already: one "
                                                           "line per SKU"))
        if line.expected_date < today and line.expected_date != expected_date:  # the order's is named once
            problems.append(FieldProblem(f"lines.{n}.expected_date", f"{line.expected_date.isoformat()} is in the "
                                                                     "past"))
        line_ids.setdefault(line.line_id, n)
        skus.setdefault(line.sku, n)
    order = PurchaseOrder(po_id, vendor_id, node, currency, expected_date, actor, lines,
                          timeline=[Step("created", actor, at, note)])
    if order.total >= MAX_TOTAL:
        problems.append(FieldProblem("lines", f"the total {order.total} is beyond what an order may carry"))
    if problems:
        raise InvalidPurchaseOrder(problems)
    return order
