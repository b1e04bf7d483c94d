from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ecomops_common.contracts.orders import HoldReason, OrderStatus
from order_service.adapters.fakes import EverySkuKnown
from order_service.domain.lifecycle import (
    ALLOWED,
    STORE_CREDIT,
    STORE_CREDIT_WAIT,
    IntakePolicy,
    LifecycleError,
    OrderState,
    follow_fulfilment,
)
from order_service.domain.model import Order, OrderLine

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
EVERY_SKU = EverySkuKnown()
S = OrderStatus


def screened(**changes) -> Order:
    fields = dict(id="o1", channel="web-eu", external_order_id="1", currency="EUR",
                  lines=[OrderLine("1", "SKU", 1, Decimal("10.00"))], shipping_fee=Decimal("0"), tax=Decimal("0"),
                  payment_amount=Decimal("10.00"))
    order = Order(**{**fields, **changes})
    order.screen(IntakePolicy(fraud_review_threshold=80), NOW, catalog=EVERY_SKU)
    return order


def test_a_clean_order_waits_for_allocation_with_an_audited_history():
    order = screened()
    assert order.status is S.awaiting_allocation and order.state.holds == set()
    assert [(t.from_status, t.to_status, t.actor) for t in order.state.changes] == [
        (None, S.received, "channel:web-eu"), (S.received, S.awaiting_allocation, "system")]


@pytest.mark.parametrize(("changes", "hold"), [
    ({"payment_status": "pending"}, HoldReason.payment_hold),
    ({"fraud_score": 80}, HoldReason.fraud_review),
    ({"address_complete": False}, HoldReason.address_hold),
])
def test_intake_holds(changes, hold):
    order = screened(**changes)
    assert order.status is S.on_hold and order.state.holds == {hold}
    assert order.state.changes[-1].reason == hold


def test_fraud_score_below_the_threshold_is_no_hold_and_failed_payment_rejects():
    assert screened(fraud_score=79).status is S.awaiting_allocation
    rejected = screened(payment_status="failed")
    assert rejected.status is S.rejected and [r.code for r in rejected.rejections] == ["payment_failed"]


def test_releasing_the_last_hold_sends_the_order_to_allocation():
    state = screened(payment_status="pending", fraud_score=95).state
    state.changes.clear()
    state.release_hold(HoldReason.fraud_review, "supervisor:jane", "called the customer", NOW)
    assert state.status is S.on_hold and state.holds == {HoldReason.payment_hold}
    state.payment_changed("authorized", "channel:payment", NOW)
    assert state.status is S.awaiting_allocation and not state.holds
    assert [(t.to_status, t.actor) for t in state.changes] == [
        (S.on_hold, "supervisor:jane"), (S.awaiting_allocation, "channel:payment")]
    assert "called the customer" in state.changes[0].reason


def test_releasing_a_hold_the_order_does_not_have_is_refused():
    with pytest.raises(LifecycleError, match="no fraud_review"):
        screened().state.release_hold(HoldReason.fraud_review, "supervisor:jane", None, NOW)


def test_a_failed_payment_rejects_a_held_order_but_not_one_in_allocation():
    held = screened(payment_status="pending").state
    held.payment_changed("failed", "channel:payment", NOW)
    assert held.status is S.rejected and not held.holds
    with pytest.raises(LifecycleError):
        screened().state.payment_changed("failed", "channel:payment", NOW)


def test_cancellation_before_shipment_only():
    state = OrderState("o1", S.packed)
    state.cancel("channel:web-eu", "customer changed their mind", NOW)
    assert state.status is S.cancelled
    for status in (S.shipped, S.delivered, S.cancelled, S.rejected):
        with pytest.raises(LifecycleError, match="can no longer be cancelled"):
            OrderState("o1", status).cancel("supervisor:jane", "too late", NOW)


def test_illegal_transitions_are_refused_and_terminal_states_stay_terminal():
    with pytest.raises(LifecycleError, match="cannot become shipped"):
        OrderState("o1", S.awaiting_allocation).move(S.shipped, "system", None, NOW)
    assert ALLOWED[S.delivered] == ALLOWED[S.cancelled] == ALLOWED[S.rejected] == frozenset()
    assert all(S.cancelled not in ALLOWED[s] for s in (S.shipped, S.delivered))


