"""A return authorization (RMA) from request to close: receipt against what was expected, inspection with a
grade and the disposition rule that fired (a write-off above a value waits for a supervisor), and the timeline
of every stage. Plain Python: no I/O."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from ecomops_common.errors import Conflict
from returns_service.domain.dispositions import DISPOSITIONS, GRADES, DispositionTable, decide_disposition
from returns_service.domain.refunds import ORIGINAL_PAYMENT, STORE_CREDIT, check_approver, sum_of_kind


class RmaStatus(StrEnum):
    authorized = "authorized"  # waiting for the parcel
    received = "received"  # some or all units arrived, waiting for inspection
    inspected = "inspected"  # every received unit graded and dispositioned
    closed = "closed"  # dispositions done and the customer settled


# What a scanner's condition says of the grade, when the inspection at the bench gives no grade of its own.
CONDITION_GRADES = {"new": "A", "like_new": "A", "opened": "B", "damaged": "C", "missing_parts": "C",
                    "wrong_item": "C", "empty_box": "D"}


# Dispositions that write the units' value off: above a value, a supervisor approves them first.
WRITE_OFFS = frozenset({"scrap", "liquidate"})


class RmaError(Conflict):
    """A step the RMA's state does not allow; the message says why."""


@dataclass
class RmaLine:
    line_id: str
    sku: str
    category: str
    quantity: int  # expected
    unit_price: Decimal  # what the customer paid per unit
    shipped_serials: tuple[str, ...] = ()
    received: int = 0
    inspected: int = 0
    grades: dict[str, int] = field(default_factory=dict)  # grade -> units
    dispositions: dict[str, int] = field(default_factory=dict)  # disposition -> units
    dispositioned: int = 0  # units the warehouse has moved as decided
    order_quantity: int = 0  # units of the order line, for what the line paid in all


@dataclass(frozen=True)
class Stage:
    """One step of the timeline: what happened, when, by whom; cycle times are read off these."""

    stage: str
    at: datetime
    actor: str
    note: str | None = None


class WriteOff(StrEnum):
    pending_approval = "pending_approval"  # the disposition waits for a supervisor
    approved = "approved"
    rejected = "rejected"  # the units went to another disposition instead


@dataclass(frozen=True)
class Inspection:
    sku: str
    quantity: int
    grade: str
    disposition: str
    rule_id: str
    serial_mismatch: bool
    missing_accessories: tuple[str, ...]
    inspector: str
    # Defaults for inspections stored before write-offs needed approval.
    id: str = ""
    value: Decimal = Decimal(0)  # what the customer paid for the units
    write_off: WriteOff | None = None  # None: the disposition applied without approval
    decided_by: str | None = None
    decided_at: datetime | None = None
    hazardous: bool = False  # of a hazardous category: forced to quarantine
    notes: str | None = None  # the inspector's
    serial: str | None = None  # found on the unit


class SettlementStatus(StrEnum):
    pending_approval = "pending_approval"  # a risk signal fired: a supervisor decides
    approved = "approved"  # refund: waiting for finance to pay it out
    denied = "denied"
    issued = "issued"  # refund paid out, or replacement order placed


@dataclass
class Settlement:
    """How the customer is settled for some units of the RMA: a refund, or a replacement order (exchange)."""

    id: str
    kind: str  # refund | exchange
    status: SettlementStatus
    timing: str  # instant, on_receipt or after_inspection: the stage that released it
    amount: Decimal
    currency: str
    lines: dict[str, int]  # line_id -> units settled
    breakdown: list[tuple[str, Decimal]]  # (label, signed amount), see refunds.RefundQuote
    notes: list[str]
    risk_signals: list[str]
    decided_by: str | None = None
    decided_at: datetime | None = None
    grades: dict[str, dict[str, int]] = field(default_factory=dict)  # line_id -> grade -> units, once inspected
    method: str = ORIGINAL_PAYMENT  # a refund's: original_payment, store_credit or the customer's other method

    @property
    def final(self) -> bool:
        return self.status in (SettlementStatus.denied, SettlementStatus.issued)

    @property
    def tax(self) -> Decimal:
        """The sales tax in the amount: the breakdown's tax components."""
        return sum_of_kind(self.breakdown, "tax")

    def describe(self) -> str:
        paid_as = f" as {self.method}" if self.kind == "refund" and self.method != ORIGINAL_PAYMENT else ""
        return f"{self.kind} of {self.amount} {self.currency}{paid_as}"


@dataclass(frozen=True)
class ReturnLabel:
    """The prepaid label the shipping service bought for the RMA's parcel, for the customer."""

    carrier: str
    service: str
    tracking_number: str
    label_url: str | None
    cost: Decimal
    currency: str
    issued_at: datetime


