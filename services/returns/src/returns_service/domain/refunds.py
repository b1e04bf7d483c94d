"""How much a return refunds, when, and whether a supervisor must approve it first. Plain Python: no I/O.

A quote never pays out more than the customer paid for the lines less what was already refunded for them;
when a rule would, the quote is capped and its breakdown says so.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from ecomops_common.errors import FieldProblem, Forbidden
from ecomops_common.money import to_minor_unit
from returns_service.domain.dispositions import GRADES
from returns_service.domain.policy import STANDARD_REASONS

# The retailer's fault: no restocking fee, and the shipping fee is refunded when the policy says so.
RETAILER_FAULT_REASONS = frozenset({"damaged_in_transit", "defective", "wrong_item"})
# The customer's own choice: the item should come back unused, so a damaged grade is suspicious.
UNUSED_ITEM_REASONS = frozenset({"changed_mind", "size_fit"})

DAMAGED_GRADES = frozenset({"C", "D"})

REFUND_TIMINGS = ("instant", "on_receipt", "after_inspection")
REFUND_STAGES = ("authorized", "received", "inspected")  # in the order an RMA reaches them
_FIRST_STAGE = {"instant": "authorized", "on_receipt": "received", "after_inspection": "inspected"}

RISK_SIGNALS = ("amount_above_threshold", "serial_mismatch", "empty_box", "frequent_returner",
                "grade_worse_than_reason")
SEGREGATION_OF_DUTIES = "segregation_of_duties"  # the reason of a decision refused to its own inspector or requester

# Currencies whose minor unit is not the cent (ISO 4217); any other currency has 2 decimals.


@dataclass(frozen=True)
class RefundPolicy:
    """A channel's (or channel × category's) refund rules."""

    timing: str = "after_inspection"
    # instant only pays before receipt up to this amount; above it the refund waits for receipt.
    instant_max_amount: Decimal = Decimal(0)
    # grade -> share of the goods amount kept as restocking fee (0..1); a grade not listed pays no fee.
    restocking_fee_by_grade: Mapping[str, Decimal] = field(default_factory=dict)
    # Refund the returned lines' share of the order's shipping fee when the reason is the retailer's fault.
    refund_shipping: bool = True
    # Above this amount a supervisor approves the refund.
    approval_threshold: Decimal = Decimal(250)
    # More earlier returns than this within 90 days sends the refund to a supervisor.
    max_returns_90d: int = 5

    def validate(self) -> list[FieldProblem]:
        """Every broken rule at once (empty when valid)."""
        errors: list[FieldProblem] = []
        if self.timing not in REFUND_TIMINGS:
            errors.append(FieldProblem("timing", f"must be one of {', '.join(REFUND_TIMINGS)}"))
        for name in ("instant_max_amount", "approval_threshold"):
            if not _is_amount(getattr(self, name)):
                errors.append(FieldProblem(name, "must be a decimal amount >= 0"))
        if not isinstance(self.restocking_fee_by_grade, Mapping):
            errors.append(FieldProblem("restocking_fee_by_grade", "must map grade A, B, C or D to a rate"))
        else:
            for grade, rate in self.restocking_fee_by_grade.items():
                path = f"restocking_fee_by_grade.{grade}"
                if grade not in GRADES:
                    errors.append(FieldProblem(path, f"unknown grade {grade!r}: use A, B, C or D"))
                if not _is_amount(rate) or rate > 1:
                    errors.append(FieldProblem(path, "must be a decimal rate from 0 to 1"))
        if not isinstance(self.refund_shipping, bool):
            errors.append(FieldProblem("refund_shipping", "must be true or false"))
        if isinstance(self.max_returns_90d, bool) or not isinstance(self.max_returns_90d, int) \
                or self.max_returns_90d < 0:
            errors.append(FieldProblem("max_returns_90d", "must be an integer >= 0"))
        return errors


DEFAULT_POLICY = RefundPolicy()
"""Without rules of its own a channel refunds after inspection, keeps no fee and refunds shipping for its faults."""


def policy_for(channel: str, category: str | None,
               policies: Mapping[tuple[str, str | None], RefundPolicy]) -> RefundPolicy:
    """The channel × category policy, else the channel's (category None), else DEFAULT_POLICY."""
    return policies.get((channel, category)) or policies.get((channel, None)) or DEFAULT_POLICY


