"""The money edges of a refund: the order's sales tax given back pro rata, store credit as the policy offers it,
and a refund paid by another method than the order's only with a refund approver's approval."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from returns_service.domain.dispositions import DEFAULT_TABLE
from returns_service.domain.refunds import (
    RefundLine,
    RefundPolicy,
    check_settlement,
    order_tax_rate,
    other_refund_method,
    quote_refund,
    reduction,
    sum_of_kind,
)
from returns_service.domain.rma import Rma, RmaLine, SettlementStatus, Stage
from returns_service.domain.settlement import approve, next_settlement, per_line

D = Decimal
T0 = datetime(2026, 11, 22, 9, tzinfo=UTC)
RATE = order_tax_rate(D("22.00"), D("100.00"), D("10.00"))  # 20 % on goods and shipping


def rma(reason: str = "defective", resolution: str = "refund", refund_method: str | None = None, quantity: int = 2,
        unit_price: str = "50.00", tax: str = "22.00", shipping: str = "10.00") -> Rma:
    lines = [RmaLine("1", "KETTLE", "kitchen", quantity, D(unit_price), order_quantity=quantity)]
    return Rma("rma-1", "o1", "web-eu", "c-42", reason, "BER1", lines, timeline=[Stage("authorized", T0, "portal")],
               resolution=resolution, shipping_fee=D(shipping), order_goods=D(unit_price) * quantity,
               order_tax=D(tax), refund_method=refund_method)


def inspected(r: Rma, units: int, grade: str = "C") -> Rma:
    r.receive("KETTLE", units, "damaged", T0, "dev9")
    r.inspect("KETTLE", units, grade, DEFAULT_TABLE, T0, "op-3")
    return r


def settle(r: Rma, policy: RefundPolicy = RefundPolicy(), refunded=None, tax_refunded=None):
    return next_settlement(r, policy, refunded or {}, 0, T0, tax_refunded or {})


def test_the_order_rate_spreads_its_tax_over_goods_and_shipping():
    assert RATE == D("0.2")
    assert order_tax_rate(D(0), D(100), D(10)) == 0 and order_tax_rate(D(5), D(0), D(0)) == 0


def test_a_refund_gives_back_the_tax_of_the_goods_and_shipping_share_it_refunds():
    quote = quote_refund(RefundPolicy(), "defective", [RefundLine("1", D("50.00"), 1, shipping_share=D("5.00"),
                                                                  tax_rate=RATE)], "EUR")
    assert quote.breakdown == [("1/goods", D("50.00")), ("1/shipping", D("5.00")), ("1/tax", D("11.00"))]
    assert quote.amount == D("66.00")  # the sale's share: 22 × 50 / 100


def test_without_the_shipping_share_only_the_goods_tax_comes_back_and_fees_reduce_it():
    fees = RefundPolicy(restocking_fee_by_grade={"B": D("0.10")})
    quote = quote_refund(fees, "changed_mind", [RefundLine("1", D("50.00"), 1, grades={"B": 1},
                                                           shipping_share=D("5.00"), tax_rate=RATE)], "EUR")
    assert quote.breakdown == [("1/goods", D("50.00")), ("1/restocking_fee_B", D("-5.00")), ("1/tax", D("9.00"))]


def test_the_tax_is_rounded_to_the_minor_unit_half_up_and_never_exceeds_what_is_left_of_the_line():
    rate = order_tax_rate(D("0.05"), D("2.00"), D(0))
    first = quote_refund(RefundPolicy(), "changed_mind", [RefundLine("1", D("1.00"), 1, tax_rate=rate,
                                                                     tax_paid=D("0.05"))], "EUR")
    assert first.breakdown[-1] == ("1/tax", D("0.03"))  # 0.025 rounded half up
    last = quote_refund(RefundPolicy(), "changed_mind", [RefundLine(
        "1", D("1.00"), 1, tax_rate=rate, tax_paid=D("0.05"), tax_refunded=D("0.03"), already_refunded=D("1.03"),
        paid=D("2.05"))], "EUR")
    assert last.breakdown == [("1/goods", D("1.00")), ("1/tax", D("0.02"))]  # the last refund takes the rest
    in_yen = quote_refund(RefundPolicy(), "changed_mind", [RefundLine("1", D("30"), 1, tax_rate=rate, tax_paid=D(1))],
                          "JPY")
    assert in_yen.breakdown == [("1/goods", D("30")), ("1/tax", D("1"))]  # 0.75: yen have no minor unit
    nothing = quote_refund(RefundPolicy(), "changed_mind", [RefundLine("1", D("3"), 1, tax_rate=rate)], "JPY")
    assert nothing.breakdown == [("1/goods", D("3"))]  # 0.075 rounds to no tax at all


def test_two_refunds_of_a_line_give_back_exactly_its_tax():
    r = rma(reason="changed_mind", unit_price="1.00", tax="0.05", shipping="0")
    inspected(r, 1, "A")
    first = settle(r)
    inspected(r, 1, "A")
    second = settle(r, refunded=per_line(first), tax_refunded=per_line(first, "tax"))
    assert (first.tax, second.tax) == (D("0.03"), D("0.02"))
    assert first.amount + second.amount == D("2.05")


def test_a_cap_takes_its_share_off_the_tax():
    line = RefundLine("1", D("50.00"), 1, shipping_share=D("5.00"), tax_rate=RATE, paid=D("66.00"),
                      already_refunded=D("33.00"))
    quote = quote_refund(RefundPolicy(), "defective", [line], "EUR")
    assert quote.amount == D("33.00")
    assert sum_of_kind(quote.breakdown, "tax") == D("5.50")  # half the refund went: half its tax
    assert reduction("1", "cap", D("10"), D("20"), D(0), "EUR") == [("1/cap", D("-10"))]


def test_the_whole_line_is_refunded_with_its_whole_tax_share_and_no_cap():
    settlement = settle(inspected(rma(), 2))
    assert settlement.breakdown == [("1/goods", D("100.00")), ("1/shipping", D("10.00")), ("1/tax", D("22.00"))]
    assert (settlement.amount, settlement.tax) == (D("132.00"), D("22.00"))


def test_an_order_without_tax_refunds_as_before():
    settlement = settle(inspected(rma(tax="0"), 2))
    assert settlement.breakdown == [("1/goods", D("100.00")), ("1/shipping", D("10.00"))]
    assert settlement.tax == 0


def test_a_partial_approval_takes_the_tax_off_pro_rata():
    r = inspected(rma(), 2)
    settlement = settle(r, RefundPolicy(approval_threshold=D(10)))
    assert settlement.status is SettlementStatus.pending_approval
    approve(r, settlement.id, "sup:ana", T0, D("66.00"))
    assert (settlement.amount, settlement.tax) == (D("66.00"), D("11.00"))
    assert settlement.breakdown[-2:] == [("1/approved_partial", D("-55.00")), ("1/tax", D("-11.00"))]


@pytest.mark.parametrize("offered, reason, refused", [
    (None, "changed_mind", []),
    (frozenset({"changed_mind"}), "changed_mind", []),
    (frozenset({"changed_mind"}), "defective", [("store_credit_not_offered", "resolution")]),
    (frozenset(), "changed_mind", [("store_credit_not_offered", "resolution")]),
])
def test_store_credit_is_offered_as_the_channel_policy_says(offered, reason, refused):
    policy = RefundPolicy(store_credit_reasons=offered)
    assert [(r.rule, r.field) for r in check_settlement(policy, reason, "store_credit", None)] == refused
    assert check_settlement(policy, reason, "refund", None) == []


def test_a_policy_naming_an_unknown_store_credit_reason_is_invalid():
    assert [p.field for p in RefundPolicy(store_credit_reasons=frozenset({"bored"})).validate()] == [
        "store_credit_reasons"]


def test_a_refund_method_applies_to_money_refunds_only():
    policy = RefundPolicy()
    assert [(r.rule, r.field) for r in check_settlement(policy, "defective", "exchange", "bank_transfer")] == [
        ("refund_method_not_applicable", "refund_method")]
    assert [(r.rule, r.field) for r in check_settlement(policy, "defective", "refund", "store_credit")] == [
        ("refund_method_not_applicable", "refund_method")]
    assert check_settlement(policy, "defective", "refund", "bank_transfer") == []


def test_the_orders_own_method_is_no_other_method():
    assert other_refund_method("bank_transfer", "card") == "bank_transfer"
    assert other_refund_method("card", "card") is None
    assert other_refund_method("original_payment", "card") is None and other_refund_method(None, "card") is None


def test_store_credit_is_a_refund_paid_as_store_credit_released_by_policy():
    settlement = settle(inspected(rma(resolution="store_credit"), 2))
    assert (settlement.kind, settlement.method, settlement.status) == ("refund", "store_credit",
                                                                       SettlementStatus.approved)
    assert settlement.decided_by == "policy"


def test_a_refund_to_another_method_always_waits_for_a_refund_approver():
    r = inspected(rma(refund_method="bank_transfer"), 1)
    settlement = settle(r, RefundPolicy(approval_threshold=D(1000)))
    assert (settlement.status, settlement.risk_signals, settlement.method) == (
        SettlementStatus.pending_approval, ["different_refund_method"], "bank_transfer")
    approve(r, settlement.id, "sup:ana", T0)
    assert (r.timeline[-1].stage, r.timeline[-1].actor) == ("refund_approved", "sup:ana")
    assert "as bank_transfer" in r.timeline[-1].note
