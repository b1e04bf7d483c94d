"""The order as the order service sees it at intake. Plain Python: no framework, no I/O."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ecomops_common.contracts.orders import OrderStatus
from ecomops_common.money import MINOR_UNIT_DIGITS
from order_service.domain.lifecycle import (
    STORE_CREDIT,
    STORE_CREDIT_WAIT,
    IntakePolicy,
    OrderState,
    Transition,
    intake_holds,
)

ADDRESS_PARTS = ("name", "line1", "city", "postal_code", "country")  # what a carrier label needs


def address_complete(address: object) -> bool:
    """A carrier label can be printed: every part the label needs is there (else the order waits on a hold)."""
    return all(getattr(address, part, None) for part in ADDRESS_PARTS)


@dataclass(frozen=True)
class Rejection:
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class GradedVariant:
    """A graded or open-box variant of a SKU, as the warehouse defined it last: only its channels may sell it."""

    sku: str
    channels: frozenset[str]  # empty: every channel
    defined_at: datetime

    def sold_on(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class Order:
    id: str
    channel: str
    external_order_id: str
    currency: str
    lines: list[OrderLine]
    shipping_fee: Decimal
    tax: Decimal
    payment_amount: Decimal
    payment_status: str = "authorized"
    payment_method: str | None = None
    fraud_score: int | None = None
    address_complete: bool = True
    rejections: list[Rejection] = field(default_factory=list)
    state: OrderState | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0)) + self.shipping_fee + self.tax

    @property
    def status(self) -> OrderStatus:
        return self.state.status if self.state else OrderStatus.received

    @property
    def pays_with_store_credit(self) -> bool:
        return self.payment_method == STORE_CREDIT

    def screen(self, policy: IntakePolicy, at: datetime, placed_by: str | None = None,
               graded_variants: Mapping[str, GradedVariant] | None = None) -> None:
        """Intake: rejected with every broken rule, else on hold (payment, fraud, address) or ready.
        `placed_by`: who placed the order over HTTP (the token's subject); from the topic, the channel.
        `graded_variants`: the graded variants among the order's SKUs, by SKU."""
        self.state = OrderState(self.id, OrderStatus.received, payment_method=self.payment_method)
        self.state.changes.append(Transition(None, OrderStatus.received, placed_by or f"channel:{self.channel}",
                                             None, at))
        self.rejections = business_rule_violations(self, graded_variants or {})
        # The channel can neither authorize nor fail store credit: it waits for finance whatever the channel says.
        payment_status = "pending" if self.pays_with_store_credit else self.payment_status
        if payment_status == "failed":
            self.rejections.append(Rejection("payment.status", "payment_failed", "the payment failed"))
        if self.rejections:
            self.state.move(OrderStatus.rejected, "system", ", ".join(r.code for r in self.rejections), at)
        else:
            self.state.hold(intake_holds(policy, payment_status, self.fraud_score, self.address_complete),
                            "system", at, STORE_CREDIT_WAIT if self.pays_with_store_credit else None)


def business_rule_violations(order: Order, graded_variants: Mapping[str, GradedVariant]) -> list[Rejection]:
    problems: list[Rejection] = []
    minor_units = MINOR_UNIT_DIGITS.get(order.currency)
    if minor_units is None:
        problems.append(Rejection("currency", "unknown_currency", f"{order.currency} is not an ISO 4217 currency"))
    for index, line in enumerate(order.lines):
        if line.quantity <= 0:
            problems.append(Rejection(f"lines.{index}.quantity", "non_positive_quantity",
                                      f"quantity must be at least 1, got {line.quantity}"))
        if line.unit_price < 0:
            problems.append(Rejection(f"lines.{index}.unit_price", "negative_amount", "unit price is negative"))
        variant = graded_variants.get(line.sku)
        if variant is not None and not variant.sold_on(order.channel):
            problems.append(Rejection(f"lines.{index}.sku", "variant_not_sold_on_channel",
                                      f"{line.sku} is a graded variant sold only on "
                                      f"{', '.join(sorted(variant.channels))}, not on {order.channel}"))
    for line_id, count in Counter(line.line_id for line in order.lines).items():
        if count > 1:
            problems.append(Rejection("lines", "duplicate_line_id", f"line_id {line_id!r} appears {count} times"))
    for name in ("shipping_fee", "tax", "payment_amount"):
        if getattr(order, name) < 0:
            problems.append(Rejection(_field_name(name), "negative_amount", f"{name} is negative"))
    if minor_units is not None:
        for name, amount in _amounts(order):
            if amount.as_tuple().exponent < -minor_units:
                problems.append(Rejection(name, "too_many_decimals",
                                          f"{order.currency} has {minor_units} decimal places, got {amount}"))
    if order.payment_amount != order.total:
        problems.append(Rejection("payment.amount", "payment_amount_mismatch",
                                  f"payment amount {order.payment_amount} does not equal lines + shipping + tax"
                                  f" = {order.total}"))
    return problems


def _field_name(attribute: str) -> str:
    return "payment.amount" if attribute == "payment_amount" else attribute


def _amounts(order: Order):
    yield "shipping_fee", order.shipping_fee
    yield "tax", order.tax
    yield "payment.amount", order.payment_amount
    for index, line in enumerate(order.lines):
        yield f"lines.{index}.unit_price", line.unit_price
