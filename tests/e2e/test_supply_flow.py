"""The supply side end to end, with every service and the simulated carrier and payment provider as processes, each
step by who takes it in real life with tokens of the real provider:

- the SKU master: a merchandiser's CSV import with a bad row applies nothing until the valid rows are asked for; the
  export reads back; an order for a SKU nobody defined waits on an inventory hold until the SKU is defined; a bundle
  is placed as its components; finance costs SKUs from the master and refuses a hand-set cost for them;
- replenishment to the books: a buyer loads demand history, the forecast suggests a purchase order, a second buyer
  approves it (above the threshold the first may not), it is sent; a backordered order gets its promise date from it,
  and a later date when the vendor's ASN slips; the ASN is the warehouse's expected receipt, received short; the
  purchase order is closed with its discrepancy; finance posts goods received not invoiced and clears it with the
  vendor's invoice (three-way match); the backorder is filled."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from ecomops_common.testing.plugin import eventually
from ecomops_common.testing.samples import channel_order

from .conftest import (
    define_skus,
    journal_totals,
    open_return,
    order_in_status,
    receive_and_put_away,
    rma_in,
    subject_of,
    wh1_scan,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CSV_HEADER = "sku,name,category,vendor_id,vendor_sku,lead_time_days,case_pack,unit_cost,currency,components"
KETTLE = {"sku": "SKU-KETTLE", "name": "Kettle 1.7 l", "category": "kitchen", "vendor_id": "ACME",
          "vendor_sku": "AC-K17", "lead_time_days": 5, "case_pack": 6, "unit_cost": "12.00", "currency": "EUR"}


def today(days: int = 0) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def order_of(external_order_id: str, *lines: tuple[str, str, int, str]) -> dict:
    """web-eu's order of (line id, SKU, quantity, unit price) lines, paid in full with the sample's 4.99 fee."""
    total = sum(D(price) * quantity for _, _, quantity, price in lines) + D("4.99")
    return channel_order(external_order_id=external_order_id,
                         payment={"status": "authorized", "amount": str(total), "method": "card"},
                         lines=[{"line_id": line_id, "sku": sku, "quantity": quantity, "unit_price": price}
                                for line_id, sku, quantity, price in lines])


async def order_view(stack, order_id: str, check) -> dict:
    """The order once `check(order)` holds."""
    async def reached() -> bool:
        return bool(check((await stack.order.get(f"/v1/orders/{order_id}")).json()))

    await eventually(reached)
    return (await stack.order.get(f"/v1/orders/{order_id}")).json()


async def test_sku_master_imports_feed_intake_bundles_and_costs(stack, identities):
    catalog = stack.catalog
    rows = ["SKU-MUG,Mug,kitchen,ACME,AC-M1,5,12,3.00,EUR,",
            "SKU-PLATE,Plate,kitchen,ACME,AC-P1,5,6,4.50,,",  # a cost without its currency
            "SKU-BREAKFAST,Breakfast set,kitchen,,,,1,,,SKU-MUG:2|SKU-PLATE:1"]
    csv = "\n".join([CSV_HEADER, *rows]) + "\n"
    headers = {"content-type": "text/csv"}
    refused = await catalog.post("/v1/skus/import", content=csv, headers=headers, auth=identities.merchandiser)
    assert refused.status_code == 422, refused.text
    report = refused.json()
    assert report["applied"] == 0
    # The bad row, and the bundle that names it as a component (row 1 is the header)
    assert [(error["row"], error["sku"], error["field"]) for error in report["errors"]] == [
        (3, "SKU-PLATE", "currency"), (4, "SKU-BREAKFAST", "components")]
    assert (await catalog.get("/v1/skus/SKU-MUG")).status_code == 404  # nothing applied from a file with errors
    # Not a merchandiser: the supervisor may read the master, not change it
    assert (await catalog.post("/v1/skus/import", content=csv, headers=headers,
                               auth=identities.supervisor)).status_code == 403

    fixed = csv.replace("4.50,,", "4.50,EUR,")
    applied = await catalog.post("/v1/skus/import", params={"valid_rows": "apply"}, content=fixed, headers=headers,
                                 auth=identities.merchandiser)
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == 3 and applied.json()["errors"] == []
    exported = await catalog.get("/v1/skus/export", auth=identities.supervisor)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "SKU-BREAKFAST" in exported.text and "SKU-MUG:2|SKU-PLATE:1" in exported.text

    # An order for a SKU nobody defined waits on an inventory hold; defined, the hold goes by itself
    await define_skus(stack, identities, read_by=("order", "finance"))
    placed = await stack.order.post("/v1/orders", json=order_of("sup-unknown", ("1", "SKU-LAMP", 1, "25.00")),
                                    auth=identities.connector)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "on_hold" and placed.json()["holds"] == ["inventory_hold"]
    await define_skus(stack, identities, {"sku": "SKU-LAMP", "name": "Desk lamp"})
    released = await order_view(stack, placed.json()["id"], lambda order: not order["holds"])
    assert released["status"] in ("awaiting_allocation", "backordered")
    assert any(step["actor"] == "catalog" for step in released["history"])

    # A bundle is placed as its components, the bundle's price split by the components' costs (2 × 3.00 + 4.50)
    placed = await stack.order.post("/v1/orders", json=order_of("sup-bundle", ("B1", "SKU-BREAKFAST", 1, "21.00")),
                                    auth=identities.connector)
    assert placed.status_code == 201, placed.text
    allocated = await order_view(stack, placed.json()["id"], lambda order: order["allocation"])
    assert sorted((line["line_id"], line["sku"], line["quantity"]) for line in allocated["allocation"]) == [
        ("B1.1", "SKU-MUG", 2), ("B1.2", "SKU-PLATE", 1)]

    # Finance costs SKUs from the master; a hand-set cost for one of them is refused
    costs = {row["sku"]: row for row in (await stack.finance.get("/v1/costs", auth=identities.finance)).json()}
    assert costs["SKU-MUG"]["amount"].startswith("3.00") and costs["SKU-MUG"]["from_catalog"] is True
    by_hand = await stack.finance.put("/v1/costs/SKU-MUG", json={"amount": "2.00", "currency": "EUR"},
                                      auth=identities.finance)
    assert by_hand.status_code == 409, by_hand.text


async def test_replenishment_to_receipt_grni_invoice_and_backorder_promises(stack, identities):
    await define_skus(stack, identities, KETTLE, read_by=("order", "supply", "finance", "warehouse"))
    # Eight weeks of history at WH1, busier at weekends; some units came back sellable
    start = datetime.now(UTC).date() - timedelta(days=56)
    days = [{"sku": "SKU-KETTLE", "date": (start + timedelta(days=n)).isoformat(),
             "shipped": 30 if (start + timedelta(days=n)).weekday() >= 5 else 20, "restocked": 2 if n % 7 == 0 else 0}
            for n in range(56)]
    loaded = await stack.supply.post("/v1/demand-history", json={"node": "WH1", "days": days}, auth=identities.buyer)
    assert loaded.status_code == 200, loaded.text
    [suggestion] = (await stack.supply.get("/v1/replenishment", params={"node": "WH1"},
                                           auth=identities.buyer)).json()
    assert suggestion["sku"] == "SKU-KETTLE" and suggestion["vendor_id"] == "ACME"
    assert suggestion["explanation"]["forecast"]["method"] == "holt_winters_additive"  # 8 weeks: weekly season
    assert suggestion["suggested_quantity"] % 6 == 0 and suggestion["suggested_quantity"] >= suggestion["reorder_point"]

    # An order no stock covers is backordered, with no promise while nothing is on order
    placed = await stack.order.post("/v1/orders", json=order_of("sup-backorder", ("1", "SKU-KETTLE", 3, "39.00")),
                                    auth=identities.connector)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    await order_in_status(stack.order, order_id, "backordered")

    drafted = await stack.supply.post("/v1/replenishment/purchase-orders", json={"node": "WH1"},
                                      auth=identities.buyer)
    assert drafted.status_code == 201, drafted.text
    [po] = drafted.json()["purchase_orders"]
    assert po["status"] == "draft" and po["vendor_id"] == "ACME" and D(po["total"]) > D(1000)
    [line] = po["lines"]
    steps = f"/v1/purchase-orders/{po['po_id']}"
    own = await stack.supply.post(f"{steps}/approve", json={}, auth=identities.buyer)
    assert own.status_code == 403 and "four_eyes" in own.text  # above the threshold, not by the one who drafted it
    approved = await stack.supply.post(f"{steps}/approve", json={}, auth=identities.second_buyer)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == await subject_of(identities.second_buyer)
    assert (await stack.supply.post(f"{steps}/send", json={}, auth=identities.buyer)).json()["status"] == "sent"

    # Allocation promises the backorder from the purchase order's date; the vendor's ASN is two days later
    promised = await order_view(stack, order_id, lambda order: any(
        entry.get("promised_date") for entry in order["allocation"]))
    assert {entry["promised_date"] for entry in promised["allocation"]} == {line["expected_date"]}
    later = (date.fromisoformat(line["expected_date"]) + timedelta(days=2)).isoformat()
    asn = {"asn_id": "ASN-KETTLE-1", "expected_date": later,
           "lines": [{"po_line_id": line["line_id"], "quantity": 60}]}
    assert (await stack.supply.post(f"{steps}/asns", json=asn, auth=identities.buyer)).status_code == 201
    await order_view(stack, order_id, lambda order: {entry.get("promised_date") for entry in order["allocation"]}
                     == {later})

    # The ASN is WH1's expected receipt; 58 of the 60 arrive and are put away; the backorder is filled
    async def expected() -> bool:
        return (await stack.warehouse.get("/v1/receipts/ASN-KETTLE-1", auth=identities.supervisor)).status_code == 200

    await eventually(expected)
    layout = {"locations": [{"code": "DOCK", "kind": "receiving"}, {"code": "BIN-1", "kind": "storage"}]}
    assert (await stack.warehouse.put("/v1/warehouses/WH1/locations", json=layout)).status_code == 200
    for scan in (wh1_scan("kettle-in", "receive", "DOCK", 58, "ASN-KETTLE-1", sku="SKU-KETTLE"),
                 wh1_scan("kettle-put", "putaway", "DOCK", 58, None, sku="SKU-KETTLE", to_location="BIN-1")):
        answer = await stack.warehouse.post("/v1/scans", json=scan, auth=identities.scanner)
        assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text
    await order_in_status(stack.order, order_id, "released_to_warehouse")

    async def received() -> bool:
        return (await stack.supply.get(steps, auth=identities.buyer)).json()["status"] == "partially_received"

    await eventually(received)
    closed = await stack.supply.post(f"{steps}/close", json={"note": "rest cancelled by ACME"}, auth=identities.buyer)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert [(line["received"], line["discrepancy"]) for line in closed.json()["lines"]] == [
        (58, 58 - line["quantity"])]

    # Finance: goods received not invoiced at the purchase order's cost, cleared by ACME's invoice
    async def grni_open() -> bool:
        report = (await stack.finance.get("/v1/grni", params={"po_id": po["po_id"]}, auth=identities.finance)).json()
        return [(row["sku"], D(row["open_value"])) for row in report["lines"]] == [("SKU-KETTLE", D("696.00"))]

    await eventually(grni_open)
    invoice = {"invoice_id": "INV-ACME-1", "po_id": po["po_id"], "vendor_id": "ACME", "currency": "EUR",
               "lines": [{"sku": "SKU-KETTLE", "quantity": 59, "unit_price": "12.10"}]}
    beyond = await stack.finance.post("/v1/vendor-invoices", json=invoice, auth=identities.finance)
    assert beyond.status_code == 422, beyond.text  # one more than was received
    assert beyond.json()["detail"][0]["loc"] == ["body", "lines", "0", "quantity"]
    invoice["lines"][0]["quantity"] = 58
    billed = await stack.finance.post("/v1/vendor-invoices", json=invoice, auth=identities.finance)
    assert billed.status_code == 201, billed.text
    assert (D(billed.json()["received_cost"]), D(billed.json()["price_variance"])) == (D("696.00"), D("5.80"))
    report = (await stack.finance.get("/v1/grni", params={"po_id": po["po_id"]}, auth=identities.finance)).json()
    assert D(report["lines"][0]["open_value"]) == 0
    totals = await journal_totals(stack, identities)  # 2160 cleared; the 0.10 a unit over cost is a variance
    assert (totals.get("1400"), totals.get("2160"), totals.get("5150"), totals.get("2150")) == (
        "696.00", None, "5.80", "-701.80")


async def test_a_parcel_gets_one_label_its_tracking_delivers_the_order_and_a_return_gets_a_label(stack, identities):
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 3})
    await define_skus(stack, identities, {"sku": "SKU-RED-M", "name": "Red shirt, M", "category": "apparel",
                                          "weight_kg": 0.4}, read_by=("order", "shipping"))
    promised = today(6)  # a week of business days at most: every service meets it, so the cheapest is bought
    placed = await stack.order.post("/v1/orders", json=channel_order(external_order_id="ship-1",
                                                                     promised_date=promised),
                                    auth=identities.connector)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    await order_in_status(stack.order, order_id, "released_to_warehouse")
    [task] = (await stack.warehouse.get("/v1/pick-tasks", params={"order_id": order_id},
                                        auth=identities.scanner)).json()
    for kind, location in (("pick", "BIN-1"), ("pack", "PACK")):
        answer = await stack.warehouse.post("/v1/scans", json=wh1_scan(f"{task['id']}-{kind}", kind, location, 3,
                                                                       task["id"]), auth=identities.scanner)
        assert answer.status_code == 200, answer.text

    # Packed: shipping rate-shops and buys one label, which the warehouse shows the packer
    async def labelled() -> dict | None:
        parcels = (await stack.shipping.get("/v1/parcels", params={"order_id": order_id},
                                            auth=identities.supervisor)).json()
        return parcels[0] if parcels and parcels[0]["status"] == "labelled" else None

    await eventually(labelled)
    parcel = await labelled()
    services = {(row["carrier"], row["service"]): row for row in (await stack.shipping.get(
        "/v1/carrier-services", auth=identities.supervisor)).json()}
    assert (parcel["carrier"], parcel["service"]) in services and parcel["meets_promise"] is True
    assert parcel["promised_date"] == promised and parcel["estimated_delivery"] <= promised

    async def label_at_the_pack_station() -> bool:
        return (await stack.warehouse.get(f"/v1/labels/{order_id}", auth=identities.scanner)).status_code == 200

    await eventually(label_at_the_pack_station)

    # Shipped without typing a tracking number: the label's travels with the shipment; the carrier's tracking then
    # moves the order to delivered, no confirmation by hand
    shipped = wh1_scan(f"{task['id']}-ship", "ship", "SHIP", 3, task["id"])
    assert (await stack.warehouse.post("/v1/scans", json=shipped, auth=identities.scanner)).status_code == 200
    delivered = await order_in_status(stack.order, order_id, "delivered")
    assert delivered["history"][-1]["actor"] == f"carrier:{parcel['carrier']}"
    tracking = (await stack.shipping.get(f"/v1/tracking/{parcel['tracking_number']}",
                                         auth=identities.service)).json()
    assert [event["status"] for event in tracking["events"]] == ["in_transit", "out_for_delivery", "delivered"]
    assert (await stack.carrier.get("/v1/stats")).json()["duplicate_references"] == []  # one label per parcel

    # Promised against actual, per carrier and service: in shipping's figures and on the control tower's KPI
    [performance] = (await stack.shipping.get("/v1/delivery-performance", auth=identities.supervisor)).json()
    assert (performance["carrier"], performance["service"], performance["delivered"], performance["on_time"]) == (
        parcel["carrier"], parcel["service"], 1, 1)

    # The simulated carrier dates its events on its own clock (transit days pass in seconds): days ahead of ours
    window = {"grain": "day", "from": f"{today(-1)}T00:00:00Z", "to": f"{today(14)}T00:00:00Z"}

    async def kpi() -> bool:
        rows = (await stack.control.get("/v1/kpis/delivery_performance", params=window,
                                        auth=identities.supervisor)).json()["rows"]
        return sum(row.get("delivered") or 0 for row in rows) == 1

    await eventually(kpi)

    # A return: shipping issues one prepaid return label, which the RMA shows customer service
    rma = await open_return(stack, identities, {"channel": "web-eu", "request_id": "ship-1-r",
                                                "external_order_id": "ship-1", "reason": "size_fit",
                                                "lines": [{"sku": "SKU-RED-M", "quantity": 1}]})
    labelled_rma = await rma_in(stack.returns, rma["id"], lambda r: r.get("return_label"))
    assert labelled_rma["return_label"]["tracking_number"]


async def test_a_carts_soft_reservation_holds_stock_until_it_expires_or_becomes_the_order(stack, identities):
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 5})

    async def atp() -> int:
        answer = (await stack.allocation.get("/v1/atp/SKU-RED-M", params={"node": "WH1", "days": 1},
                                             auth=identities.connector)).json()
        return answer["nodes"][0]["dates"][0]["atp"] if answer["nodes"] else 0

    async def stocked() -> bool:
        return await atp() == 5

    await eventually(stocked)
    cart = {"reservation_id": "cart-1", "channel": "web-eu", "lines": [{"sku": "SKU-RED-M", "quantity": 3}],
            "expires_in_s": 600}
    held = await stack.allocation.post("/v1/soft-reservations", json=cart, auth=identities.connector)
    assert held.status_code == 201, held.text
    assert await atp() == 2
    too_many = {**cart, "reservation_id": "cart-2", "lines": [{"sku": "SKU-RED-M", "quantity": 3}]}
    short = await stack.allocation.post("/v1/soft-reservations", json=too_many, auth=identities.connector)
    assert short.status_code == 409 and "SKU-RED-M" in short.text  # nothing held of it
    other_channel = {**cart, "reservation_id": "cart-3", "channel": "marketplace-de"}
    assert (await stack.allocation.post("/v1/soft-reservations", json=other_channel,
                                        auth=identities.connector)).status_code == 403

    # A quote of 2 units that nobody takes lapses by itself; its units are for sale again
    quote = {**cart, "reservation_id": "quote-1", "lines": [{"sku": "SKU-RED-M", "quantity": 2}],
             "expires_in_s": 1}
    assert (await stack.allocation.post("/v1/soft-reservations", json=quote,
                                        auth=identities.service)).status_code == 201
    assert await atp() == 0

    async def lapsed() -> bool:
        return await atp() == 2

    await eventually(lapsed)

    # The cart becomes an order: its 3 units are the order's, nobody else's meanwhile
    placed = await stack.order.post("/v1/orders", json=channel_order(external_order_id="cart-1-order",
                                                                     reservation_id="cart-1"),
                                    auth=identities.connector)
    assert placed.status_code == 201, placed.text
    await order_in_status(stack.order, placed.json()["id"], "released_to_warehouse")
    converted = (await stack.allocation.get("/v1/soft-reservations/cart-1", auth=identities.connector)).json()
    assert converted["status"] == "converted" and converted["order_id"] == placed.json()["id"]
    assert await atp() == 2
    # Reserved and soft-reserved counters agree with the reservations that hold them
    assert (await stack.allocation.get("/v1/reconciliation")).json() == {"ok": True, "drift": []}
