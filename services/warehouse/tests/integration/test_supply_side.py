"""The supply side on Kafka and PostgreSQL: the catalog's SKU rules and barcodes at receipt, advance ship notices
received as GoodsReceived, transfers announced with their due date, first-expiry-first-out picks, parcels packed
once and shipped under the label the shipping service bought."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ecomops_common.auth import CUSTOMER_SERVICE, DEVICE, SUPERVISOR
from ecomops_common.contracts import ALLOCATION_EVENTS, CATALOG_SKUS, SHIPPING_EVENTS, SUPPLY_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.shipping import LabelPurchased
from ecomops_common.contracts.supply import (
    AdvanceShipNoticeIssued,
    AsnLine,
    PurchaseOrderChanged,
    PurchaseOrderLine,
)
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
TODAY = NOW.date()
JANE = test_issuer().bearer("supervisor:jane", SUPERVISOR)
AGENT = test_issuer().bearer("cs:ann", CUSTOMER_SERVICE)
SCANNER = test_issuer().bearer("scanner-ber1", DEVICE, client="scanner-ber1", node="BER1")
HAM_SCANNER = test_issuer().bearer("scanner-ham1", DEVICE, client="scanner-ham1", node="HAM1")
SOON, LATE = TODAY + timedelta(days=20), TODAY + timedelta(days=90)


def scan(scan_id: str, kind: str, quantity: int, location: str = "DOCK-IN", **changes) -> dict:
    return {"scan_id": scan_id, "device_id": "dev7", "operator_id": "op-15", "warehouse_id": "BER1",
            "scanned_at": NOW.isoformat(), "kind": kind, "sku": "SKU-RED-M", "quantity": quantity,
            "location": location, **changes}


def sku_changed(sku: str, revision: int, **changes):
    return new_event("SkuChanged", 1, "catalog", "sku", sku, SkuChanged(**{
        "sku": sku, "revision": revision, "status": "active", "name": sku, "changed_by": "mia.merchandiser",
        "changed_at": NOW, **changes}))


async def announce_skus(warehouse, *events) -> None:
    settings = warehouse.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(CATALOG_SKUS), list(events))
    last = events[-1]

    async def applied() -> bool:
        known = await warehouse.get(f"/v1/skus/{last.aggregate_id}")
        return known.status_code == 200 and known.json()["revision"] >= last.payload["revision"]

    await eventually(applied)


def refusal(response) -> tuple[int, str, list]:
    problem, = response.json()["detail"]
    return response.status_code, problem["type"], problem["loc"]


async def warehouse_events(warehouse, event_type: str, count: int) -> list[dict]:
    settings = warehouse.settings

    def of_type(records) -> list[dict]:
        return [json.loads(r.value)["payload"] for r in records if dict(r.headers)["event_type"] == event_type.encode()]

    return of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
                                       lambda records: len(of_type(records)) >= count))


async def test_receipts_follow_the_catalogs_rules_and_barcodes(warehouse):
    await announce_skus(warehouse, sku_changed("SKU-RED-M", 2, lot_controlled=True, expiry_controlled=True,
                                               barcodes=["4006381333931"], hazmat_class="UN1170"),
                        sku_changed("SKU-RED-M", 1),  # older: changes nothing
                        sku_changed("SKU-BLUE-L", 1, components=[{"sku": "SKU-RED-M", "quantity": 2}]))
    rules = (await warehouse.get("/v1/skus/SKU-RED-M")).json()
    assert (rules["revision"], rules["lot_controlled"], rules["barcodes"], rules["hazmat_class"]) == (
        2, True, ["4006381333931"], "UN1170")
    assert (await warehouse.get("/v1/skus/NEVER")).status_code == 404

    by_barcode = scan("b0", "receive", 2, sku="4006381333931", reference="PO-TEST")
    assert refusal(await warehouse.post("/v1/scans", json=by_barcode)) == (422, "missing_lot", ["body", "lot"])
    assert refusal(await warehouse.post("/v1/scans", json={**by_barcode, "scan_id": "b1", "lot": "L1"})) == (
        422, "missing_expiry", ["body", "expiry"])
    expired = {**by_barcode, "scan_id": "b2", "lot": "L1", "expiry": (TODAY - timedelta(days=1)).isoformat()}
    assert refusal(await warehouse.post("/v1/scans", json=expired)) == (422, "expired", ["body", "expiry"])
    bundle = scan("b3", "receive", 1, sku="SKU-BLUE-L", reference="PO-TEST")
    assert refusal(await warehouse.post("/v1/scans", json=bundle)) == (422, "bundle_sku", ["body", "sku"])
    good = {**by_barcode, "scan_id": "b4", "lot": "L1", "expiry": SOON.isoformat()}
    assert (await warehouse.post("/v1/scans", json=good)).json()["outcome"] == "applied"
    stock, = (await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json()
    assert (stock["lot"], stock["expiry"], stock["units"]) == ("L1", SOON.isoformat(), 2)
    queue = {e["scan_id"]: e["reason"] for e in (await warehouse.get("/v1/scan-exceptions")).json()}
    assert queue == {"b0": "missing_lot", "b1": "missing_expiry", "b2": "expired", "b3": "bundle_sku"}
    # Nothing of a refused receipt is booked, and it is not approvable: the units are rescanned.
    assert (await warehouse.post("/v1/scan-exceptions/b0/approve", json={"resolution": "x"},
                                 headers=JANE)).status_code == 409


async def test_an_asn_is_expected_and_received_against_as_goods_received(warehouse):
    settings = warehouse.settings
    asn = new_event("AdvanceShipNoticeIssued", 1, "supply", "purchase_order", "PO-7", AdvanceShipNoticeIssued(
        asn_id="ASN-7", po_id="PO-7", vendor_id="v1", node="BER1", currency="EUR", expected_date=TODAY,
        issued_by="buyer:bob", issued_at=NOW, lines=[
            AsnLine(po_line_id="1", sku="SKU-RED-M", quantity=6, unit_cost=Decimal("2.50"), lot="L7",
                    expiry=LATE)]))
    po = new_event("PurchaseOrderChanged", 1, "supply", "purchase_order", "PO-7", PurchaseOrderChanged(
        po_id="PO-7", revision=1, vendor_id="v1", node="BER1", status="sent", currency="EUR", total=Decimal("15"),
        expected_date=TODAY, created_by="buyer:bob", reason="sent", changed_by="buyer:bob", changed_at=NOW,
        lines=[PurchaseOrderLine(line_id="1", sku="SKU-RED-M", quantity=6, received=0, unit_cost=Decimal("2.5"),
                                 expected_date=TODAY)]))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(SUPPLY_EVENTS), [po, asn])

    async def expected() -> bool:
        return (await warehouse.get("/v1/receipts/ASN-7")).status_code == 200

    await eventually(expected)
    receipt = (await warehouse.get("/v1/receipts/ASN-7")).json()
    assert (receipt["po_id"], receipt["expected"], receipt["expected_date"]) == (
        "PO-7", {"SKU-RED-M": 6}, TODAY.isoformat())
    assert (await warehouse.post("/v1/scans", json=scan("g1", "receive", 4, reference="ASN-7"))).status_code == 200
    over = await warehouse.post("/v1/scans", json=scan("g2", "receive", 3, reference="ASN-7"))
    assert refusal(over) == (422, "over_receipt", ["body", "quantity"])
    assert (await warehouse.post("/v1/scans", json=scan("g3", "receive", 2, reference="ASN-7"))).status_code == 200

    received = await warehouse_events(warehouse, "GoodsReceived", 2)
    assert [(g["receipt_id"], g["quantity"], g["unit_cost"], g["currency"], g["lot"], g["expiry"], g["asn_id"],
             g["po_id"], g["received_by"]) for g in received] == [
        (scan_id, units, "2.50", "EUR", "L7", LATE.isoformat(), "ASN-7", "PO-7", "test-admin")
        for scan_id, units in (("g1", 4), ("g3", 2))]
    assert (await warehouse.get("/v1/receipts/ASN-7")).json()["discrepancies"] == {}


async def test_a_transfer_is_announced_on_dispatch_and_on_every_receipt_at_its_destination(warehouse):
    ham = {"locations": [{"code": "DOCK-IN", "kind": "receiving"}]}
    assert (await warehouse.put("/v1/warehouses/HAM1/locations", json=ham)).status_code == 200
    for body in (scan("t-r", "receive", 5, reference="PO-TEST"), scan("t-p", "putaway", 5, to_location="A-01-03")):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200
    transfer = {"reference": "TR-9", "from_node": "BER1", "to_node": "HAM1",
                "lines": [{"sku": "SKU-RED-M", "from_location": "A-01-03", "quantity": 4}]}
    past = await warehouse.post("/v1/transfers", json={**transfer, "expected_date": "2020-01-01"}, headers=JANE)
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "expected_date"]
    due = TODAY + timedelta(days=4)
    dispatched = await warehouse.post("/v1/transfers", json={**transfer, "expected_date": due.isoformat()},
                                      headers=JANE)
    assert dispatched.status_code == 201 and dispatched.json()["expected_date"] == due.isoformat()
    at_ham = {"warehouse_id": "HAM1", "reference": "TR-9"}
    for scan_id, units in (("h1", 1), ("h2", 3)):
        assert (await warehouse.post("/v1/scans", json=scan(scan_id, "receive", units, **at_ham),
                                     headers=HAM_SCANNER)).status_code == 200
    changes = await warehouse_events(warehouse, "TransferChanged", 3)
    assert [(c["status"], c["expected_date"], c["lines"]) for c in changes] == [
        (status, due.isoformat(), [{"sku": "SKU-RED-M", "quantity": 4, "received": received}])
        for status, received in (("dispatched", 0), ("dispatched", 1), ("received", 4))]


async def test_expiring_units_are_picked_first_and_the_parcel_ships_under_its_label(warehouse):
    settings = warehouse.settings
    await announce_skus(warehouse, sku_changed("SKU-RED-M", 1, expiry_controlled=True))
    for lot, expiry, where in (("L-late", LATE, "A-01-03"), ("L-soon", SOON, "A-01-04")):
        for body in (scan(f"in-{lot}", "receive", 3, reference="PO-TEST", lot=lot, expiry=expiry.isoformat()),
                     scan(f"away-{lot}", "putaway", 3, to_location=where, lot=lot, expiry=expiry.isoformat())):
            assert (await warehouse.post("/v1/scans", json=body)).status_code == 200, body
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [new_event(
        "OrderAllocated", 1, "allocation", "order", "o-1", OrderAllocated(
            order_id="o-1", channel="web-eu", status="allocated", revision=1, reason="placed",
            lines=[AllocatedLine(line_id="1", sku="SKU-RED-M", node="BER1", quantity=2)]))])

    async def tasks() -> list[dict]:
        return (await warehouse.get("/v1/pick-tasks", params={"order_id": "o-1"})).json()

    await eventually(tasks)
    task, = await tasks()
    assert (task["suggested_bin"], task["suggested_lot"], task["suggested_expiry"]) == (
        "A-01-04", "L-soon", SOON.isoformat())
    late = scan("k1", "pick", 2, location="A-01-03", reference=task["id"], lot="L-late", expiry=LATE.isoformat())
    assert refusal(await warehouse.post("/v1/scans", json=late)) == (422, "not_first_expiry", ["body", "expiry"])
    for body in (scan("k2", "pick", 2, location="A-01-04", reference=task["id"], lot="L-soon",
                      expiry=SOON.isoformat()),
                 scan("k3", "pack", 2, location="PACK-1", reference=task["id"], lot="L-soon",
                      expiry=SOON.isoformat())):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200, body
    packed, = await warehouse_events(warehouse, "ParcelPacked", 1)
    assert (packed["parcel_id"], packed["node"], packed["lines"]) == (
        "o-1@BER1", "BER1", [{"sku": "SKU-RED-M", "quantity": 2}])

    label = new_event("LabelPurchased", 1, "shipping", "order", "o-1", LabelPurchased(
        parcel_id="o-1@BER1", order_id="o-1", node="BER1", carrier="dhl", service="ground", tracking_number="TRK-9",
        label_url="https://labels.example/TRK-9.pdf", cost=Decimal("7.40"), currency="EUR", ship_date=TODAY,
        estimated_delivery=TODAY + timedelta(days=2), meets_promise=True, purchased_at=NOW))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(SHIPPING_EVENTS), [label])

    async def labelled() -> bool:
        parcels = await warehouse.get("/v1/labels/o-1", headers=AGENT)
        return parcels.status_code == 200 and parcels.json()[0]["tracking_number"] == "TRK-9"

    await eventually(labelled)
    parcel, = (await warehouse.get("/v1/labels/o-1", headers=SCANNER)).json()
    assert (parcel["carrier"], parcel["service"], parcel["cost"], parcel["lines"]) == (
        "dhl", "ground", "7.4000", {"SKU-RED-M": 2})
    assert (await warehouse.get("/v1/labels/o-1", params={"node": "HAM1"}, headers=SCANNER)).status_code == 403
    assert (await warehouse.get("/v1/labels/o-1", headers=HAM_SCANNER)).status_code == 404
    assert (await warehouse.get("/v1/labels/o-1", headers=test_issuer().bearer(
        "auditor:ann", "auditor"))).status_code == 403
    ship = scan("x1", "ship", 2, location="SHIP-1", reference=task["id"], lot="L-soon", expiry=SOON.isoformat())
    assert (await warehouse.post("/v1/scans", json=ship, headers=SCANNER)).status_code == 200
    dispatched, = await warehouse_events(warehouse, "ShipmentDispatched", 1)
    assert (dispatched["tracking_number"], dispatched["carrier"], dispatched["shipping_cost"],
            dispatched["currency"]) == ("TRK-9", "dhl", "7.4000", "EUR")


async def test_scrapping_units_of_a_sku_the_catalog_classes_hazardous_needs_a_disposal_record(warehouse):
    await announce_skus(warehouse, sku_changed("SKU-BLUE-L", 1, hazmat_class="UN3480"))
    damaged = scan("d1", "receive", 2, sku="SKU-BLUE-L", reference="PO-TEST", condition="damaged")
    assert (await warehouse.post("/v1/scans", json=damaged)).status_code == 200
    scrap = {"node": "BER1", "sku": "SKU-BLUE-L", "location": "DOCK-IN", "status": "damaged", "quantity": 1}
    no_record = await warehouse.post("/v1/recovery/scraps", json=scrap, headers=JANE)
    assert (no_record.status_code, no_record.json()["detail"][0]["loc"]) == (422, ["body", "disposal"])
    disposal = {"method": "recycling", "facility": "Batterie-Recycling Nord", "hazard_class": "UN3480"}
    # Accepted: with no unit cost known it waits for a second supervisor, as any such write-off does.
    assert (await warehouse.post("/v1/recovery/scraps", json={**scrap, "disposal": disposal},
                                 headers=JANE)).status_code == 202
