"""Scans over HTTP and Kafka on PostgreSQL: inbound flow, duplicates, the exception queue, dead letters."""

import json

import pytest

from ecomops_common.auth import SUPERVISOR, WAREHOUSE_OPERATOR
from ecomops_common.contracts import ALLOCATION_EVENTS, INVENTORY_STOCK, WAREHOUSE_EVENTS, WAREHOUSE_SCANS
from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce, produce_events, run_reconciliation
from warehouse_service.service_layer.scanning import SCANS

pytestmark = pytest.mark.integration
OPERATOR = test_issuer().bearer("op-15", WAREHOUSE_OPERATOR)
JANE, KIM = (test_issuer().bearer(f"supervisor:{name}", SUPERVISOR) for name in ("jane", "kim"))


def scan(scan_id: str, kind: str, quantity: int, location: str = "DOCK-IN", **changes) -> dict:
    return {"scan_id": scan_id, "device_id": "dev7", "operator_id": "op-15", "warehouse_id": "BER1",
            "scanned_at": "2026-11-22T10:00:00Z", "kind": kind, "sku": "SKU-RED-M", "quantity": quantity,
            "location": location, **changes}


async def test_received_stock_is_sellable_after_putaway_and_published(warehouse, database_url):
    receipt = await warehouse.post("/v1/receipts", json={"reference": "PO-1", "node": "BER1",
                                                         "lines": [{"sku": "SKU-RED-M", "quantity": 10}]})
    assert receipt.status_code == 201
    assert (await warehouse.post("/v1/receipts", json={"reference": "PO-1", "node": "BER1", "lines": [
        {"sku": "X", "quantity": 1}]})).status_code == 409

    received = await warehouse.post("/v1/scans", json=scan("s1", "receive", 8, reference="PO-1"))
    assert received.json() == {"scan_id": "s1", "outcome": "applied"}
    assert (await warehouse.post("/v1/scans", json=scan("s1", "receive", 8, reference="PO-1"))).json()[
        "outcome"] == "duplicate"
    assert (await warehouse.post("/v1/scans", json=scan("s2", "putaway", 5, to_location="A-01-03"))).status_code == 200

    stock = (await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json()
    assert {(s["location"], s["status"], s["units"]) for s in stock} == {
        ("DOCK-IN", "received_pending_putaway", 3), ("A-01-03", "sellable", 5)}
    receipt = (await warehouse.get("/v1/receipts/PO-1")).json()
    assert receipt["discrepancies"] == {"SKU-RED-M": {"short": 2, "damaged": 0}}
    history = (await warehouse.get("/v1/movements", params={"sku": "SKU-RED-M"})).json()
    assert [(m["reason"], m["quantity"], m["scan_id"]) for m in history] == [("putaway", 5, "s2"), ("receipt", 8, "s1")]

    levels = await consume_until(warehouse.settings.kafka_bootstrap_servers,
                                 warehouse.settings.topic(INVENTORY_STOCK), lambda rs: len(rs) >= 2)
    received, put_away = (json.loads(r.value)["payload"] for r in levels)
    assert (received["sellable_on_hand"], received["reason"], received["on_hand_by_status"]) == (
        0, "receipt", {"received_pending_putaway": 8})
    assert (put_away["sku"], put_away["node"], put_away["sellable_on_hand"], put_away["reason"]) == (
        "SKU-RED-M", "BER1", 5, "putaway")
    assert put_away["on_hand_by_status"] == {"received_pending_putaway": 3, "sellable": 5}
    assert (received["version"], put_away["version"]) == (1, 2)  # in the order they committed
    assert levels[0].key == b"SKU-RED-M@BER1"
    assert (await warehouse.get("/v1/reconciliation")).json() == {"ok": True, "drift": []}
    assert await run_reconciliation("warehouse_service.entrypoints.cli:reconcile_main",
                                    {"WAREHOUSE_DATABASE_URL": database_url}) == {"ok": True, "drift": []}


async def test_scans_that_cannot_be_applied_wait_in_the_exception_queue(warehouse):
    refused, applied = SCANS.labels(kind="putaway", outcome="refused"), SCANS.labels(kind="receive", outcome="applied")
    counted_before = refused._value.get(), applied._value.get()
    over = await warehouse.post("/v1/scans", json=scan("s9", "putaway", 4, to_location="A-01-03"))
    assert over.status_code == 422
    assert over.json()["detail"] == [{"loc": ["body", "quantity"], "type": "quantity_above_stock",
                                      "msg": "SKU-RED-M at BER1/DOCK-IN (received_pending_putaway): asked for 4, "
                                             "only 0 there"}]
    # The device's next scans are still processed.
    assert (await warehouse.post("/v1/scans", json=scan("s10", "receive", 1, reference="PO-TEST"))).status_code == 200
    assert (refused._value.get(), applied._value.get()) == (counted_before[0] + 1, counted_before[1] + 1)
    queue = (await warehouse.get("/v1/scan-exceptions")).json()
    assert [(e["scan_id"], e["reason"], e["scan"]["quantity"]) for e in queue] == [("s9", "quantity_above_stock", 4)]
    resolved = await warehouse.post("/v1/scan-exceptions/s9/resolve", json={"resolution": "miscount, rescanned"})
    assert resolved.status_code == 200
    assert (await warehouse.get("/v1/scan-exceptions")).json() == []
    assert (await warehouse.post("/v1/scan-exceptions/s9/resolve", json={"resolution": "y"})
            ).status_code == 404


async def test_scans_from_kafka_are_applied_once_and_malformed_ones_dead_lettered(warehouse):
    settings = warehouse.settings
    topic = settings.topic(WAREHOUSE_SCANS)
    good = json.dumps(scan("k1", "receive", 2, reference="PO-TEST")).encode()
    await produce(settings.kafka_bootstrap_servers, topic, [
        (b"dev7", good), (b"dev7", good), (b"dev7", b"{broken"),
        (b"dev7", json.dumps(scan("k2", "teleport", 1)).encode()),
        (b"dev7", json.dumps(scan("k3", "receive", 1, location="NOWHERE")).encode())])

    async def handled() -> bool:
        return len((await warehouse.get("/v1/scan-exceptions")).json()) == 1

    await eventually(handled)
    stock = (await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json()
    assert [(s["location"], s["units"]) for s in stock] == [("DOCK-IN", 2)]
    dead = await consume_until(settings.kafka_bootstrap_servers, topic + ".dlq", lambda rs: len(rs) >= 2)
    assert sorted(dict(r.headers)["dlq_reason"].decode() for r in dead) == ["schema_invalid", "unparseable"]


@pytest.mark.parametrize("warehouse_settings", [{"count_auto_adjust_units": 2}])
async def test_count_variances_adjust_at_once_or_after_another_supervisor_approves(warehouse):
    for body in (scan("c-r", "receive", 10, reference="PO-TEST"), scan("c-p", "putaway", 10, to_location="A-01-03")):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200
    # A supervisor counts. 1 unit missing: within the threshold (2), adjusted at once.
    assert (await warehouse.post("/v1/scans", json=scan("c1", "count", 9, location="A-01-03"), headers=KIM)
            ).status_code == 200
    # 6 more missing: waits for approval, the books keep 9.
    assert (await warehouse.post("/v1/scans", json=scan("c2", "count", 3, location="A-01-03"), headers=KIM)
            ).status_code == 200
    pending, = (await warehouse.get("/v1/count-variances")).json()
    assert (pending["scan_id"], pending["expected"], pending["counted"]) == ("c2", 9, 3)
    sellable = {"sku": "SKU-RED-M", "status": "sellable"}
    assert (await warehouse.get("/v1/stock", params=sellable)).json()[0]["units"] == 9

    own = await warehouse.post("/v1/count-variances/c2/approve", headers=KIM)
    assert own.status_code == 403 and own.json() == {
        "reason": "segregation_of_duties", "detail": "supervisor:kim counted c2: another supervisor decides"}
    approved = await warehouse.post("/v1/count-variances/c2/approve", headers=JANE)
    assert approved.status_code == 200
    assert (await warehouse.get("/v1/stock", params=sellable)).json()[0]["units"] == 3
    assert (await warehouse.post("/v1/count-variances/c2/reject", headers=JANE)).status_code == 404
    history = (await warehouse.get("/v1/movements", params={"sku": "SKU-RED-M"})).json()
    assert [(m["reason"], m["quantity"], m["actor"]) for m in history[:2]] == [
        ("count_adjustment", 6, "supervisor:jane"), ("count_adjustment", 1, "supervisor:kim")]

    levels = await consume_until(warehouse.settings.kafka_bootstrap_servers, warehouse.settings.topic(INVENTORY_STOCK),
                                 lambda rs: any(json.loads(r.value)["payload"]["sellable_on_hand"] == 3 for r in rs))
    assert [json.loads(r.value)["payload"]["sellable_on_hand"] for r in levels] == [0, 10, 9, 3]
    assert json.loads(levels[-1].value)["payload"]["reason"] == "count"
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True


@pytest.mark.parametrize("warehouse_settings", [{"count_auto_adjust_units": 2}])
async def test_count_adjustments_that_change_the_books_are_published_as_stock_adjusted(warehouse):
    for body in (scan("sa-r", "receive", 10, reference="PO-TEST"), scan("sa-p", "putaway", 10, to_location="A-01-03")):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200
    task = (await warehouse.post("/v1/count-tasks", json={"node": "BER1", "location": "A-01-03"}, headers=JANE)
            ).json()
    at_bin = {"location": "A-01-03"}
    counts = [scan("sa-0", "count", 10, reference=task["id"], **at_bin),  # as the books say: nothing to adjust
              scan("sa-1", "count", 12, reference=task["id"], **at_bin),  # 2 found: adjusted at once
              scan("sa-2", "count", 11, **at_bin),  # 1 lost: adjusted at once, no count task
              scan("sa-3", "count", 4, **at_bin),  # 7 lost: waits for a supervisor
              scan("sa-4", "count", 0, **at_bin)]  # 4 more lost after sa-3 is approved: rejected below
    for body in counts[:4]:
        assert (await warehouse.post("/v1/scans", json=body, headers=OPERATOR)).status_code == 200, body
    assert (await warehouse.post("/v1/count-variances/sa-3/approve", headers=JANE)).status_code == 200
    assert (await warehouse.post("/v1/scans", json=counts[4], headers=OPERATOR)).status_code == 200
    assert (await warehouse.post("/v1/count-variances/sa-4/reject", headers=JANE)).status_code == 200
    # 1 found against the books' 4: adjusted at once, published after everything above.
    assert (await warehouse.post("/v1/scans", json=scan("sa-5", "count", 5, **at_bin), headers=OPERATOR)
            ).status_code == 200

    def adjustments(records) -> list:
        return [r for r in records if dict(r.headers)["event_type"] == b"StockAdjusted"]

    settings = warehouse.settings
    records = adjustments(await consume_until(
        settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
        lambda rs: {"sa-5", "variance:sa-3"} <= {json.loads(r.value)["payload"]["adjustment_id"]
                                                 for r in adjustments(rs)}))
    assert {r.key for r in records} == {b"SKU-RED-M@BER1"}
    assert {json.loads(r.value)["aggregate_type"] for r in records} == {"stock_position"}
    payloads = [json.loads(r.value)["payload"] for r in records]
    assert [(p["adjustment_id"], p["quantity"], p["reference"], p["actor"]) for p in payloads] == [
        ("sa-1", 2, task["id"], "op-15"), ("sa-2", -1, None, "op-15"),
        ("variance:sa-3", -7, None, "supervisor:jane"), ("sa-5", 1, None, "op-15")]
    assert {(p["sku"], p["node"], p["location"], p["reason"]) for p in payloads} == {
        ("SKU-RED-M", "BER1", "A-01-03", "count")}
    assert payloads[0]["adjusted_at"] == "2026-11-22T10:00:00Z"  # when counted
    sellable = {"sku": "SKU-RED-M", "status": "sellable"}
    assert (await warehouse.get("/v1/stock", params=sellable)).json()[0]["units"] == 10 + 2 - 1 - 7 + 1

    def of_type(records, event_type: bytes) -> list[dict]:
        return [json.loads(r.value)["payload"] for r in records if dict(r.headers)["event_type"] == event_type]

    # For the control service: every count against the books, and each variance when raised and when decided.
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), lambda rs: (
        len(of_type(rs, b"CountRecorded")) >= 6 and len(of_type(rs, b"WarehouseExceptionChanged")) >= 4))
    assert [(p["count_id"], p["expected"], p["counted"], p["task_id"]) for p in of_type(records, b"CountRecorded")] == [
        ("sa-0", 10, 10, task["id"]), ("sa-1", 10, 12, task["id"]), ("sa-2", 12, 11, None), ("sa-3", 11, 4, None),
        ("sa-4", 4, 0, None), ("sa-5", 4, 5, None)]
    assert sorted((p["exception_id"], p["status"], p["quantity"], p["actor"])  # keyed apart: in order per key only
                  for p in of_type(records, b"WarehouseExceptionChanged")) == [
        ("sa-3", "approved", -7, "supervisor:jane"), ("sa-3", "open", -7, "op-15"),
        ("sa-4", "open", -4, "op-15"), ("sa-4", "rejected", -4, "supervisor:jane")]


