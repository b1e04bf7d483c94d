"""The supply side on the real broker and database (issue 19): carriers' labels and tracking, purchase orders and
backorder promises on the order timeline and in the exception inbox, and promised-versus-actual delivery per
carrier and service, through the API and the console."""

import json

import httpx
import pytest

from control_service.bootstrap import build_app
from control_service.service_layer.actions import ServiceClient
from control_service.settings import ControlSettings
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    ORDER_EVENTS,
    SHIPPING_EVENTS,
    SHIPPING_TRACKING,
    SUPPLY_EVENTS,
)
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, serving
from ecomops_common.testing.samples import order_placed

from .conftest import T0, at, event, publish
from .test_console import signed_in, tiles

pytestmark = pytest.mark.integration
DAY = 60 * 24
WINDOW = {"from": "2026-11-19T00:00:00Z", "to": "2026-11-30T00:00:00Z", "grain": "month"}


class Supply:
    """The supply service's API as the inbox's actions call it, recording the calls."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        return httpx.Response(200, json={"po_id": request.url.path.split("/")[3], "status": "approved"})


@pytest.fixture
async def control(settings_for):
    settings = settings_for(ControlSettings, supply_url="http://supply.test")
    app = build_app(settings)
    supply = Supply()
    app.state.services = ServiceClient(settings, transport=httpx.MockTransport(supply))
    async with serving(app) as client:
        client.supply = supply
        yield client


def as_(subject: str, *roles: str) -> dict[str, str]:
    return test_issuer().bearer(subject, *roles)


def label(order_id: str, tracking_number: str, service: str, estimated: str, meets_promise: bool):
    return event("LabelPurchased", "shipping", order_id, {
        "parcel_id": f"{order_id}@WH1", "order_id": order_id, "node": "WH1", "carrier": "dhl", "service": service,
        "tracking_number": tracking_number, "cost": "5.40", "currency": "EUR", "ship_date": "2026-11-20",
        "estimated_delivery": estimated, "promised_date": "2026-11-22", "meets_promise": meets_promise,
        "purchased_at": at(10)}, 10)


def tracked(order_id: str, tracking_number: str, status: str, minutes: float, carrier: str = "dhl",
            service: str = "ground", estimated: str = "2026-11-23"):
    return event("TrackingUpdated", "shipping", tracking_number, {
        "event_id": f"{tracking_number}-{status}-{minutes}", "tracking_number": tracking_number, "carrier": carrier,
        "service": service, "status": status, "order_id": order_id, "parcel_id": f"{order_id}@WH1",
        "promised_date": "2026-11-22", "estimated_delivery": estimated, "occurred_at": at(minutes)}, minutes)


def purchase_order(po_id: str, revision: int, status: str, minutes: float):
    return event("PurchaseOrderChanged", "supply", po_id, {
        "po_id": po_id, "revision": revision, "vendor_id": "acme", "node": "WH1", "status": status,
        "currency": "EUR", "total": "120.00", "expected_date": "2026-12-01", "created_by": "bob",
        "lines": [{"line_id": "1", "sku": "KETTLE", "quantity": 10, "received": 0, "unit_cost": "12.00",
                   "expected_date": "2026-12-01"}], "reason": status, "changed_by": "bob" if revision == 1 else "bea",
        "changed_at": at(minutes)}, minutes)


def story() -> dict:
    """o-s1 (web-eu) ships by DHL ground with a label that misses its promise (the 22nd; estimated the 23rd), hits
    an exception, moves on and arrives on the 24th; o-s2 (never seen placed) arrives by DHL express on time; a UPS
    parcel of o-s3 is stuck in an exception; PO-1 waits for approval, PO-2 was approved; o-s1's backordered line is
    promised later."""
    placed = order_placed("o-s1", [("1", "SKU-A", 1)], placed_at=at(0), promised_date="2026-11-22")
    return {
        ORDER_EVENTS: [placed.model_copy(update={"occurred_at": T0})],
        ALLOCATION_EVENTS: [event("BackorderPromiseChanged", "allocation", "o-s1", {
            "order_id": "o-s1", "line_id": "2", "sku": "SKU-B", "quantity": 1, "previous_date": "2026-11-28",
            "promised_date": "2026-12-02", "reason": "supply_delayed", "changed_at": at(5)}, 5)],
        SHIPPING_EVENTS: [label("o-s1", "1Z-1", "ground", "2026-11-23", False),
                          label("o-s2", "1Z-2", "express", "2026-11-21", True)],
        SHIPPING_TRACKING: [tracked("o-s1", "1Z-1", "in_transit", 120), tracked("o-s1", "1Z-1", "exception", DAY),
                            tracked("o-s1", "1Z-1", "in_transit", 1.5 * DAY),
                            tracked("o-s1", "1Z-1", "delivered", 4 * DAY),
                            tracked("o-s2", "1Z-2", "delivered", DAY, service="express", estimated="2026-11-21"),
                            tracked("o-s3", "1Z-3", "exception", 2 * DAY, carrier="ups")],
        SUPPLY_EVENTS: [purchase_order("PO-1", 1, "draft", 30), purchase_order("PO-2", 1, "draft", 30),
                        purchase_order("PO-2", 2, "approved", 60)],
    }


async def inbox(client, **params) -> dict[str, dict]:
    return {item["item_id"]: item for item in (await client.get("/v1/inbox", params=params)).json()["items"]}


async def test_labels_tracking_and_purchase_orders_in_the_timeline_the_inbox_and_the_kpi(control):
    facts = story()
    await publish(control.settings, facts)

    async def projected() -> bool:
        async with control.unit_of_work() as uow:
            events = len(await uow.read_model.timeline("o-s1")) + len(await uow.read_model.timeline("o-s2"))
        items = await inbox(control)
        return events == 9 and {"po_approval:PO-1", "tracking_exception:1Z-3"} <= set(items)

    await eventually(projected, timeout=60)
    timeline = (await control.get("/v1/orders/o-s1")).json()["timeline"]
    assert [e["event_type"] for e in timeline] == [
        "OrderPlaced", "BackorderPromiseChanged", "LabelPurchased", "TrackingUpdated", "TrackingUpdated",
        "TrackingUpdated", "TrackingUpdated"]
    assert "2026-11-28 → 2026-12-02 (supply_delayed)" in timeline[1]["summary"]
    assert "misses the promised 2026-11-22" in timeline[2]["summary"]

    items = await inbox(control)
    # 1Z-1's exception ended with its next event, its late label with its delivery; PO-2 was approved
    assert {item_id for item_id in items if item_id.split(":")[0] in ("tracking_exception", "late_label",
                                                                      "po_approval")} == {
        "po_approval:PO-1", "tracking_exception:1Z-3"}
    assert items["po_approval:PO-1"]["owner_role"] == "buyer" and "120.00 EUR" in items["po_approval:PO-1"]["summary"]
    buyer = as_("bea", "buyer")
    seen_by_buyer = (await control.get("/v1/inbox", headers=buyer)).json()
    assert [item["item_id"] for item in seen_by_buyer["items"]] == ["po_approval:PO-1"]

    approved = await control.post("/v1/inbox/po_approval:PO-1/actions/approve_purchase_order",
                                  json={"note": "budget ok"}, headers=buyer)
    assert approved.status_code == 200, approved.text
    [call] = control.supply.calls
    assert (call.method, call.url.path, json.loads(call.content)) == ("POST", "/v1/purchase-orders/PO-1/approve",
                                                                      {"note": "budget ok"})
    assert call.headers["authorization"] == buyer["authorization"]  # done by the supply service as the buyer
    assert "po_approval:PO-1" not in await inbox(control)

    rows = (await control.get("/v1/kpis/delivery_performance", params=WINDOW)).json()["rows"]
    assert [(r["carrier"], r["service"], r["delivered"], r["on_time"], r["late"], r["value"], r["avg_days_late"],
             r["on_time_vs_estimate"], r["on_time_share_vs_estimate"], r["avg_days_late_vs_estimate"])
            for r in rows] == [("dhl", "express", 1, 1, 0, 1.0, None, 1, 1.0, None),
                               ("dhl", "ground", 1, 0, 1, 0.0, 2.0, 0, 0.0, 1.0)]
    ground = (await control.get("/v1/kpis/delivery_performance", params={**WINDOW, "service": "ground"})).json()
    assert [r["service"] for r in ground["rows"]] == ["ground"]
    web = (await control.get("/v1/kpis/delivery_performance", params={**WINDOW, "channel": "web-eu"})).json()
    assert [r["service"] for r in web["rows"]] == ["ground"]  # o-s2 was never placed
    assert (await control.get("/v1/kpis/delivery_performance", params={**WINDOW, "carrier": "ups"})).json()[
        "rows"] == []  # its parcel is not delivered
    refused = await control.get("/v1/kpis/delivery_performance", params={"node": "WH1"})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("node:")
    refused = await control.get("/v1/kpis/fill_rate", params={"service": "ground"})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("service:")
    bad = await control.get("/v1/kpis/delivery_performance", params={"service": "x" * 65})
    assert bad.status_code == 422 and "service" in bad.text

    sam = await signed_in(control, "sam", "supervisor")
    overview = await control.get("/console/?days=90", headers=sam.headers)
    assert tiles(overview.text)["delivery_performance"] == "50.0 %"  # o-s1 late, o-s2 on time
    page = await control.get("/console/kpis/delivery_performance?service=ground&grain=month&from=2026-11-19T00:00"
                             "&to=2026-11-30T00:00", headers=sam.headers)
    assert page.status_code == 200
    assert 'id="filter-service" value="ground"' in page.text and 'data-series="dhl / ground"' in page.text
    csv = await control.get("/console/kpis/delivery_performance.csv?service=ground&grain=month&from=2026-11-19T00:00"
                            "&to=2026-11-30T00:00", headers=sam.headers)
    assert csv.text.splitlines()[0].startswith("period,carrier,service,delivered,promised,on_time,late,value")
    order_page = await control.get("/console/orders/o-s1", headers=sam.headers)
    assert order_page.text.count('data-event-type="TrackingUpdated"') == 4