@dataclass
class Rma:
    id: str
    order_id: str
    channel: str
    customer_id: str
    reason: str
    node: str
    lines: list[RmaLine]
    status: RmaStatus = RmaStatus.authorized
    timeline: list[Stage] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # for people to look at, e.g. unexpected items
    inspections: list[Inspection] = field(default_factory=list)
    currency: str = "EUR"
    resolution: str = "refund"  # or exchange (a replacement order) or store_credit
    shipping_fee: Decimal = Decimal(0)  # the order's, shared pro rata among its lines' goods
    order_goods: Decimal = Decimal(0)
    order_tax: Decimal = Decimal(0)  # the order's sales tax, refunded pro rata
    refund_method: str | None = None  # a method other than the order's payment, asked by the customer
    photos: list[str] = field(default_factory=list)  # references the customer sent with the request
    conditions: list[str] = field(default_factory=list)  # seen at receipt, e.g. empty_box
    settlements: list[Settlement] = field(default_factory=list)
    expected_by: datetime | None = None
    return_label: ReturnLabel | None = None

    @property
    def settlement_kind(self) -> str:
        """refund (money or store credit) or exchange."""
        return "exchange" if self.resolution == "exchange" else "refund"

    @property
    def settlement_method(self) -> str:
        """How a refund of this RMA is paid."""
        if self.resolution == STORE_CREDIT:
            return STORE_CREDIT
        return self.refund_method or ORIGINAL_PAYMENT

    def line_of(self, sku: str) -> RmaLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def attach_label(self, label: ReturnLabel) -> bool:
        """The return label the shipping service issued; False when it is the one held already (a redelivery)."""
        if label == self.return_label:
            return False
        self.return_label = label
        self.timeline.append(Stage("return_label_issued", label.issued_at, "shipping",
                                   f"{label.carrier} {label.service} {label.tracking_number}"))
        return True

    def receive(self, sku: str, quantity: int, condition: str, at: datetime, actor: str) -> None:
        """The warehouse's return receipt. Units that were not expected are flagged, never lost."""
        if self.status is RmaStatus.closed:
            raise RmaError(f"RMA {self.id} is closed")
        line = self.line_of(sku)
        if line is None:
            self.flags.append(f"unexpected item: {quantity} × {sku} ({condition})")
        else:
            if line.received + quantity > line.quantity:
                self.flags.append(f"unexpected quantity: {line.received + quantity} of {sku} received, "
                                  f"{line.quantity} expected")
            line.received += quantity
        self.conditions.append(condition)
        if self.status is RmaStatus.authorized:
            self.status = RmaStatus.received
        self.timeline.append(Stage("received", at, actor, f"{quantity} × {sku}, {condition}"))

    def inspect(self, sku: str, quantity: int, grade: str, table: DispositionTable, at: datetime, inspector: str,
                serial: str | None = None, missing_accessories: tuple[str, ...] = (),
                write_off_approval_value: Decimal | None = None, hazardous_categories: Collection[str] = (),
                notes: str | None = None, hazmat_class: str | None = None) -> Inspection:
        """Grades received units; the rule table decides their disposition (units of a SKU with a hazmat class or
        of a hazardous category go to quarantine whatever it says), and the rule is recorded. A write-off (scrap,
        liquidate) of units worth more than write_off_approval_value waits for a supervisor."""
        line = self.line_of(sku)
        if line is None:
            raise RmaError(f"{sku} is not on RMA {self.id}")
        if grade not in GRADES:
            raise RmaError(f"grade must be one of {', '.join(GRADES)}")
        if quantity <= 0 or line.inspected + quantity > line.received:
            raise RmaError(f"{line.received - line.inspected} received units of {sku} wait for inspection, "
                           f"{quantity} inspected")
        decision = decide_disposition(table, hazardous_categories, line.category, grade, self.reason, hazmat_class)
        mismatch = serial is not None and bool(line.shipped_serials) and serial not in line.shipped_serials
        value = line.unit_price * quantity
        waits = (decision.disposition in WRITE_OFFS and write_off_approval_value is not None
                 and value > write_off_approval_value)
        inspection = Inspection(sku, quantity, grade, decision.disposition, decision.rule_id, mismatch,
                                tuple(missing_accessories), inspector, f"{self.id}-I{len(self.inspections) + 1}",
                                value, WriteOff.pending_approval if waits else None,
                                hazardous=hazmat_class is not None or line.category in hazardous_categories,
                                notes=notes, serial=serial)
        line.inspected += quantity
        line.grades[grade] = line.grades.get(grade, 0) + quantity
        line.dispositions[decision.disposition] = line.dispositions.get(decision.disposition, 0) + quantity
        self.inspections.append(inspection)
        if mismatch:
            self.flags.append(f"serial mismatch: {serial} was not shipped for {sku}")
        if all(line.inspected == line.received for line in self.lines):
            self.status = RmaStatus.inspected
        note = f"{quantity} × {sku} grade {grade} → {decision.disposition} (rule {decision.rule_id})"
        self.timeline.append(Stage("inspected", at, inspector, note))
        if waits:
            self.timeline.append(Stage("write_off_pending_approval", at, "policy",
                                       f"{quantity} × {sku} → {decision.disposition}: {value} {self.currency} is "
                                       f"above {write_off_approval_value}"))
        return inspection

    def decide_write_off(self, inspection_id: str, approver: str, at: datetime, *, instead: str | None = None,
                         note: str | None = None) -> Inspection:
        """A supervisor approves a write-off waiting for approval or, naming another disposition `instead`,
        refuses it. Whoever graded the units may not decide (ApprovalRefused); RmaError for an inspection not
        waiting or a disposition that is no alternative."""
        index = next((i for i, inspection in enumerate(self.inspections) if inspection.id == inspection_id), None)
        if index is None:
            raise RmaError(f"RMA {self.id} has no inspection {inspection_id}")
        inspection = self.inspections[index]
        if inspection.write_off is not WriteOff.pending_approval:
            raise RmaError(f"inspection {inspection_id} has no write-off waiting for approval")
        check_approver(approver, {inspection.inspector})
        what = f"{inspection.quantity} × {inspection.sku}"
        if instead is None:
            decided = replace(inspection, write_off=WriteOff.approved, decided_by=approver, decided_at=at)
            stage = Stage("write_off_approved", at, approver,
                          f"{what} → {inspection.disposition}{': ' + note if note else ''}")
        else:
            if instead not in DISPOSITIONS or instead in WRITE_OFFS:
                raise RmaError(f"instead of a write-off: one of {', '.join(sorted(set(DISPOSITIONS) - WRITE_OFFS))}")
            dispositions = self.line_of(inspection.sku).dispositions
            dispositions[inspection.disposition] -= inspection.quantity
            if not dispositions[inspection.disposition]:
                del dispositions[inspection.disposition]
            dispositions[instead] = dispositions.get(instead, 0) + inspection.quantity
            decided = replace(inspection, disposition=instead, write_off=WriteOff.rejected, decided_by=approver,
                              decided_at=at)
            stage = Stage("write_off_rejected", at, approver,
                          f"{what} → {instead}, not {inspection.disposition}{': ' + note if note else ''}")
        self.inspections[index] = decided
        self.timeline.append(stage)
        return decided

    def apply_disposition(self, sku: str, quantity: int, disposition: str, at: datetime) -> None:
        """The warehouse moved the units as decided."""
        line = self.line_of(sku)
        if line is None:
            raise RmaError(f"{sku} is not on RMA {self.id}")
        line.dispositioned += quantity
        self.timeline.append(Stage("dispositioned", at, "warehouse", f"{quantity} × {sku} → {disposition}"))

    @property
    def inspectors(self) -> set[str]:
        return {inspection.inspector for inspection in self.inspections}

    @property
    def requested_by(self) -> str | None:
        """Who asked for the return: the caller's subject, or `channel:<channel>` for a channel's topic."""
        return self.timeline[0].actor if self.timeline else None

    @property
    def waiting_write_off(self) -> bool:
        return any(inspection.write_off is WriteOff.pending_approval for inspection in self.inspections)

    def settlement(self, settlement_id: str) -> Settlement:
        found = next((s for s in self.settlements if s.id == settlement_id), None)
        if found is None:
            raise RmaError(f"RMA {self.id} has no settlement {settlement_id}")
        return found

    def covered(self, line_id: str) -> int:
        """Units of the line some settlement (refund, exchange or denial) has dealt with."""
        return sum(s.lines.get(line_id, 0) for s in self.settlements)

    @property
    def closable(self) -> bool:
        """Every received unit inspected and moved, and every one settled with a final answer."""
        return (self.status is RmaStatus.inspected
                and all(line.dispositioned >= line.inspected for line in self.lines)
                and all(self.covered(line.line_id) >= min(line.received, line.quantity) for line in self.lines)
                and all(s.final for s in self.settlements))

    def close(self, at: datetime, actor: str, note: str) -> None:
        """Once dispositions are done and the customer is settled (refund confirmed or replacement sent)."""
        if self.status is not RmaStatus.inspected:
            raise RmaError(f"RMA {self.id} is {self.status}: only an inspected RMA can close")
        self.status = RmaStatus.closed
        self.timeline.append(Stage("closed", at, actor, note))

    def cycle_times(self) -> dict[str, float]:
        return cycle_times(self.timeline)


def cycle_times(timeline: Iterable[Stage]) -> dict[str, float]:
    """Seconds from authorization to the first time each later stage was reached."""
    first: dict[str, datetime] = {}
    for stage in timeline:
        first.setdefault(stage.stage, stage.at)
    start = first.get("authorized")
    return {name: (at - start).total_seconds() for name, at in first.items() if start and name != "authorized"}


def cycle_time_summary(timelines: Iterable[Iterable[Stage]]) -> dict[str, dict[str, float]]:
    """Per stage over many RMAs: how many reached it, and the median and 90th percentile seconds it took."""
    seconds: dict[str, list[float]] = {}
    for timeline in timelines:
        for stage, took in cycle_times(timeline).items():
            seconds.setdefault(stage, []).append(took)
    return {stage: {"count": len(values), "median_s": _percentile(values, 0.5), "p90_s": _percentile(values, 0.9)}
            for stage, values in seconds.items()}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