@dataclass(frozen=True)
class RefundLine:
    """One order line being refunded: what the customer paid and, once inspected, the grades of its units."""

    line_id: str
    unit_price: Decimal  # paid per unit, after discounts
    quantity: int  # units refunded now
    grades: Mapping[str, int] = field(default_factory=dict)  # grade -> units; the rest are not inspected yet
    shipping_share: Decimal = Decimal(0)  # the returned units' share of the order's shipping fee
    # Paid for the whole line, goods and shipping share; None: unit_price × quantity + shipping_share.
    paid: Decimal | None = None
    already_refunded: Decimal = Decimal(0)  # earlier refunds on this line
    # A partial refund agreed with the customer (e.g. keeps a flawed item) instead of the goods less fees.
    partial_amount: Decimal | None = None

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {self.quantity!r}")
        for name in ("unit_price", "shipping_share", "already_refunded"):
            if not _is_amount(getattr(self, name)):
                raise ValueError(f"{name} must be a decimal amount >= 0, got {getattr(self, name)!r}")
        for name in ("paid", "partial_amount"):
            if getattr(self, name) is not None and not _is_amount(getattr(self, name)):
                raise ValueError(f"{name} must be a decimal amount >= 0 or None, got {getattr(self, name)!r}")
        if any(grade not in GRADES for grade in self.grades):
            raise ValueError(f"grades must be A, B, C or D, got {sorted(self.grades)}")
        if any(units < 0 for units in self.grades.values()) or sum(self.grades.values()) > self.quantity:
            raise ValueError(f"graded units {dict(self.grades)} do not fit the {self.quantity} refunded")

    @property
    def paid_total(self) -> Decimal:
        return self.paid if self.paid is not None else self.unit_price * self.quantity + self.shipping_share


@dataclass(frozen=True)
class RefundQuote:
    amount: Decimal
    currency: str
    # (label, signed amount) in the order applied; they sum to amount. Labels: "<line>/goods",
    # "<line>/partial_refund", "<line>/restocking_fee_<grade>", "<line>/shipping", "<line>/cap".
    breakdown: list[tuple[str, Decimal]]
    notes: list[str]  # why, for people: fees waived, units not inspected yet, caps


def quote_refund(policy: RefundPolicy, reason: str, lines: Sequence[RefundLine], currency: str) -> RefundQuote:
    """What the return refunds under the policy. Raises ValueError for an invalid policy or unknown reason."""
    if errors := policy.validate():
        raise ValueError(f"invalid refund policy: {errors}")
    if reason not in STANDARD_REASONS:
        raise ValueError(f"reason must be one of {', '.join(sorted(STANDARD_REASONS))}")
    breakdown: list[tuple[str, Decimal]] = []
    notes: list[str] = []
    retailer_fault = reason in RETAILER_FAULT_REASONS
    for line in lines:
        entries = _line_entries(policy, reason, line, currency, notes)
        subtotal = sum((amount for _, amount in entries), Decimal(0))
        # Rounded down: a cap rounded up could pay a fraction of a cent more than is left.
        left = max(Decimal(0), to_minor_unit(line.paid_total - line.already_refunded, currency, ROUND_DOWN))
        if subtotal > left:
            entries.append((f"{line.line_id}/cap", left - subtotal))
            notes.append(f"{line.line_id}: capped at {left} {currency}: paid {line.paid_total}, "
                         f"already refunded {line.already_refunded}")
        breakdown.extend(entries)
    if retailer_fault and any(policy.restocking_fee_by_grade.get(g) for line in lines for g in line.grades):
        notes.insert(0, f"{reason} is the retailer's fault: no restocking fee")
    amount = sum((amount for _, amount in breakdown), Decimal(0))
    return RefundQuote(to_minor_unit(amount, currency), currency, breakdown, notes)