def test_the_warehouse_moves_an_order_through_every_step_it_went_through():
    state = OrderState("o1", OrderStatus.partially_allocated)
    assert follow_fulfilment(state, OrderStatus.packed, "warehouse", None, NOW)
    assert [t.to_status for t in state.changes] == ["released_to_warehouse", "picking", "packed"]
    assert not follow_fulfilment(state, OrderStatus.picking, "warehouse", None, NOW)  # late news: already further
    cancelled = OrderState("o2", OrderStatus.cancelled)
    assert not follow_fulfilment(cancelled, OrderStatus.shipped, "warehouse", None, NOW) and not cancelled.changes


@pytest.mark.parametrize("claimed", ["authorized", "captured", "pending", "failed"])
def test_a_store_credit_order_waits_for_finance_whatever_the_channel_claims(claimed):
    order = screened(payment_method=STORE_CREDIT, payment_status=claimed)
    assert order.status is S.on_hold and order.state.holds == {HoldReason.payment_hold} and not order.rejections
    assert order.state.changes[-1].reason == f"payment_hold ({STORE_CREDIT_WAIT})"


def test_store_credit_redeemed_releases_the_payment_hold_as_an_authorized_payment_does():
    state = screened(payment_method=STORE_CREDIT, fraud_score=90).state
    state.changes.clear()
    assert state.store_credit_settled(True, "finance:store-credit", NOW, "amount 10.00 EUR, movement m-1")
    assert state.status is S.on_hold and state.holds == {HoldReason.fraud_review}  # the other hold stays
    state.release_hold(HoldReason.fraud_review, "jane", None, NOW)
    assert state.status is S.awaiting_allocation
    first = state.changes[0]
    assert (first.actor, first.reason) == ("finance:store-credit",
                                           "payment_hold released: store credit redeemed (amount 10.00 EUR, "
                                           "movement m-1)")
    # Settled once: a second answer changes nothing.
    state.changes.clear()
    assert not state.store_credit_settled(True, "finance:store-credit", NOW, "again")
    assert not state.store_credit_settled(False, "finance:store-credit", NOW, "again") and not state.changes


def test_store_credit_declined_rejects_the_order_as_a_failed_payment_does():
    state = screened(payment_method=STORE_CREDIT).state
    state.changes.clear()
    assert state.store_credit_settled(False, "finance:store-credit", NOW, "not enough credit")
    assert state.status is S.rejected and not state.holds
    ((_, to_status, actor, reason),) = [(t.from_status, t.to_status, t.actor, t.reason) for t in state.changes]
    assert (to_status, actor, reason) == (S.rejected, "finance:store-credit", "store credit declined (not enough "
                                                                              "credit)")
    assert not state.store_credit_settled(True, "finance:store-credit", NOW, "late")


def test_store_credit_settles_only_orders_paid_with_it_and_waiting_for_it():
    card = screened(payment_status="pending", payment_method="card").state
    assert not card.store_credit_settled(True, "finance:store-credit", NOW, "x") and card.status is S.on_hold
    cancelled = screened(payment_method=STORE_CREDIT).state
    cancelled.cancel("jane", "customer request", NOW)
    assert not cancelled.store_credit_settled(True, "finance:store-credit", NOW, "x")
    assert cancelled.status is S.cancelled


@pytest.mark.parametrize("status", ["authorized", "captured", "failed", "pending"])
def test_a_payment_update_cannot_settle_store_credit(status):
    state = screened(payment_method=STORE_CREDIT).state
    with pytest.raises(LifecycleError, match="paid with store_credit"):
        state.payment_changed(status, "channel:web-eu", NOW)
    assert state.status is S.on_hold and state.holds == {HoldReason.payment_hold}


def test_a_supervisor_releases_a_store_credit_orders_other_holds_but_not_its_payment_hold():
    state = screened(payment_method=STORE_CREDIT, fraud_score=90).state
    with pytest.raises(LifecycleError, match="only finance's store-credit redemption releases its payment_hold"):
        state.release_hold(HoldReason.payment_hold, "jane", None, NOW)
    state.release_hold(HoldReason.fraud_review, "jane", "called the customer", NOW)
    assert state.status is S.on_hold and state.holds == {HoldReason.payment_hold}
