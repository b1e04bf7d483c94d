"""Tracking on Kafka and PostgreSQL with the carrier simulator as its own process: a dispatched parcel is handed
over, the carrier's events become TrackingUpdated once each, the order is delivered when its last labelled parcel
is, and delivery performance compares promised and actual dates."""

from datetime import UTC, datetime

import pytest

from ecomops_common.contracts import SHIPPING_TRACKING, WAREHOUSE_EVENTS
from ecomops_common.contracts.warehouse import ShipmentDispatched, ShippedLine
from ecomops_common.envelope import new_event

from .conftest import behave, catalogued, events_on, in_days, packed, parcel_where, publish, sold

pytestmark = pytest.mark.integration


def dispatched(parcel: dict) -> object:
    return new_event("ShipmentDispatched", 1, "warehouse", "order", parcel["order_id"], ShipmentDispatched(
        order_id=parcel["order_id"], node=parcel["node"], tracking_number=parcel["tracking_number"],
        carrier=parcel["carrier"], shipped_at=datetime.now(UTC), shipping_cost=parcel["cost"], currency="EUR",
        lines=[ShippedLine(line_id="1", sku=line["sku"], quantity=line["quantity"]) for line in parcel["lines"]]))


async def test_dispatched_parcels_are_tracked_until_the_order_is_delivered(shipping, carrier):
    await catalogued(shipping, "SKU-BOOK", 0.4)
    await sold(shipping, "o-7", [("1", "SKU-BOOK", 1), ("2", "SKU-BOOK", 1)], promised_date=in_days(30))
    await publish(shipping, WAREHOUSE_EVENTS, packed("o-7", "WH1", [("SKU-BOOK", 1)]),
                  packed("o-7", "WH2", [("SKU-BOOK", 1)]))
    first = await parcel_where(shipping, "o-7@WH1", lambda p: p["status"] == "labelled")
    second = await parcel_where(shipping, "o-7@WH2", lambda p: p["status"] == "labelled")

    # The first parcel leaves (its dispatch redelivered): delivered, but the order is not yet
    await publish(shipping, WAREHOUSE_EVENTS, dispatched(first), dispatched(first))
    await parcel_where(shipping, "o-7@WH1", lambda p: p["tracking_status"] == "delivered")
    await publish(shipping, WAREHOUSE_EVENTS, dispatched(second))
    await parcel_where(shipping, "o-7@WH2", lambda p: p["tracking_status"] == "delivered")

    events = await events_on(shipping, SHIPPING_TRACKING,
                             lambda payloads: sum(p["status"] == "delivered" for p in payloads) >= 2)
    updates = [payload for kind, payload in events if kind == "TrackingUpdated"]
    assert len({u["event_id"] for u in updates}) == len(updates) == 6  # each carrier event once
    by_parcel = {}
    for update in updates:
        by_parcel.setdefault(update["parcel_id"], []).append(update)
    assert {parcel: [u["status"] for u in timeline] for parcel, timeline in by_parcel.items()} == {
        "o-7@WH1": ["in_transit", "out_for_delivery", "delivered"],
        "o-7@WH2": ["in_transit", "out_for_delivery", "delivered"]}
    delivered = {u["parcel_id"]: u for u in updates if u["status"] == "delivered"}
    assert (delivered["o-7@WH1"]["order_delivered"], delivered["o-7@WH2"]["order_delivered"]) == (False, True)
    assert delivered["o-7@WH2"] | {"event_id": None, "occurred_at": None, "description": None} == {
        "event_id": None, "tracking_number": second["tracking_number"], "carrier": "simdhl", "service": "ground",
        "status": "delivered", "description": None, "order_id": "o-7", "rma_id": None, "parcel_id": "o-7@WH2",
        "promised_date": in_days(30).isoformat(), "estimated_delivery": second["estimated_delivery"],
        "order_delivered": True, "occurred_at": None}

    tracking = (await shipping.get(f"/v1/tracking/{first['tracking_number']}")).json()
    assert [e["status"] for e in tracking["events"]] == ["in_transit", "out_for_delivery", "delivered"]
    assert tracking["parcel"]["order_id"] == "o-7"
    performance = (await shipping.get("/v1/delivery-performance", params={"carrier": "simdhl"})).json()
    assert performance == [{"carrier": "simdhl", "service": "ground", "delivered": 2, "with_promise": 2,
                            "on_time": 2, "late": 0, "on_time_rate": 1.0, "on_estimate": 2, "after_estimate": 0,
                            "average_days_late": None}]
    assert (await shipping.get("/v1/delivery-performance", params={"service": "express"})).json() == []
    stats = (await carrier.get("/v1/stats")).json()
    assert (stats["labels"], stats["handovers"]) == (2, 2)


async def test_a_late_parcel_counts_against_its_carrier_service(shipping, carrier):
    """Promised for today: no service can make it, so the fastest is bought (meets_promise false); the carrier is
    late on top, and the delivery performance says by how many days."""
    await behave(carrier, late_rate=1)
    await catalogued(shipping, "SKU-VASE", 1.0)
    await sold(shipping, "o-8", [("1", "SKU-VASE", 1)], promised_date=in_days(0))
    await publish(shipping, WAREHOUSE_EVENTS, packed("o-8", "WH1", [("SKU-VASE", 1)]))
    parcel = await parcel_where(shipping, "o-8@WH1", lambda p: p["status"] == "labelled")
    assert (parcel["service"], parcel["meets_promise"]) == ("express", False)
    await publish(shipping, WAREHOUSE_EVENTS, dispatched(parcel))
    delivered = await parcel_where(shipping, "o-8@WH1", lambda p: p["tracking_status"] == "delivered")

    [figures] = (await shipping.get("/v1/delivery-performance", params={"from": in_days(0).isoformat()})).json()
    days_late = (datetime.fromisoformat(delivered["delivered_at"]).date() - in_days(0)).days
    assert (figures["service"], figures["delivered"], figures["late"], figures["on_time_rate"]) == (
        "express", 1, 1, 0.0)
    assert figures["average_days_late"] == days_late >= 2  # one business day of transit and one or two late
