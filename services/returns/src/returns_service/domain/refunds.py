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
from returns_service.domain.policy import STANDARD_REASONS, Refusal

# The retailer's fault: no restocking fee, and the shipping fee is refunded when the policy says so.
RETAILER_FAULT_REASONS = frozenset({"damaged_in_transit", "defective", "wrong_item"})
# The customer's own choice: the item should come back unused, so a damaged grade is suspicious.
UNUSED_ITEM_REASONS = frozenset({"changed_mind", "size_fit"})

DAMAGED_GRADES = frozenset({"C", "D"})

REFUND_TIMINGS = ("instant", "on_receipt", "after_inspection")
REFUND_STAGES = ("authorized", "received", "inspected")  # in the order an RMA reaches them
_FIRST_STAGE = {"instant": "authorized", "on_receipt": "received", "after_inspection": "inspected"}

RISK_SIGNALS = ("amount_above_threshold", "serial_mismatch", "empty_box", "frequent_returner",
                "grade_worse_than_reason", "different_refund_method")
SEGREGATION_OF_DUTIES = "segregation_of_duties"  # the reason of a decision refused to its own inspector or requester

# How a refund is paid (RefundApproved.method): back to the order's payment, or as store credit; any other
# method (e.g. bank_transfer) is the customer's request and needs a refund approver.
ORIGINAL_PAYMENT, STORE_CREDIT = "original_payment", "store_credit"


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
    # The reasons store credit is offered for; None: every reason, empty: none.
    store_credit_reasons: frozenset[str] | None = None

    def offers_store_credit(self, reason: str) -> bool:
        return self.store_credit_reasons is None or reason in self.store_credit_reasons

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
        for reason in sorted(self.store_credit_reasons or ()):
            if reason not in STANDARD_REASONS:
                errors.append(FieldProblem("store_credit_reasons", f"unknown reason code {reason!r}"))
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
    # Paid for the whole line, goods, shipping share and tax; None: unit_price × quantity + shipping_share and
    # their tax (tax_paid, else at tax_rate).
    paid: Decimal | None = None
    already_refunded: Decimal = Decimal(0)  # earlier refunds on this line
    # A partial refund agreed with the customer (e.g. keeps a flawed item) instead of the goods less fees.
    partial_amount: Decimal | None = None
    # The order's sales tax per unit of goods and shipping it sold (order_tax_rate); 0: no tax.
    tax_rate: Decimal = Decimal(0)
    # The line's tax (part of paid) and what earlier refunds gave back of it: a refund's tax never exceeds the
    # rest, so rounding each refund's tax up never gives back more than the sale took. None: no limit.
    tax_paid: Decimal | None = None
    tax_refunded: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {self.quantity!r}")
        for name in ("unit_price", "shipping_share", "already_refunded", "tax_rate", "tax_refunded"):
            if not _is_amount(getattr(self, name)):
                raise ValueError(f"{name} must be a decimal amount >= 0, got {getattr(self, name)!r}")
        for name in ("paid", "partial_amount", "tax_paid"):
            if getattr(self, name) is not None and not _is_amount(getattr(self, name)):
                raise ValueError(f"{name} must be a decimal amount >= 0 or None, got {getattr(self, name)!r}")
        if any(grade not in GRADES for grade in self.grades):
            raise ValueError(f"grades must be A, B, C or D, got {sorted(self.grades)}")
        if any(units < 0 for units in self.grades.values()) or sum(self.grades.values()) > self.quantity:
            raise ValueError(f"graded units {dict(self.grades)} do not fit the {self.quantity} refunded")

    @property
    def paid_total(self) -> Decimal:
        if self.paid is not None:
            return self.paid
        untaxed = self.unit_price * self.quantity + self.shipping_share
        return untaxed + (self.tax_paid if self.tax_paid is not None else untaxed * self.tax_rate)


@dataclass(frozen=True)
class RefundQuote:
    amount: Decimal
    currency: str
    # (label, signed amount) in the order applied; they sum to amount. Labels: "<line>/goods",
    # "<line>/partial_refund", "<line>/restocking_fee_<grade>", "<line>/shipping", "<line>/tax", "<line>/cap"
    # (a cap also takes its share off the tax: a second, negative "<line>/tax").
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
            entries += reduction(line.line_id, "cap", subtotal - left, subtotal, sum_of_kind(entries, "tax"), currency)
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
    # The tax of what is refunded: goods (less fees) and, when refunded, their share of shipping.
    tax = tax_on(sum((amount for _, amount in entries), Decimal(0)), line.tax_rate, currency)
    if line.tax_paid is not None:
        tax = max(Decimal(0), min(tax, line.tax_paid - line.tax_refunded))
    if tax:
        entries.append((f"{line.line_id}/tax", tax))
    return entries


