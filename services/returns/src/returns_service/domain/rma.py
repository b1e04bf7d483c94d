"""A return authorization (RMA) from request to close: receipt against what was expected, inspection with a
grade and the disposition rule that fired, and the timeline of every stage. Plain Python: no I/O."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from returns_service.domain.dispositions import GRADES, DispositionTable


class RmaStatus(StrEnum):
    authorized = "authorized"  # waiting for the parcel
    received = "received"  # some or all units arrived, waiting for inspection
    inspected = "inspected"  # every received unit graded and dispositioned
    closed = "closed"  # dispositions done and the customer settled


class RmaError(Exception):
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


@dataclass(frozen=True)
class Stage:
    """One step of the timeline: what happened, when, by whom; cycle times are read off these."""

    stage: str
    at: datetime
    actor: str
    note: str | None = None


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

    def line_of(self, sku: str) -> RmaLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

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
        if self.status is RmaStatus.authorized:
            self.status = RmaStatus.received
        self.timeline.append(Stage("received", at, actor, f"{quantity} × {sku}, {condition}"))

    def inspect(self, sku: str, quantity: int, grade: str, table: DispositionTable, at: datetime, inspector: str,
                serial: str | None = None, missing_accessories: tuple[str, ...] = ()) -> Inspection:
        """Grades received units; the rule table decides their disposition, and the rule is recorded."""
        line = self.line_of(sku)
        if line is None:
            raise RmaError(f"{sku} is not on RMA {self.id}")
        if grade not in GRADES:
            raise RmaError(f"grade must be one of {', '.join(GRADES)}")
        if quantity <= 0 or line.inspected + quantity > line.received:
            raise RmaError(f"{line.received - line.inspected} received units of {sku} wait for inspection, "
                           f"{quantity} inspected")
        decision = table.decide(line.category, grade, self.reason)
        mismatch = serial is not None and bool(line.shipped_serials) and serial not in line.shipped_serials
        inspection = Inspection(sku, quantity, grade, decision.disposition, decision.rule_id, mismatch,
                                tuple(missing_accessories), inspector)
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
        return inspection

    def close(self, at: datetime, actor: str, note: str) -> None:
        """Once dispositions are done and the customer is settled (refund confirmed or replacement sent)."""
        if self.status is not RmaStatus.inspected:
            raise RmaError(f"RMA {self.id} is {self.status}: only an inspected RMA can close")
        self.status = RmaStatus.closed
        self.timeline.append(Stage("closed", at, actor, note))

    def cycle_times(self) -> dict[str, float]:
        """Seconds from authorization to the first time each later stage was reached."""
        first: dict[str, datetime] = {}
        for stage in self.timeline:
            first.setdefault(stage.stage, stage.at)
        start = first.get("authorized")
        return {name: (at - start).total_seconds() for name, at in first.items() if start and name != "authorized"}
