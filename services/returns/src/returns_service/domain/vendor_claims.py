"""Which vendor supplies a SKU (the catalog names it) and vendor claims (supplier recovery): inspected units whose
return reason and grade the claim rule names, of a SKU with a vendor, accumulate with their evidence into that
vendor's one draft claim; the claim then goes draft → submitted → accepted / partially_accepted / rejected →
credited, each step by an authenticated person and kept on its timeline. Plain Python: no I/O."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from ecomops_common.errors import Conflict, FieldProblem, Invalid
from ecomops_common.money import to_minor_unit
from returns_service.domain.dispositions import GRADES
from returns_service.domain.policy import STANDARD_REASONS
from returns_service.domain.rma import Inspection, Rma

DRAFT, SUBMITTED, CREDITED = "draft", "submitted", "credited"
OUTCOMES = ("accepted", "partially_accepted", "rejected")  # the vendor's answer to a submitted claim
CREDITABLE = frozenset({"accepted", "partially_accepted"})


class ClaimError(Conflict):
    """A step the claim's status (or its lines) do not allow; the message names the status or the lines."""


class InvalidClaimStep(Invalid):
    code = "invalid_claim_step"


@dataclass(frozen=True)
class ClaimRule:
    """Which returns are claimed from the vendor: the RMA's reason and the unit's grade must both be listed."""

    reasons: frozenset[str] = frozenset({"defective"})
    grades: frozenset[str] = frozenset({"B", "C", "D"})

    def matches(self, reason: str, grade: str) -> bool:
        return reason in self.reasons and grade in self.grades

    def validate(self) -> list[FieldProblem]:
        return ([FieldProblem("reasons", f"unknown reason code {reason!r}")
                 for reason in sorted(self.reasons) if reason not in STANDARD_REASONS]
                + [FieldProblem("grades", f"unknown grade {grade!r}: use A, B, C or D")
                   for grade in sorted(self.grades) if grade not in GRADES])


DEFAULT_CLAIM_RULE = ClaimRule()


class VendorOf(NamedTuple):
    """Who supplies a SKU, as the catalog names it."""

    vendor_id: str
    vendor_sku: str | None = None


def vendor_change(held: VendorOf | None, catalog: VendorOf | None) -> str | None:
    """What the catalog's vendor of a SKU does to the one held: `assigned` (another vendor or vendor SKU),
    `removed` (the catalog names none any more) or None (unchanged)."""
    if catalog == held:
        return None
    return "assigned" if catalog is not None else "removed"