def reduction(line_id: str, kind: str, amount: Decimal, line_total: Decimal, line_tax: Decimal,
              currency: str) -> list[tuple[str, Decimal]]:
    """Entries taking `amount` off a line's refund of `line_total` (a cap, a smaller approved amount): the tax
    in it is taken off pro rata, so the refund's tax stays the share of what is paid."""
    tax = min(line_tax, to_minor_unit(amount * line_tax / line_total, currency)) if line_total > 0 else Decimal(0)
    entries = [(f"{line_id}/{kind}", tax - amount)] if amount != tax else []
    return entries + ([(f"{line_id}/tax", -tax)] if tax else [])


def sum_of_kind(breakdown: Iterable[tuple[str, Decimal]], kind: str) -> Decimal:
    """The sum of a breakdown's components of one kind (labels are `<line_id>/<kind>`), e.g. its tax."""
    return sum((amount for label, amount in breakdown if label.rpartition("/")[2] == kind), Decimal(0))


def order_tax_rate(tax: Decimal, goods: Decimal, shipping_fee: Decimal) -> Decimal:
    """The order's sales tax per unit of what it sold (goods and shipping fee). The sale recognized the tax pro
    rata to the goods with their shipping share, so a refund of goods g with that share gives back
    tax × g / goods, and without the shipping share the tax of the goods alone."""
    if tax <= 0 or goods + shipping_fee <= 0:
        return Decimal(0)
    return tax / (goods + shipping_fee)


def tax_on(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The tax of `amount` refunded at the order's rate, rounded to the minor unit like the shipping share."""
    return to_minor_unit(amount * rate, currency) if amount > 0 and rate else Decimal(0)


def shipping_share(shipping_fee: Decimal, goods: Decimal, order_goods: Decimal, currency: str) -> Decimal:
    """The part of the order's shipping fee that belongs to `goods`, pro rata to the order's goods value."""
    if order_goods <= 0:
        return Decimal(0)
    return to_minor_unit(shipping_fee * min(goods, order_goods) / order_goods, currency)


def risk_signals(policy: RefundPolicy, amount: Decimal, reason: str, *, grades: Iterable[str] = (),
                 conditions: Iterable[str] = (), serial_mismatch: bool = False,
                 returns_in_90d: int = 0, different_method: bool = False) -> list[str]:
    """Why a supervisor should look before the refund goes out (empty: it may be approved automatically).

    grades are the inspection grades seen, conditions those the warehouse recorded at receipt, returns_in_90d
    the customer's earlier returns within 90 days (this one not counted), different_method a refund paid
    otherwise than the order (money could go to someone else). Codes come in RISK_SIGNALS order.
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
    if different_method:
        found.add("different_refund_method")
    return [signal for signal in RISK_SIGNALS if signal in found]


def check_settlement(policy: RefundPolicy, reason: str, resolution: str,
                     refund_method: str | None) -> list[Refusal]:
    """What the channel's refund policy refuses of how the customer asks to be settled (empty: nothing).
    refund_method is a method other than the order's payment (see other_refund_method)."""
    refusals = []
    if resolution == STORE_CREDIT and not policy.offers_store_credit(reason):
        refusals.append(Refusal("store_credit_not_offered", "resolution",
                                f"store credit is not offered for {reason} returns on this channel"))
    if refund_method == STORE_CREDIT:
        refusals.append(Refusal("refund_method_not_applicable", "refund_method",
                                "ask for store credit as the resolution, not as a refund method"))
    elif refund_method is not None and resolution != "refund":
        refusals.append(Refusal("refund_method_not_applicable", "refund_method",
                                f"a {resolution} settlement is no refund: no refund method applies"))
    return refusals


def other_refund_method(asked: str | None, order_method: str | None) -> str | None:
    """The method asked when it is not the order's own payment (None: the refund goes back the original way)."""
    return None if asked in (None, ORIGINAL_PAYMENT, order_method) else asked


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
