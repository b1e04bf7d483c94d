"""Defense in depth: an approved refund is paid only when it matches a known return and what was paid for the
order covers it; whatever the publisher, anything else is refused, and an unknown order is waited for."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from finance_service.domain.payouts import Refund, RefundStatus
from finance_service.domain.postings import OrderLine, SaleOrder
from finance_service.domain.refund_checks import KnownReturn, PaidOrder, RefundedUnits, check

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
RETURN = KnownReturn("r-1", "o-1", "web-eu", {"1": ("SKU-RED-M", 2)})
UNITS = [RefundedUnits("1", "SKU-RED-M", 1)]
ORDER = PaidOrder("o-1", "EUR", paid=D("24.99"), refunded=D("10.00"))


def held(amount: str = "10.00", *, rma_id: str = "r-1", order_id: str = "o-1", channel: str = "web-eu",
         currency: str = "EUR") -> Refund:
    return Refund("rf-1", rma_id, order_id, channel, "c-42", D(amount), currency, "changed_mind", "instant", NOW,
                  status=RefundStatus.held)


def checked(refund: Refund, units=UNITS, known: KnownReturn | None = RETURN,
            order: PaidOrder | None = ORDER) -> tuple[RefundStatus, str | None]:
    check(refund, units, known, order)
    return refund.status, refund.hold_reason


def test_a_refund_of_a_known_return_within_what_is_left_of_the_payment_is_payable():
    assert checked(held("14.99")) == (RefundStatus.pending, None)


@pytest.mark.parametrize(("refund", "units", "known", "reason"), [
    (held(rma_id="r-404"), UNITS, None, "unknown_return: finance knows no return r-404"),
    (held(order_id="o-2"), UNITS, RETURN,
     "return_mismatch: r-1 is a return of order o-1 on web-eu, not of o-2 on web-eu"),
    (held(channel="mkt-de"), UNITS, RETURN,
     "return_mismatch: r-1 is a return of order o-1 on web-eu, not of o-1 on mkt-de"),
    (held(), [RefundedUnits("2", "SKU-BLU-L", 1)], RETURN,
     "return_mismatch: 1 × SKU-BLU-L of line 2 are not authorized on r-1"),
    (held(), [RefundedUnits("1", "SKU-BLU-L", 1)], RETURN,
     "return_mismatch: 1 × SKU-BLU-L of line 1 are not authorized on r-1"),
    (held(), [RefundedUnits("1", "SKU-RED-M", 3)], RETURN,
     "return_mismatch: 3 × SKU-RED-M of line 1 are not authorized on r-1"),
    (held("-5.00"), UNITS, RETURN, "negative_amount: -5.00"),
    (held(currency="USD"), UNITS, RETURN, "currency_mismatch: the refund is in USD, order o-1 was paid in EUR"),
    (held("15.00"), UNITS, RETURN,
     "exceeds_payment: 15.00 EUR is more than the 14.99 left of the 24.99 paid for order o-1"),
])
def test_a_refund_that_matches_no_known_return_or_exceeds_the_payment_is_refused(refund, units, known, reason):
    assert checked(refund, units, known) == (RefundStatus.refused, reason)


def test_a_refund_whose_order_is_unknown_waits_unless_its_return_already_refuses_it():
    assert checked(held(), order=None) == (RefundStatus.held, "order_unknown: waiting for order o-1")
    assert checked(held(rma_id="r-404"), known=None, order=None) == (
        RefundStatus.refused, "unknown_return: finance knows no return r-404")


def test_only_a_held_refund_is_checked():
    refund = held()
    check(refund, UNITS, RETURN, ORDER)
    with pytest.raises(ValueError, match="refund rf-1 is pending, only a held refund is checked"):
        check(refund, UNITS, RETURN, ORDER)


def test_what_was_paid_is_the_orders_total_and_nothing_for_an_exchanges_replacement():
    def order(method: str) -> SaleOrder:
        return SaleOrder("o-1", "web-eu", "c-42", "EUR", method, {"1": OrderLine("1", "SKU-RED-M", 2, D("10.00"))},
                         shipping_fee=D("4.99"), tax=D("1.50"))

    assert order("card").paid == D("26.49") and order("invoice").paid == D("26.49")
    assert order("exchange").paid == D("0")
