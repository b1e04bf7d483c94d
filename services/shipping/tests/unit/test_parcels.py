"""A parcel's label bought exactly once: the plan is kept once the carrier may have sold a label under it, unknown
outcomes are asked again with the same key and backoff, refusals and exhausted attempts fail visibly; the order is
delivered when every labelled parcel is."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from shipping_service.domain.parcels import (
    BoughtLabel,
    LabelOutcome,
    LabelResult,
    Parcel,
    ParcelKind,
    ParcelStatus,
    SkuHandling,
    order_delivered,
    parcel_spec,
    return_parcel_id,
)
from shipping_service.domain.rates import CarrierService, Choice, ParcelSpec, Quote

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
RETRY = timedelta(seconds=2)
GROUND = CarrierService("simdhl", "ground", 3, time(16), hazmat_allowed=True)
CHOICE = Choice(GROUND, Quote("simdhl", "ground", Decimal("5.40"), "EUR"), date(2026, 12, 1), date(2026, 12, 4),
                meets_promise=True)
BOUGHT = LabelResult(LabelOutcome.bought, BoughtLabel("lbl-1", "JD1", Decimal("5.40"), "EUR", "https://l/1.pdf"))
UNKNOWN = LabelResult(LabelOutcome.unknown, code="timeout", message="no answer within 5s")
REFUSED = LabelResult(LabelOutcome.refused, code="too_heavy", message="at most 31.5 kg")


def parcel(parcel_id: str = "o-1@WH1", **changes) -> Parcel:
    return Parcel(parcel_id, ParcelKind.outbound, "WH1", [("SKU-1", 2)], NOW, order_id="o-1", **changes)


def planned(**changes) -> Parcel:
    p = parcel(**changes)
    p.plan(ParcelSpec(2.0, False), CHOICE, date(2026, 12, 4))
    return p


def test_the_label_is_asked_for_with_the_parcel_id_as_idempotency_key_under_the_plan():
    request = planned().label_request()
    assert (request.idempotency_key, request.carrier, request.service, request.weight_kg) == (
        "o-1@WH1", "simdhl", "ground", 2.0)
    assert return_parcel_id("rma-7") == "return:rma-7"
    with pytest.raises(ValueError, match="no plan"):
        parcel().label_request()


def test_a_plan_is_never_replaced_while_a_label_may_have_been_sold_under_it():
    p = planned()
    with pytest.raises(ValueError, match="plan already"):
        p.plan(ParcelSpec(2.0, False), CHOICE, None)


def test_a_bought_label_is_recorded_once():
    p = planned()
    assert p.record(BOUGHT, NOW, RETRY, 5) is True
    assert (p.status, p.tracking_number, p.cost, p.purchased_at) == (ParcelStatus.labelled, "JD1", Decimal("5.40"), NOW)
    assert p.record(BOUGHT, NOW, RETRY, 5) is False  # an answer for a labelled parcel changes nothing


def test_unknown_outcomes_are_asked_again_with_backoff_keeping_the_plan():
    p = planned()
    assert p.record(UNKNOWN, NOW, RETRY, 5) is False
    assert (p.status, p.attempts, p.next_attempt_at, p.carrier) == (ParcelStatus.pending, 1, NOW + RETRY, "simdhl")
    p.record(UNKNOWN, NOW, RETRY, 5)
    assert p.next_attempt_at == NOW + 2 * RETRY
    assert p.label_request().idempotency_key == "o-1@WH1"
    assert p.last_error == "timeout: no answer within 5s"


def test_after_the_last_attempt_the_parcel_fails_visibly_and_a_retry_keeps_plan_and_key():
    p = planned()
    for _ in range(3):
        p.record(UNKNOWN, NOW, RETRY, 3)
    assert (p.status, p.attempts, p.carrier) == (ParcelStatus.failed, 3, "simdhl")
    p.retry("sup:ana", NOW)
    assert (p.status, p.attempts, p.next_attempt_at, p.retried_by, p.carrier) == (
        ParcelStatus.pending, 0, None, "sup:ana", "simdhl")


def test_a_refusal_fails_the_parcel_and_drops_the_plan_since_nothing_was_sold():
    p = planned()
    p.record(REFUSED, NOW, RETRY, 5)
    assert (p.status, p.last_error, p.planned) == (ParcelStatus.failed, "too_heavy: at most 31.5 kg", False)
    p.retry("sup:ana", NOW)
    assert p.status is ParcelStatus.pending and not p.planned


def test_only_a_failed_parcel_is_retried():
    with pytest.raises(ValueError, match="only a failed parcel"):
        planned().retry("sup:ana", NOW)


def test_a_dispatch_is_taken_once():
    p = planned()
    assert p.dispatch(NOW) is True
    assert p.dispatch(NOW + RETRY) is False
    assert p.dispatched_at == NOW


def test_weight_and_hazmat_come_from_the_sku_master_unknown_weights_count_a_default():
    skus = {"A": SkuHandling(0.5, False), "B": SkuHandling(None, True)}
    assert parcel_spec([("A", 3), ("B", 1), ("C", 2)], skus, 1.0) == ParcelSpec(4.5, True)
    assert parcel_spec([("A", 1)], skus, 1.0) == ParcelSpec(0.5, False)


def test_an_order_is_delivered_when_every_labelled_parcel_of_it_is():
    first, second = planned(), planned(parcel_id="o-1@WH2")
    for p in (first, second):
        p.record(BOUGHT, NOW, RETRY, 5)
    first.track("delivered", NOW)
    assert not order_delivered([first, second])
    second.track("out_for_delivery", NOW)
    assert not order_delivered([first, second])
    second.track("delivered", NOW)
    assert order_delivered([first, second])
    assert order_delivered([first, second, parcel(parcel_id="o-1@WH3")])  # no label yet: not counted
    assert not order_delivered([parcel()])
