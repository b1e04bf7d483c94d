"""Labels on Kafka and PostgreSQL, bought from the carrier simulator running as its own process: once per parcel
however often it is announced and whatever the carrier answers first; return labels once per RMA."""

from datetime import UTC, datetime

import pytest

from ecomops_common.auth import SUPERVISOR
from ecomops_common.contracts import RETURNS_EVENTS, SHIPPING_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import eventually

from .conftest import as_, behave, catalogued, events_on, in_days, packed, parcel_where, publish, sold

pytestmark = pytest.mark.integration


async def test_a_parcel_announced_twice_gets_one_label_even_when_the_carrier_fails_first(shipping, carrier):
    await behave(carrier, failure_rate=1)
    await catalogued(shipping, "SKU-MUG", 0.5)
    await sold(shipping, "o-1", [("1", "SKU-MUG", 2)], promised_date=in_days(30))
    parcel = packed("o-1", "WH1", [("SKU-MUG", 2)])
    await publish(shipping, WAREHOUSE_EVENTS, parcel, parcel, packed("o-1", "WH1", [("SKU-MUG", 2)]))

    waiting = await parcel_where(shipping, "o-1@WH1", lambda p: p["attempts"] >= 2)
    assert (waiting["status"], waiting["last_error"].split(":")[0]) == ("pending", "rates unavailable")
    await behave(carrier)
    labelled = await parcel_where(shipping, "o-1@WH1", lambda p: p["status"] == "labelled")
    # The cheapest service that meets a promise 30 days out: ground, for 1 kg
    assert (labelled["carrier"], labelled["service"], labelled["weight_kg"], labelled["cost"]) == (
        "simdhl", "ground", 1.0, "5.4000")
    assert labelled["meets_promise"] is True and labelled["promised_date"] == in_days(30).isoformat()

    events = await events_on(shipping, SHIPPING_EVENTS, lambda payloads: len(payloads) >= 1)
    assert [(kind, payload["parcel_id"], payload["tracking_number"]) for kind, payload in events] == [
        ("LabelPurchased", "o-1@WH1", labelled["tracking_number"])]
    stats = (await carrier.get("/v1/stats")).json()
    assert (stats["labels"], stats["duplicate_references"]) == (1, [])


async def test_a_label_the_carrier_sold_before_a_crash_is_the_one_recorded(shipping, carrier):
    """As if shipping crashed after the carrier sold the label and before its commit: asked again with the parcel
    id as the key, the carrier answers with that label instead of selling a second."""
    await catalogued(shipping, "SKU-TEE", 0.2)
    await behave(carrier, failure_rate=1)  # holds shipping back until the label is sold behind its back
    await sold(shipping, "o-2", [("1", "SKU-TEE", 5)], promised_date=in_days(30))
    await publish(shipping, WAREHOUSE_EVENTS, packed("o-2", "WH1", [("SKU-TEE", 5)]))
    await parcel_where(shipping, "o-2@WH1", lambda p: p["attempts"] >= 1)
    await behave(carrier)
    sold_before = (await carrier.post("/v1/labels", headers={"Idempotency-Key": "o-2@WH1"}, json={
        "carrier": "simdhl", "service": "ground", "weight_kg": 1.0, "reference": "o-2@WH1"})).json()

    labelled = await parcel_where(shipping, "o-2@WH1", lambda p: p["status"] == "labelled")
    assert labelled["tracking_number"] == sold_before["tracking_number"]
    assert (await carrier.get("/v1/stats")).json()["labels"] == 1


async def test_an_authorized_return_gets_one_return_label(shipping, carrier):
    await catalogued(shipping, "SKU-LAMP", 3.0)
    rma = new_event("ReturnAuthorized", 1, "returns", "return", "rma-1", ReturnAuthorized(
        rma_id="rma-1", order_id="o-3", channel="web-eu", node="WH1", authorized_at=datetime.now(UTC),
        lines=[ReturnLine(line_id="1", sku="SKU-LAMP", quantity=1)]))
    await publish(shipping, RETURNS_EVENTS, rma, rma)

    labelled = await parcel_where(shipping, "return:rma-1", lambda p: p["status"] == "labelled")
    assert (labelled["kind"], labelled["rma_id"], labelled["service"], labelled["weight_kg"]) == (
        "return", "rma-1", "ground", 3.0)
    events = await events_on(shipping, SHIPPING_EVENTS, lambda payloads: len(payloads) >= 1)
    assert [(kind, payload["rma_id"], payload["tracking_number"], payload["cost"]) for kind, payload in events] == [
        ("ReturnLabelIssued", "rma-1", labelled["tracking_number"], "6.40")]
    assert (await carrier.get("/v1/stats")).json()["labels"] == 1


async def test_a_parcel_no_allowed_service_can_carry_fails_visibly_until_a_supervisor_retries(shipping, carrier):
    """A hazmat parcel of a channel that allows only simdhl express, which carries no dangerous goods: failed and
    listed; once a supervisor allows all of simdhl for the channel, the retry buys ground, which carries them."""
    supervisor = as_("sup:ana", SUPERVISOR)
    rule = await shipping.put("/v1/rules/carriers/b2b", json={"services": ["simdhl/express"]}, headers=supervisor)
    assert (rule.status_code, rule.json()["updated_by"]) == (200, "sup:ana")
    await catalogued(shipping, "SKU-BATTERY", 2.0, hazmat_class="UN3480")
    await sold(shipping, "o-4", [("1", "SKU-BATTERY", 1)], channel="b2b", promised_date=in_days(30))
    await publish(shipping, WAREHOUSE_EVENTS, packed("o-4", "WH1", [("SKU-BATTERY", 1)]))

    failed = await parcel_where(shipping, "o-4@WH1", lambda p: p["status"] == "failed")
    assert failed["last_error"] == "no_service: no active service allowed for the channel takes hazmat, 2 kg"
    listed = (await shipping.get("/v1/parcels", params={"status": "failed"})).json()
    assert [p["parcel_id"] for p in listed] == ["o-4@WH1"]

    rule = await shipping.put("/v1/rules/carriers/b2b", json={"carriers": ["simdhl"]}, headers=supervisor)
    assert rule.json()["services"] is None
    retried = await shipping.post("/v1/parcels/o-4@WH1/retry", headers=supervisor)
    assert (retried.status_code, retried.json()["status"], retried.json()["retried_by"]) == (200, "pending", "sup:ana")
    labelled = await parcel_where(shipping, "o-4@WH1", lambda p: p["status"] == "labelled")
    assert (labelled["carrier"], labelled["service"], labelled["hazmat"]) == ("simdhl", "ground", True)


async def test_a_parcel_before_its_order_waits_for_it(shipping, carrier):
    await publish(shipping, WAREHOUSE_EVENTS, packed("o-5", "WH1", [("SKU-UNKNOWN", 1)]))
    waiting = await parcel_where(shipping, "o-5@WH1", lambda p: p["attempts"] >= 1)
    assert waiting["last_error"].startswith("order_unknown")
    await sold(shipping, "o-5", [("1", "SKU-UNKNOWN", 1)], promised_date=in_days(30))
    labelled = await parcel_where(shipping, "o-5@WH1", lambda p: p["status"] == "labelled")
    assert labelled["weight_kg"] == 1.0  # the catalog does not know the SKU: the default weight

    async def one_label() -> bool:
        return (await carrier.get("/v1/stats")).json()["labels"] == 1

    await eventually(one_label)