async def test_transferred_units_are_in_transit_until_received_at_the_destination(warehouse):
    ham = {"locations": [{"code": "DOCK-IN", "kind": "receiving"}, {"code": "B-01", "kind": "storage"}]}
    assert (await warehouse.put("/v1/warehouses/HAM1/locations", json=ham)).status_code == 200
    for body in (scan("t-r", "receive", 5, reference="PO-TEST"), scan("t-p", "putaway", 5, to_location="A-01-03")):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200
    transfer = {"reference": "TR-1", "from_node": "BER1", "to_node": "HAM1",
                "lines": [{"sku": "SKU-RED-M", "from_location": "A-01-03", "quantity": 3}]}
    too_many = {**transfer, "reference": "TR-2", "lines": [{**transfer["lines"][0], "quantity": 9}]}
    assert (await warehouse.post("/v1/transfers", json=too_many)).status_code == 409
    dispatched = await warehouse.post("/v1/transfers", json=transfer, headers=JANE)
    assert dispatched.status_code == 201
    assert (dispatched.json()["transfer_from"], dispatched.json()["created_by"]) == ("BER1", "supervisor:jane")

    def units(rows):
        return {(r["node"], r["location"], r["status"]): r["units"] for r in rows}

    stock = units((await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json())
    assert stock == {("BER1", "A-01-03", "sellable"): 2, ("HAM1", "in-transit", "in_transit"): 3}

    at_ham = {"warehouse_id": "HAM1", "reference": "TR-1"}
    refused = await warehouse.post("/v1/scans", json=scan("t-x", "receive", 4, **at_ham))
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "quantity_above_stock"
    assert (await warehouse.post("/v1/scans", json=scan("t-in", "receive", 3, **at_ham))).status_code == 200
    stock = units((await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json())
    assert stock == {("BER1", "A-01-03", "sellable"): 2, ("HAM1", "DOCK-IN", "received_pending_putaway"): 3}
    assert (await warehouse.get("/v1/receipts/TR-1")).json()["discrepancies"] == {}

    levels = await consume_until(warehouse.settings.kafka_bootstrap_servers, warehouse.settings.topic(INVENTORY_STOCK),
                                 lambda rs: len(rs) >= 5)
    at_berlin = [json.loads(r.value)["payload"] for r in levels if r.key == b"SKU-RED-M@BER1"]
    assert [(p["sellable_on_hand"], p["reason"]) for p in at_berlin] == [(0, "receipt"), (5, "putaway"),
                                                                           (2, "transfer")]
    at_hamburg = [json.loads(r.value)["payload"]["on_hand_by_status"] for r in levels if r.key == b"SKU-RED-M@HAM1"]
    assert at_hamburg == [{"in_transit": 3}, {"received_pending_putaway": 3}]
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True


async def test_count_tasks_are_finished_by_their_counts_or_closed(warehouse):
    for body in (scan("ct-r", "receive", 4, reference="PO-TEST"), scan("ct-p", "putaway", 4, to_location="A-01-03")):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200
    one = (await warehouse.post("/v1/count-tasks", json={"node": "BER1", "location": "A-01-03", "sku": "SKU-RED-M"})
           ).json()
    bin_count = (await warehouse.post("/v1/count-tasks", json={"node": "BER1", "location": "A-01-04"})).json()
    nothing = await warehouse.post("/v1/count-tasks", json={"node": "BER1"})
    assert nothing.status_code == 422 and nothing.json()["detail"][0]["loc"] == ["body", "location"]

    wrong = await warehouse.post("/v1/scans", json=scan("ct-1", "count", 4, location="A-01-04", reference=one["id"]))
    assert wrong.json()["detail"][0]["type"] == "wrong_item"
    assert (await warehouse.post("/v1/scans", json=scan("ct-2", "count", 4, location="A-01-03",
                                                        reference=one["id"]))).status_code == 200
    assert (await warehouse.post("/v1/scans", json=scan("ct-3", "count", 0, location="A-01-04",
                                                        reference=bin_count["id"]))).status_code == 200
    open_tasks = (await warehouse.get("/v1/count-tasks")).json()
    assert [(t["id"], t["counts"]) for t in open_tasks] == [(bin_count["id"], 1)]  # the SKU-at-bin task is done
    assert (await warehouse.post(f"/v1/count-tasks/{bin_count['id']}/close")).status_code == 200
    assert (await warehouse.post(f"/v1/count-tasks/{bin_count['id']}/close")).status_code == 409
    assert (await warehouse.get("/v1/count-tasks")).json() == []


async def test_lots_serial_numbers_and_expiry_dates_keep_units_apart(warehouse):
    batch = {"lot": "L7", "expiry": "2027-01-31"}
    scans = [scan("l-1", "receive", 3, reference="PO-TEST", **batch),
             scan("l-2", "putaway", 2, to_location="A-01-03", **batch),
             scan("s-1", "receive", 1, reference="PO-TEST", serial="SN-1"),
             scan("s-2", "putaway", 1, to_location="A-01-04", serial="SN-1")]
    for body in scans:
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200, body
    stock = {(r["location"], r["status"], r["lot"], r["serial"], r["expiry"]): r["units"]
             for r in (await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json()}
    assert stock == {("DOCK-IN", "received_pending_putaway", "L7", "", "2027-01-31"): 1,
                     ("A-01-03", "sellable", "L7", "", "2027-01-31"): 2, ("A-01-04", "sellable", "", "SN-1", ""): 1}
    # Units without the serial are not the serialised ones: moving them is refused.
    anonymous = await warehouse.post("/v1/scans", json=scan("s-3", "move", 1, location="A-01-04",
                                                            to_location="A-01-03"))
    assert anonymous.json()["detail"][0]["type"] == "quantity_above_stock"
    history = (await warehouse.get("/v1/movements", params={"sku": "SKU-RED-M"})).json()
    assert (history[0]["to_serial"], history[-1]["to_lot"], history[-1]["to_expiry"]) == ("SN-1", "L7", "2027-01-31")

    # The serialised unit is picked, packed and shipped by its serial, which the shipment names.
    settings = warehouse.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [new_event(
        "OrderAllocated", 1, "allocation", "order", "o1", OrderAllocated(
            order_id="o1", channel="web-eu", status="allocated", revision=1, reason="placed",
            lines=[AllocatedLine(line_id="1", sku="SKU-RED-M", node="BER1", quantity=1)]))])

    async def tasks() -> list[dict]:
        return (await warehouse.get("/v1/pick-tasks", params={"order_id": "o1"})).json()

    await eventually(tasks)
    task_id = (await tasks())[0]["id"]
    for body in (scan("s-4", "pick", 1, location="A-01-04"), scan("s-5", "pack", 1, location="PACK-1"),
                 scan("s-6", "ship", 1, location="SHIP-1", tracking_number="1Z-7", carrier="dhl")):
        response = await warehouse.post("/v1/scans", json={**body, "serial": "SN-1", "reference": task_id})
        assert response.status_code == 200, response.text
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), lambda rs: any(
        dict(r.headers)["event_type"] == b"ShipmentDispatched" for r in rs))
    dispatched, = (json.loads(r.value)["payload"] for r in records
                   if dict(r.headers)["event_type"] == b"ShipmentDispatched")
    assert [(line["quantity"], line["serials"]) for line in dispatched["lines"]] == [(1, ["SN-1"])]
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True
