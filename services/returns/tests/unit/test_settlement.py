"""Settling an RMA's customer: what the policy releases at each stage, approvals and denials, closing."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from returns_service.domain.dispositions import DEFAULT_TABLE
from returns_service.domain.refunds import ApprovalRefused, RefundPolicy
from returns_service.domain.rma import Rma, RmaError, RmaLine, RmaStatus, SettlementStatus, Stage
from returns_service.domain.settlement import approve, deny, issue, next_settlement, per_line

T0 = datetime(2026, 11, 22, 9, tzinfo=UTC)


def rma(reason: str = "size_fit", resolution: str = "refund") -> Rma:
    lines = [RmaLine("1", "TSHIRT-M", "apparel", 2, Decimal("20.00"), order_quantity=2)]
    return Rma("rma-1", "o1", "web-eu", "c-42", reason, "BER1", lines, timeline=[Stage("authorized", T0, "portal")],
               resolution=resolution, shipping_fee=Decimal("5.00"), order_goods=Decimal("40.00"))


def settle(r: Rma, policy: RefundPolicy, refunded=None, returns_in_90d: int = 0):
    return next_settlement(r, policy, refunded or {}, returns_in_90d, T0)


def test_instant_refund_before_receipt_only_when_low_value_and_low_risk():
    instant = RefundPolicy(timing="instant", instant_max_amount=Decimal(50))
    r = rma()
    first = settle(r, instant)
    assert (first.timing, first.amount, first.status) == ("instant", Decimal("40.00"), SettlementStatus.approved)
    assert settle(r, instant) is None  # every unit is settled once
    costly = RefundPolicy(timing="instant", instant_max_amount=Decimal(10))
    r = rma()
    assert settle(r, costly) is None  # too much to pay before the parcel: waits for receipt
    r.receive("TSHIRT-M", 1, "new", T0, "dev9")
    assert (settle(r, costly).timing, r.settlements[0].lines) == ("on_receipt", {"1": 1})


def test_after_inspection_each_parcel_settles_its_own_units_with_the_fee_of_their_grade():
    policy = RefundPolicy(restocking_fee_by_grade={"B": Decimal("0.10")}, approval_threshold=Decimal(100))
    r = rma()
    r.receive("TSHIRT-M", 2, "opened", T0, "dev9")
    assert settle(r, policy) is None
    r.inspect("TSHIRT-M", 1, "A", DEFAULT_TABLE, T0, "op-3")
    first = settle(r, policy)
    assert (first.amount, first.grades) == (Decimal("20.00"), {"1": {"A": 1}})  # finance's leakage judges by these
    r.inspect("TSHIRT-M", 1, "B", DEFAULT_TABLE, T0, "op-3")
    second = settle(r, policy)
    assert second.breakdown == [("1/goods", Decimal("20.00")), ("1/restocking_fee_B", Decimal("-2.00"))]
    assert second.grades == {"1": {"B": 1}}


def test_the_cap_counts_what_other_returns_of_the_line_refunded():
    r = rma(reason="defective")  # retailer's fault: shipping share refunded too
    r.receive("TSHIRT-M", 2, "damaged", T0, "dev9")
    r.inspect("TSHIRT-M", 2, "C", DEFAULT_TABLE, T0, "op-3")
    quote = settle(r, RefundPolicy(), refunded={"1": Decimal("30.00")})
    assert quote.amount == Decimal("15.00")  # 40 goods + 5 shipping paid, 30 already refunded
    assert per_line(quote) == {"1": Decimal("15.00")}


def test_risky_refunds_wait_for_an_approver_who_neither_inspected_nor_requested_and_may_approve_less():
    r = rma()
    r.receive("TSHIRT-M", 1, "damaged", T0, "dev9")
    r.inspect("TSHIRT-M", 1, "C", DEFAULT_TABLE, T0, "op-3")  # damaged although the reason was size_fit
    waiting = settle(r, RefundPolicy(), returns_in_90d=9)
    assert waiting.status is SettlementStatus.pending_approval
    assert waiting.risk_signals == ["frequent_returner", "grade_worse_than_reason"]
    with pytest.raises(ApprovalRefused, match="inspected"):
        approve(r, waiting.id, "op-3", T0)
    with pytest.raises(ApprovalRefused, match="requested"):
        deny(r, waiting.id, "portal", T0, "the one who opened the return")
    with pytest.raises(RmaError, match="from 0 to the quoted"):
        approve(r, waiting.id, "sup", T0, amount=Decimal("25.00"))
    approve(r, waiting.id, "sup", T0, amount=Decimal("12.00"), note="keeps the tag")
    assert (waiting.amount, waiting.decided_by, per_line(waiting)) == (Decimal("12.00"), "sup", {"1": Decimal("12.00")})
    with pytest.raises(RmaError, match="only a waiting one"):
        deny(r, waiting.id, "sup", T0, "changed my mind")


def test_an_rma_closes_once_inspected_units_are_moved_and_every_settlement_is_final():
    r = rma(resolution="exchange")
    r.receive("TSHIRT-M", 2, "new", T0, "dev9")
    r.inspect("TSHIRT-M", 2, "A", DEFAULT_TABLE, T0, "op-3")
    exchange = settle(r, RefundPolicy())
    assert exchange.kind == "exchange" and not r.closable
    r.apply_disposition("TSHIRT-M", 2, "restock", T0)
    assert not r.closable  # the replacement is not ordered yet
    assert issue(r, exchange.id, T0, "returns", "replacement order") is True
    assert issue(r, exchange.id, T0, "returns", "again") is False
    assert r.closable
    r.close(T0, "returns", "done")
    assert r.status is RmaStatus.closed and settle(r, RefundPolicy()) is None
