"""Refund decisions: the amount by grade, reason and shipping, capped at what is left to refund; risk signals
that need a supervisor; who may approve; and when the money may go out."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_service.domain.refunds import (
    DEFAULT_POLICY,
    RISK_SIGNALS,
    ApprovalRefused,
    FieldProblem,
    RefundLine,
    RefundPolicy,
    check_approver,
    may_refund_at,
    needs_approval,
    policy_for,
    quote_refund,
    refund_due_at,
    refund_timing,
    risk_signals,
    shipping_share,
    to_minor_unit,
)

D = Decimal
FEES = RefundPolicy(restocking_fee_by_grade={"A": D(0), "B": D("0.10"), "C": D("0.25"), "D": D(1)})


def line(**changes) -> RefundLine:
    return RefundLine(**{"line_id": "L1", "unit_price": D("40.00"), "quantity": 2, **changes})


def test_the_restocking_fee_follows_each_unit_grade():
    quote = quote_refund(FEES, "changed_mind", [line(grades={"B": 1, "C": 1})], "EUR")
    assert quote.breakdown == [("L1/goods", D("80.00")), ("L1/restocking_fee_B", D("-4.00")),
                               ("L1/restocking_fee_C", D("-10.00"))]
    assert (quote.amount, quote.currency) == (D("66.00"), "EUR")


def test_units_not_inspected_yet_pay_no_fee_and_the_quote_says_so():
    quote = quote_refund(FEES, "size_fit", [line(grades={"B": 1})], "EUR")
    assert quote.amount == D("76.00")
    assert quote.notes == ["L1: 1 unit(s) not inspected yet: no restocking fee"]


@pytest.mark.parametrize("reason", ["defective", "wrong_item", "damaged_in_transit"])
def test_no_restocking_fee_when_the_retailer_is_at_fault(reason):
    quote = quote_refund(FEES, reason, [line(grades={"D": 2})], "EUR")
    assert quote.amount == D("80.00")
    assert quote.notes == [f"{reason} is the retailer's fault: no restocking fee"]


def test_shipping_is_refunded_only_for_the_retailers_fault_and_when_the_policy_says_so():
    with_shipping = line(shipping_share=D("4.95"))
    assert quote_refund(FEES, "defective", [with_shipping], "EUR").breakdown[-1] == ("L1/shipping", D("4.95"))
    assert quote_refund(FEES, "defective", [with_shipping], "EUR").amount == D("84.95")
    assert quote_refund(FEES, "changed_mind", [with_shipping], "EUR").amount == D("80.00")
    no_shipping = RefundPolicy(refund_shipping=False)
    assert quote_refund(no_shipping, "defective", [with_shipping], "EUR").amount == D("80.00")


def test_the_shipping_share_is_pro_rata_to_the_goods():
    assert shipping_share(D("5.00"), D("30.00"), D("90.00"), "EUR") == D("1.67")
    assert shipping_share(D("5.00"), D("30.00"), D(0), "EUR") == D(0)


def test_the_quote_is_capped_at_paid_minus_already_refunded_and_says_so():
    quote = quote_refund(FEES, "defective", [line(shipping_share=D("5.00"), already_refunded=D("70.00"))], "EUR")
    assert quote.amount == D("15.00")
    assert quote.breakdown[-1] == ("L1/cap", D("-70.00"))
    assert quote.notes[-1] == "L1: capped at 15.00 EUR: paid 85.00, already refunded 70.00"


def test_a_line_refunded_in_full_already_refunds_nothing_more():
    assert quote_refund(FEES, "other", [line(already_refunded=D("80.00"))], "EUR").amount == D("0.00")


def test_a_partial_refund_replaces_the_fees_and_never_exceeds_the_goods():
    kept = quote_refund(FEES, "not_as_described", [line(grades={"C": 2}, partial_amount=D("20"))], "EUR")
    assert kept.breakdown == [("L1/goods", D("80.00")), ("L1/partial_refund", D("-60.00"))]
    assert kept.amount == D("20.00")
    assert quote_refund(FEES, "other", [line(partial_amount=D("500"))], "EUR").amount == D("80.00")


def test_amounts_are_rounded_half_up_to_the_currencys_minor_unit():
    odd_fee = RefundPolicy(restocking_fee_by_grade={"B": D("0.1005")})
    quote = quote_refund(odd_fee, "changed_mind", [line(unit_price=D("10"), quantity=1, grades={"B": 1})], "EUR")
    assert quote.breakdown == [("L1/goods", D("10.00")), ("L1/restocking_fee_B", D("-1.01"))]
    assert quote.amount == D("8.99")
    assert quote_refund(FEES, "other", [line(unit_price=D("1500"), quantity=1)], "JPY").amount == D("1500")
    assert to_minor_unit(D("0.125"), "EUR") == D("0.13")


def test_rounding_never_refunds_more_than_was_paid():
    quote = quote_refund(FEES, "changed_mind", [line(unit_price=D("9.995"), quantity=1)], "EUR")
    assert quote.amount == D("9.99")
    assert quote.breakdown == [("L1/goods", D("10.00")), ("L1/cap", D("-0.01"))]


def test_lines_are_quoted_and_capped_each_on_their_own():
    lines = [line(), line(line_id="L2", unit_price=D("10"), quantity=1, already_refunded=D("10"))]
    quote = quote_refund(FEES, "other", lines, "EUR")
    assert quote.amount == D("80.00")
    assert sum(amount for _, amount in quote.breakdown) == quote.amount


def test_an_invalid_policy_or_reason_cannot_quote():
    with pytest.raises(ValueError, match="invalid refund policy"):
        quote_refund(RefundPolicy(timing="whenever"), "other", [line()], "EUR")
    with pytest.raises(ValueError, match="reason must be one of"):
        quote_refund(FEES, "bored", [line()], "EUR")


@pytest.mark.parametrize("changes, message", [
    ({"quantity": 0}, "quantity"), ({"unit_price": D(-1)}, "unit_price"), ({"unit_price": 9.99}, "unit_price"),
    ({"grades": {"E": 1}}, "grades"), ({"grades": {"A": 3}}, "do not fit"), ({"paid": D(-1)}, "paid"),
])
def test_malformed_lines_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        line(**changes)


def test_a_valid_policy_has_no_errors():
    assert FEES.validate() == [] and DEFAULT_POLICY.validate() == []


def test_policy_errors_name_every_bad_field():
    policy = RefundPolicy(timing="soon", instant_max_amount=D(-1), restocking_fee_by_grade={"E": D("0.1"),
                          "B": D("1.5")}, refund_shipping="yes", approval_threshold=100.0, max_returns_90d=-1)
    assert policy.validate() == [
        FieldProblem("timing", "must be one of instant, on_receipt, after_inspection"),
        FieldProblem("instant_max_amount", "must be a decimal amount >= 0"),
        FieldProblem("approval_threshold", "must be a decimal amount >= 0"),
        FieldProblem("restocking_fee_by_grade.E", "unknown grade 'E': use A, B, C or D"),
        FieldProblem("restocking_fee_by_grade.B", "must be a decimal rate from 0 to 1"),
        FieldProblem("refund_shipping", "must be true or false"),
        FieldProblem("max_returns_90d", "must be an integer >= 0"),
    ]


def test_the_policy_is_looked_up_by_channel_and_category_then_channel():
    shoes, web = RefundPolicy(timing="instant"), RefundPolicy(timing="on_receipt")
    policies = {("web", "shoes"): shoes, ("web", None): web}
    assert policy_for("web", "shoes", policies) is shoes
    assert policy_for("web", "toys", policies) is web
    assert policy_for("marketplace", "shoes", policies) is DEFAULT_POLICY


@pytest.mark.parametrize("arguments, signal", [
    ({"amount": D("250.01")}, "amount_above_threshold"),
    ({"serial_mismatch": True}, "serial_mismatch"),
    ({"conditions": ["opened", "empty_box"]}, "empty_box"),
    ({"returns_in_90d": 6}, "frequent_returner"),
    ({"reason": "changed_mind", "grades": ["A", "C"]}, "grade_worse_than_reason"),
    ({"reason": "size_fit", "grades": ["D"]}, "grade_worse_than_reason"),
])
def test_each_risk_signal_sends_the_refund_to_a_supervisor(arguments, signal):
    arguments = {"amount": D("50"), "reason": "other", **arguments}
    signals = risk_signals(DEFAULT_POLICY, arguments.pop("amount"), arguments.pop("reason"), **arguments)
    assert signals == [signal]
    assert needs_approval(signals)


def test_a_low_risk_refund_is_approved_automatically():
    signals = risk_signals(DEFAULT_POLICY, D("250"), "defective", grades=["D"], conditions=["damaged"],
                           returns_in_90d=5)
    assert signals == [] and not needs_approval(signals)


def test_signals_come_in_a_stable_order():
    signals = risk_signals(DEFAULT_POLICY, D(1000), "changed_mind", grades=["C"], conditions=["empty_box"],
                           serial_mismatch=True, returns_in_90d=9, different_method=True)
    assert signals == list(RISK_SIGNALS)


def test_neither_who_inspected_nor_who_requested_the_return_may_decide_its_refund():
    check_approver("sup-1", {"insp-7"}, "cs-2")
    check_approver("sup-1", set(), None)
    with pytest.raises(ApprovalRefused, match="sup-1 inspected these items") as refused:
        check_approver("sup-1", {"insp-7", "sup-1"}, "cs-2")
    assert refused.value.reason == "segregation_of_duties"
    with pytest.raises(ApprovalRefused, match="sup-1 requested this return") as refused:
        check_approver("sup-1", {"insp-7"}, "sup-1")
    assert refused.value.reason == "segregation_of_duties"


def test_each_timing_issues_the_refund_from_its_stage():
    expected = {"instant": ["authorized", "received", "inspected"], "on_receipt": ["received", "inspected"],
                "after_inspection": ["inspected"]}
    for timing, stages in expected.items():
        policy = RefundPolicy(timing=timing, instant_max_amount=D(100))
        assert [stage for stage in ("authorized", "received", "inspected")
                if may_refund_at(policy, stage, D(30))] == stages


def test_instant_falls_back_to_on_receipt_above_the_maximum_or_with_a_risk_signal():
    instant = RefundPolicy(timing="instant", instant_max_amount=D(50))
    assert refund_timing(instant, D(50)) == "instant"
    assert refund_due_at(instant, D(50)) == "authorized"
    assert refund_timing(instant, D("50.01")) == "on_receipt"
    assert not may_refund_at(instant, "authorized", D("50.01"))
    assert may_refund_at(instant, "received", D("50.01"))
    assert refund_due_at(instant, D(10), ["frequent_returner"]) == "received"


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="stage must be one of"):
        may_refund_at(DEFAULT_POLICY, "closed", D(1))


money = st.decimals(min_value=0, max_value=10_000, places=4)
rates = st.decimals(min_value=0, max_value=1, places=4)


@st.composite
def refund_lines(draw, index: int) -> RefundLine:
    quantity = draw(st.integers(1, 20))
    unit_price, shipping = draw(money), draw(money)
    graded = draw(st.integers(0, quantity))
    grades = draw(st.dictionaries(st.sampled_from("ABCD"), st.integers(0, graded), max_size=4)
                  .filter(lambda grades: sum(grades.values()) <= quantity))
    paid = draw(st.none() | money)
    paid_total = paid if paid is not None else unit_price * quantity + shipping
    already = draw(st.decimals(min_value=0, max_value=paid_total, places=4))
    return RefundLine(f"L{index}", unit_price, quantity, grades, shipping, paid, already,
                      draw(st.none() | money))


@given(policy=st.builds(RefundPolicy, restocking_fee_by_grade=st.dictionaries(st.sampled_from("ABCD"), rates),
                        refund_shipping=st.booleans()),
       reason=st.sampled_from(sorted(["damaged_in_transit", "defective", "wrong_item", "not_as_described",
                                      "size_fit", "changed_mind", "late_delivery", "other"])),
       lines=st.integers(1, 4).flatmap(lambda n: st.tuples(*(refund_lines(i) for i in range(n)))),
       currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_a_quote_is_never_negative_nor_more_than_is_left_to_refund(policy, reason, lines, currency):
    quote = quote_refund(policy, reason, lines, currency)
    assert quote.amount >= 0
    assert quote.amount <= sum(line.paid_total - line.already_refunded for line in lines)
    assert quote.amount == sum((amount for _, amount in quote.breakdown), D(0))
    for refund_line in lines:
        line_amount = sum(amount for label, amount in quote.breakdown if label.startswith(f"{refund_line.line_id}/"))
        assert 0 <= line_amount <= refund_line.paid_total - refund_line.already_refunded