def _line_entries(policy: RefundPolicy, reason: str, line: RefundLine, currency: str,
                  notes: list[str]) -> list[tuple[str, Decimal]]:
    goods = to_minor_unit(line.unit_price * line.quantity, currency)
    entries = [(f"{line.line_id}/goods", goods)]
    if line.partial_amount is not None:
        # Agreed with the customer: it replaces the fees, and never adds to the goods amount.
        partial = min(goods, to_minor_unit(line.partial_amount, currency))
        entries.append((f"{line.line_id}/partial_refund", partial - goods))
        notes.append(f"{line.line_id}: partial refund of {partial} {currency} agreed instead of {goods}")
    elif reason not in RETAILER_FAULT_REASONS:
        kept = Decimal(0)
        for grade, units in sorted(line.grades.items()):
            fee = to_minor_unit(line.unit_price * units * policy.restocking_fee_by_grade.get(grade, 0), currency)
            # Fees rounded per grade could add up to a cent more than the rounded goods amount.
            fee = min(fee, goods - kept)
            if fee:
                entries.append((f"{line.line_id}/restocking_fee_{grade}", -fee))
                kept += fee
        ungraded = line.quantity - sum(line.grades.values())
        if ungraded and any(policy.restocking_fee_by_grade.values()):
            notes.append(f"{line.line_id}: {ungraded} unit(s) not inspected yet: no restocking fee")
    if reason in RETAILER_FAULT_REASONS and policy.refund_shipping and line.shipping_share:
        entries.append((f"{line.line_id}/shipping", to_minor_unit(line.shipping_share, currency)))
    return entries


def shipping_share(shipping_fee: Decimal, goods: Decimal, order_goods: Decimal, currency: str) -> Decimal:
    """The part of the order's shipping fee that belongs to `goods`, pro rata to the order's goods value."""
    if order_goods <= 0:
        return Decimal(0)
    return to_minor_unit(shipping_fee * min(goods, order_goods) / order_goods, currency)


def risk_signals(policy: RefundPolicy, amount: Decimal, reason: str, *, grades: Iterable[str] = (),
                 conditions: Iterable[str] = (), serial_mismatch: bool = False,
                 returns_in_90d: int = 0) -> list[str]:
    """Why a supervisor should look before the refund goes out (empty: it may be approved automatically).

    grades are the inspection grades seen, conditions those the warehouse recorded at receipt, returns_in_90d
    the customer's earlier returns within 90 days (this one not counted). Codes come in RISK_SIGNALS order.
    """
    found = set()
    if amount > policy.approval_threshold:
        found.add("amount_above_threshold")
    if serial_mismatch:
        found.add("serial_mismatch")
    if "empty_box" in set(conditions):
        found.add("empty_box")
    if returns_in_90d > policy.max_returns_90d:
        found.add("frequent_returner")
    if reason in UNUSED_ITEM_REASONS and DAMAGED_GRADES & set(grades):
        found.add("grade_worse_than_reason")
    return [signal for signal in RISK_SIGNALS if signal in found]


def needs_approval(signals: Collection[str]) -> bool:
    return bool(signals)


class ApprovalRefused(Forbidden):
    """The person may not make this decision; `reason` is a stable code."""


def check_approver(approver: str, inspectors: Collection[str], requester: str | None = None) -> None:
    """Segregation of duties on authenticated subjects (the token's, never a request field): whoever graded the
    items, or requested the return, does not decide what it pays or writes off; another person does. The roles
    a decision needs are the route's (the issuer's token)."""
    if approver in inspectors:
        raise ApprovalRefused(SEGREGATION_OF_DUTIES, f"{approver} inspected these items: another person decides")
    if approver == requester:
        raise ApprovalRefused(SEGREGATION_OF_DUTIES, f"{approver} requested this return: another person decides")


def refund_timing(policy: RefundPolicy, amount: Decimal, signals: Collection[str] = ()) -> str:
    """The policy's timing for this refund: instant falls back to on_receipt above instant_max_amount or when
    there is any risk signal, since paying before the parcel arrives is only for low-value, low-risk returns."""
    if policy.timing == "instant" and (amount > policy.instant_max_amount or signals):
        return "on_receipt"
    return policy.timing


def refund_due_at(policy: RefundPolicy, amount: Decimal, signals: Collection[str] = ()) -> str:
    """The first RMA stage (authorized, received, inspected) at which the refund may be issued."""
    return _FIRST_STAGE[refund_timing(policy, amount, signals)]


def may_refund_at(policy: RefundPolicy, stage: str, amount: Decimal, signals: Collection[str] = ()) -> bool:
    """Whether the refund may be issued once the RMA has reached `stage` (approval is a separate question)."""
    if stage not in REFUND_STAGES:
        raise ValueError(f"stage must be one of {', '.join(REFUND_STAGES)}")
    return REFUND_STAGES.index(stage) >= REFUND_STAGES.index(refund_due_at(policy, amount, signals))


def _is_amount(value: object) -> bool:
    # Money is Decimal: a float would already carry binary rounding error.
    return isinstance(value, Decimal) and value.is_finite() and value >= 0
