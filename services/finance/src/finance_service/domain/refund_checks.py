"""Defense in depth for approved refunds. Plain Python.

A RefundApproved on returns.events.v1 is paid only when it matches a return finance knows (its ReturnAuthorized
comes first on the same topic and partition) and, with the order's refunds already approved, does not exceed
what the customer paid for the order. Anything else is refused and never paid, whoever managed to publish it;
an approval whose order finance has not heard of yet (order.events.v1 is consumed apart) is held until it has.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from finance_service.domain.payouts import Refund, RefundStatus


@dataclass(frozen=True)
class RefundedUnits:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class KnownReturn:
    """A return as finance learned it from ReturnAuthorized."""

    rma_id: str
    order_id: str
    channel: str
    lines: Mapping[str, tuple[str, int]]  # line id → (SKU, units authorized)


@dataclass(frozen=True)
class PaidOrder:
    order_id: str
    currency: str
    paid: Decimal
    refunded: Decimal  # by the order's other refunds that finance pays or paid (pending, failed, issued)


def refusal(refund: Refund, lines: Iterable[RefundedUnits], known: KnownReturn | None) -> str | None:
    """Why the refund does not match a known return, or None."""
    if known is None:
        return f"unknown_return: finance knows no return {refund.rma_id}"
    if (known.order_id, known.channel) != (refund.order_id, refund.channel):
        return (f"return_mismatch: {refund.rma_id} is a return of order {known.order_id} on {known.channel}, "
                f"not of {refund.order_id} on {refund.channel}")
    for line in lines:
        sku, authorized = known.lines.get(line.line_id, (None, 0))
        if sku != line.sku or line.quantity > authorized:
            return (f"return_mismatch: {line.quantity} × {line.sku} of line {line.line_id} are not authorized on "
                    f"{refund.rma_id}")
    if refund.amount < 0:
        return f"negative_amount: {refund.amount}"
    return None


def overpayment(refund: Refund, order: PaidOrder) -> str | None:
    """Why the order's payment does not cover the refund, or None."""
    if refund.currency != order.currency:
        return (f"currency_mismatch: the refund is in {refund.currency}, order {order.order_id} was paid in "
                f"{order.currency}")
    left = order.paid - order.refunded
    if refund.amount > left:
        return (f"exceeds_payment: {refund.amount} {refund.currency} is more than the {left} left of the "
                f"{order.paid} paid for order {order.order_id}")
    return None


def check(refund: Refund, lines: Iterable[RefundedUnits], known: KnownReturn | None,
          order: PaidOrder | None) -> None:
    """Decides a held refund: payable (pending), refused with the reason, or held while its order is unknown."""
    if refund.status is not RefundStatus.held:
        raise ValueError(f"refund {refund.refund_id} is {refund.status}, only a held refund is checked")
    problem = refusal(refund, lines, known)
    if problem is None and order is None:
        refund.hold_reason = f"order_unknown: waiting for order {refund.order_id}"
        return
    problem = problem or overpayment(refund, order)
    refund.status = RefundStatus.refused if problem else RefundStatus.pending
    refund.hold_reason = problem
