"""The supply side on in-memory fakes: the catalog's rules and barcodes, advance ship notices received as
GoodsReceived, parcels packed once and shipped under their label, transfers and pick tasks first-expiry-first-out
(no Kafka, no PostgreSQL)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.shipping import LabelPurchased
from ecomops_common.contracts.supply import AdvanceShipNoticeIssued, AsnLine
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.testing.fakes import received
from warehouse_service.adapters.fakes import FakeWarehouse, FakeWarehouseUnitOfWork
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Place, StockStatus
from warehouse_service.domain.tasks import PickTask
from warehouse_service.domain.waves import WaveRules
from warehouse_service.service_layer.catalog import follow_skus
from warehouse_service.service_layer.inbound import expect_asns
from warehouse_service.service_layer.parcels import follow_labels
from warehouse_service.service_layer.scanning import approve_scan_exception, take_scans
from warehouse_service.service_layer.tasks import follow_allocations
from warehouse_service.service_layer.transfers import dispatch_transfer

NOW = datetime.now(UTC)
TODAY = NOW.date()
LAYOUT = [Location("BER1", "DOCK-IN", LocationKind.receiving), Location("BER1", "A-01", LocationKind.storage),
          Location("BER1", "A-02", LocationKind.storage), Location("BER1", "PACK-1", LocationKind.packing),
          Location("BER1", "SHIP-1", LocationKind.shipping), Location("HAM1", "DOCK-IN", LocationKind.receiving)]


def warehouse() -> FakeWarehouse:
    fake = FakeWarehouse()
    fake.locations = {(loc.node, loc.code): loc for loc in LAYOUT}
    return fake


def sku_changed(sku: str, revision: int, **changes) -> SkuChanged:
    return SkuChanged(**{"sku": sku, "revision": revision, "status": "active", "name": sku, "changed_by": "mia",
                         "changed_at": NOW, **changes})


def scan(scan_id: str, kind: str, quantity: int, location: str = "DOCK-IN", **changes) -> Scan:
    return Scan(**{"scan_id": scan_id, "device_id": "dev7", "operator_id": "op-15", "warehouse_id": "BER1",
                   "scanned_at": NOW, "kind": kind, "sku": "MILK", "quantity": quantity, "location": location,
                   **changes})


ASN = AdvanceShipNoticeIssued(
    asn_id="ASN-1", po_id="PO-1", vendor_id="v1", node="BER1", currency="EUR", expected_date=TODAY,
    issued_by="buyer:bob", issued_at=NOW,
    lines=[AsnLine(po_line_id="1", sku="MILK", quantity=5, unit_cost=Decimal("1.20"), lot="L1",
                   expiry=TODAY + timedelta(days=30))])


async def test_the_newest_revision_of_a_sku_wins_and_its_barcodes_name_it():
    uow = FakeWarehouseUnitOfWork(warehouse())
    await follow_skus(uow, received(sku_changed("MILK", 2, lot_controlled=True, barcodes=["4006381333931"],
                                                hazmat_class="UN1170"),
                                    sku_changed("MILK", 1)))
    rules = uow.warehouse.skus["MILK"]
    assert (rules.revision, rules.lot_controlled, rules.barcodes) == (2, True, ("4006381333931",))
    assert await uow.warehouse.hazardous({("MILK", "BER1"), ("TEE", "BER1")}) == {("MILK", "BER1")}
    await admin_receipt(uow)
    await take_scans(uow, received(scan("s1", "receive", 2, sku="4006381333931", reference="PO-T")), 0)
    assert uow.warehouse.exceptions["s1"]["reason"] == "missing_lot"  # resolved to MILK, which needs a lot
    await take_scans(uow, received(scan("s2", "receive", 2, sku="4006381333931", reference="PO-T", lot="L1")), 0)
    assert [(m.sku, m.target.lot) for m in uow.warehouse.movements] == [("MILK", "L1")]


async def admin_receipt(uow: FakeWarehouseUnitOfWork) -> None:
    from warehouse_service.service_layer.admin import expect_receipt

    await expect_receipt(uow, "PO-T", "BER1", [("MILK", 10), ("KIT", 1)], "sup-jane")


async def test_a_bundle_is_never_received():
    uow = FakeWarehouseUnitOfWork(warehouse())
    await follow_skus(uow, received(sku_changed("KIT", 1, components=[{"sku": "MILK", "quantity": 2}])))
    await admin_receipt(uow)
    await take_scans(uow, received(scan("s1", "receive", 1, sku="KIT", reference="PO-T")), 0)
    assert uow.warehouse.exceptions["s1"]["reason"] == "bundle_sku" and not uow.warehouse.movements


async def test_an_asn_is_received_against_and_announced_as_goods_received():
    uow = FakeWarehouseUnitOfWork(warehouse())
    await expect_asns(uow, received(ASN, ASN))  # the second is refused by reference: a receipt exists
    receipt = uow.warehouse.expected_receipts["ASN-1"]
    assert (receipt.po_id, receipt.expected, receipt.created_by) == ("PO-1", {"MILK": 5}, "buyer:bob")
    await take_scans(uow, received(scan("s1", "receive", 3, reference="ASN-1"),
                                   scan("s2", "receive", 3, reference="ASN-1"),  # one over the ASN: waits
                                   scan("s3", "receive", 1, reference="ASN-1", sku="OTHER")), 0)
    (goods,) = uow.events("GoodsReceived")
    assert goods.aggregate_id == "PO-1" and {k: goods.payload[k] for k in (
        "receipt_id", "po_id", "asn_id", "node", "sku", "quantity", "unit_cost", "currency", "lot", "expiry",
        "received_by")} == {"receipt_id": "s1", "po_id": "PO-1", "asn_id": "ASN-1", "node": "BER1", "sku": "MILK",
                            "quantity": 3, "unit_cost": "1.20", "currency": "EUR", "lot": "L1",
                            "expiry": (TODAY + timedelta(days=30)).isoformat(), "received_by": "op-15"}
    assert {scan_id: row["reason"] for scan_id, row in uow.warehouse.exceptions.items()} == {
        "s2": "over_receipt", "s3": "unexpected_sku"}
    await approve_scan_exception(uow, "s2", "sup-kim", "the vendor sent more")
    over = uow.events("GoodsReceived")[-1].payload
    assert (over["receipt_id"], over["quantity"], over["received_by"], over["lot"]) == ("s2", 3, "sup-kim", "L1")
    await approve_scan_exception(uow, "s3", "sup-kim", "kept")  # not on the ASN: booked, not received against it
    assert len(uow.events("GoodsReceived")) == 2


async def test_a_parcel_is_packed_once_and_shipped_under_its_label_charged_once():
    fake = warehouse()
    fake.balances[("MILK", Place("BER1", "PACK-1", StockStatus.picked))] = 3
    fake.orders["o1"] = {"revision": 1, "backordered": 0, "stage": "picking"}
    fake.pick_tasks = {"t1": PickTask("t1", "o1", "1", "BER1", "MILK", 2, picked=2),
                       "t2": PickTask("t2", "o1", "2", "BER1", "MILK", 1, picked=1)}
    uow = FakeWarehouseUnitOfWork(fake)
    await take_scans(uow, received(scan("p1", "pack", 2, location="PACK-1", reference="t1")), 0)
    assert not uow.events("ParcelPacked")
    await take_scans(uow, received(scan("p2", "pack", 1, location="PACK-1", reference="t2")), 0)
    (packed,) = uow.events("ParcelPacked")
    assert (packed.aggregate_id, packed.payload["parcel_id"], packed.payload["lines"]) == (
        "o1", "o1@BER1", [{"sku": "MILK", "quantity": 3}])

    label = LabelPurchased(parcel_id="o1@BER1", order_id="o1", node="BER1", carrier="dhl", service="ground",
                           tracking_number="TRK-1", cost=Decimal("6.90"), currency="EUR", ship_date=TODAY,
                           estimated_delivery=TODAY + timedelta(days=2), meets_promise=True, purchased_at=NOW)
    await follow_labels(uow, received(label, label.model_copy(update={"parcel_id": "o9@BER1"})))
    assert uow.warehouse.parcels["o1@BER1"]["tracking_number"] == "TRK-1" and "o9@BER1" not in uow.warehouse.parcels
    await take_scans(uow, received(scan("x1", "ship", 2, location="SHIP-1", reference="t1"),
                                   scan("x2", "ship", 1, location="SHIP-1", reference="t2")), 0)
    shipped = [e.payload for e in uow.events("ShipmentDispatched")]
    assert [(s["tracking_number"], s["carrier"], s["shipping_cost"], s["currency"]) for s in shipped] == [
        ("TRK-1", "dhl", "6.90", "EUR"), ("TRK-1", "dhl", None, None)]
    assert uow.warehouse.parcels["o1@BER1"]["cost_charged"] is True


async def test_a_transfer_received_at_its_destination_is_announced_with_what_is_still_due():
    fake = warehouse()
    fake.balances[("MILK", Place("BER1", "A-01", StockStatus.sellable))] = 5
    uow = FakeWarehouseUnitOfWork(fake)
    due = TODAY + timedelta(days=5)
    await dispatch_transfer(uow, "TR-1", "BER1", "HAM1", [("MILK", "A-01", 4)], "sup-jane", expected_date=due,
                            transfer_days=2)
    await take_scans(uow, received(scan("r1", "receive", 3, warehouse_id="HAM1", reference="TR-1")), 0)
    await take_scans(uow, received(scan("r2", "receive", 1, warehouse_id="HAM1", reference="TR-1")), 0)
    changes = [e.payload for e in uow.events("TransferChanged")]
    assert [(c["status"], c["lines"][0]["received"], c["expected_date"]) for c in changes] == [
        ("dispatched", 0, due.isoformat()), ("dispatched", 3, due.isoformat()), ("received", 4, due.isoformat())]
    assert {(c["from_node"], c["to_node"], c["reference"]) for c in changes} == {("BER1", "HAM1", "TR-1")}


async def test_a_pick_task_of_an_expiry_controlled_sku_suggests_the_lot_expiring_first():
    from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated

    fake = warehouse()
    for lot, days, where, units in (("L-late", 60, "A-01", 9), ("L-soon", 10, "A-02", 2), ("L-gone", -1, "A-02", 5)):
        fake.balances[("MILK", Place("BER1", where, StockStatus.sellable, lot, None,
                                     TODAY + timedelta(days=days)))] = units
    uow = FakeWarehouseUnitOfWork(fake)
    await follow_skus(uow, received(sku_changed("MILK", 1, expiry_controlled=True)))
    allocation = OrderAllocated(order_id="o1", channel="web-eu", status="allocated", revision=1, reason="placed",
                                lines=[AllocatedLine(line_id="1", sku="MILK", node="BER1", quantity=3)])
    await follow_allocations(uow, received(allocation), WaveRules(size=1, cutoffs=(), lead=timedelta(0)))
    (task,) = uow.warehouse.pick_tasks.values()
    assert (task.suggested_bin, task.suggested_lot, task.suggested_expiry) == (
        "A-02", "L-soon", TODAY + timedelta(days=10))