class UnitCost(NamedTuple):
    """A SKU's cost as finance keeps it: what a claim asks back per unit."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ClaimLine:
    """Units of one inspection claimed, with the evidence the vendor gets."""

    inspection_id: str  # one line per inspection: a redelivered inspection adds nothing
    rma_id: str
    sku: str
    vendor_sku: str | None
    quantity: int
    grade: str
    reason: str
    unit_cost: Decimal | None = None  # None: not known yet; the claim cannot be submitted
    currency: str | None = None
    serials: tuple[str, ...] = ()
    notes: str | None = None  # the inspector's
    photos: tuple[str, ...] = ()  # the RMA's references

    @property
    def amount(self) -> Decimal | None:
        if self.unit_cost is None or self.currency is None:
            return None
        return to_minor_unit(self.unit_cost * self.quantity, self.currency)


@dataclass(frozen=True)
class ClaimStep:
    action: str  # opened, line_added, submitted, accepted, partially_accepted, rejected, credited
    at: datetime
    actor: str
    note: str | None = None


@dataclass
class VendorClaim:
    id: str
    vendor_id: str
    status: str = DRAFT
    lines: list[ClaimLine] = field(default_factory=list)
    accepted_amount: Decimal | None = None
    credited_amount: Decimal | None = None
    credit_reference: str | None = None
    timeline: list[ClaimStep] = field(default_factory=list)

    @property
    def currency(self) -> str | None:
        """The first costed line's; unknown while no line has a cost."""
        return next((line.currency for line in self.lines if line.currency), None)

    @property
    def claimed_amount(self) -> Decimal:
        """What the costed lines ask back (in the claim's currency)."""
        return sum((line.amount for line in self.lines if line.amount is not None
                    and line.currency == self.currency), Decimal(0))

    @property
    def last_step(self) -> ClaimStep:
        return self.timeline[-1]

    def add_line(self, line: ClaimLine, at: datetime, actor: str) -> bool:
        """Adds the units of an inspection to the draft; False when that inspection is on it already."""
        self._expect({DRAFT}, "lines are added to a draft only")
        if any(existing.inspection_id == line.inspection_id for existing in self.lines):
            return False
        self.lines.append(line)
        self.timeline.append(ClaimStep("line_added", at, actor,
                                       f"{line.quantity} × {line.sku} grade {line.grade} from {line.rma_id}"))
        return True

    def submit(self, costs: Mapping[str, UnitCost], actor: str, at: datetime, note: str | None = None) -> None:
        """Sent to the vendor: lines without a cost take the SKU's cost known now; every line must have one, in
        one currency (ClaimError names the lines that do not)."""
        self._expect({DRAFT}, "only a draft is submitted")
        if not self.lines:
            raise ClaimError(f"claim {self.id} has no lines to submit")
        self.lines = [replace(line, unit_cost=costs[line.sku].amount, currency=costs[line.sku].currency)
                      if line.unit_cost is None and line.sku in costs else line for line in self.lines]
        unknown = [f"lines.{i} ({line.sku} from {line.rma_id})" for i, line in enumerate(self.lines)
                   if line.unit_cost is None]
        if unknown:
            raise ClaimError(f"no unit cost known for {', '.join(unknown)}")
        other = [f"lines.{i} ({line.sku}: {line.currency})" for i, line in enumerate(self.lines)
                 if line.currency != self.currency]
        if other:
            raise ClaimError(f"the claim is in {self.currency}; costed in another currency: {', '.join(other)}")
        self.status = SUBMITTED
        self.timeline.append(ClaimStep(SUBMITTED, at, actor, note or f"{self.claimed_amount} {self.currency}"))

    def respond(self, outcome: str, accepted_amount: Decimal | None, actor: str, at: datetime,
                note: str | None = None) -> None:
        """The vendor's answer: accepted (the whole claimed amount), partially_accepted (0 < accepted_amount <
        claimed) or rejected (nothing)."""
        if outcome not in OUTCOMES:
            raise InvalidClaimStep([FieldProblem("outcome", f"must be one of {', '.join(OUTCOMES)}")])
        self._expect({SUBMITTED}, "only a submitted claim gets the vendor's answer")
        claimed = self.claimed_amount
        if outcome == "partially_accepted":
            if accepted_amount is None or not 0 < accepted_amount < claimed:
                raise InvalidClaimStep([FieldProblem("accepted_amount", f"a partial acceptance is more than 0 and "
                                                                        f"less than the claimed {claimed}")])
            self._check_minor_unit("accepted_amount", accepted_amount)
        elif accepted_amount is not None and accepted_amount != (claimed if outcome == "accepted" else 0):
            raise InvalidClaimStep([FieldProblem("accepted_amount", f"{outcome} means "
                                                 f"{claimed if outcome == 'accepted' else 0}: leave it out")])
        self.accepted_amount = {"accepted": claimed, "rejected": Decimal(0)}.get(outcome, accepted_amount)
        self.status = outcome
        self.timeline.append(ClaimStep(outcome, at, actor, note))

    def credit(self, amount: Decimal, reference: str, actor: str, at: datetime) -> None:
        """The vendor's credit note arrived, for at most what it accepted."""
        self._expect(CREDITABLE, "only an accepted or partially accepted claim is credited")
        if not 0 < amount <= self.accepted_amount:
            raise InvalidClaimStep([FieldProblem("amount", f"more than 0 and at most the accepted "
                                                           f"{self.accepted_amount}")])
        self._check_minor_unit("amount", amount)
        self.credited_amount, self.credit_reference, self.status = amount, reference, CREDITED
        self.timeline.append(ClaimStep(CREDITED, at, actor, f"{amount} {self.currency}, {reference}"))

    def _expect(self, statuses: set[str] | frozenset[str], why: str) -> None:
        if self.status not in statuses:
            raise ClaimError(f"claim {self.id} is {self.status}: {why}")

    def _check_minor_unit(self, name: str, amount: Decimal) -> None:
        if to_minor_unit(amount, self.currency) != amount:
            raise InvalidClaimStep([FieldProblem(name, f"more decimals than {self.currency} has")])


def new_claim(claim_id: str, vendor_id: str, at: datetime, actor: str) -> VendorClaim:
    return VendorClaim(claim_id, vendor_id, timeline=[ClaimStep("opened", at, actor)])


def claim_line(rma: Rma, inspection: Inspection, vendor_sku: str | None, cost: UnitCost | None) -> ClaimLine:
    """The claim line of an inspection, with the RMA's evidence."""
    return ClaimLine(inspection.id, rma.id, inspection.sku, vendor_sku, inspection.quantity, inspection.grade,
                     rma.reason, cost.amount if cost else None, cost.currency if cost else None,
                     (inspection.serial,) if inspection.serial else (), inspection.notes, tuple(rma.photos))
