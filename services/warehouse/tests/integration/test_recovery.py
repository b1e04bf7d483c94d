"""Returned units leaving the recovery statuses over HTTP, scans and Kafka on PostgreSQL: QA decisions,
refurbishments into a graded variant, return to vendor by pick, pack and ship scans, liquidation and scrap, the
write-off threshold with its second supervisor, hazardous units' disposal records, and the events on
warehouse.events.v1."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ecomops_common.auth import INSPECTOR, SUPERVISOR
from ecomops_common.contracts import FINANCE_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided, ReturnLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
RETURNS_AREA = {"locations": [{"code": "RET-1", "kind": "returns"}, {"code": "Q-1", "kind": "quarantine"}]}
JANE, KIM = (test_issuer().bearer(f"supervisor:{name}", SUPERVISOR) for name in ("jane", "kim"))
LEE = test_issuer().bearer("inspector:lee", INSPECTOR)
DISPOSAL = {"method": "recycling", "facility": "EcoCycle GmbH", "certificate": "CD-77", "hazard_class": "UN3480"}


def scan(scan_id: str, kind: str, sku: str, quantity: int, location: str, **changes) -> dict:
    return {"scan_id": scan_id, "device_id": "dev9", "warehouse_id": "BER1", "scanned_at": "2026-11-22T12:00:00Z",
            "kind": kind, "sku": sku, "quantity": quantity, "location": location, **changes}


async def returned(warehouse, rma_id: str, sku: str, units: int, dispositions: list[tuple[int, str]],
                   **decided) -> None:
    """An RMA of `units`, received at RET-1 (the return label paid by the retailer), then decided."""
    settings = warehouse.settings
    assert (await warehouse.put("/v1/warehouses/BER1/locations", json=RETURNS_AREA)).status_code == 200
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS), [new_event(
        "ReturnAuthorized", 1, "returns", "return", rma_id, ReturnAuthorized(
            rma_id=rma_id, order_id="o1", channel="web-eu", node="BER1", authorized_at=NOW,
            lines=[ReturnLine(line_id="1", sku=sku, quantity=units)]))])

    async def rma_known() -> bool:
        return (await warehouse.get(f"/v1/receipts/{rma_id}")).status_code == 200

    await eventually(rma_known)
    received = scan(f"{rma_id}-in", "return_receive", sku, units, "RET-1", reference=rma_id, condition="damaged",
                    shipping_cost="6.90")
    refused = (await warehouse.post("/v1/scans", json=received)).json()
    assert refused["detail"][0]["loc"] == ["body", "currency"]
    received = {**received, "scan_id": f"{rma_id}-in2", "currency": "EUR"}
    assert (await warehouse.post("/v1/scans", json=received)).status_code == 200
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS), [new_event(
        "ReturnDispositionDecided", 1, "returns", "return", rma_id, ReturnDispositionDecided(
            rma_id=rma_id, sku=sku, quantity=quantity, disposition=disposition, decided_at=NOW, **decided))
        for quantity, disposition in dispositions])

    async def all_decided() -> bool:
        stock = await warehouse.get("/v1/stock", params={"sku": sku, "status": "return_pending_inspection"})
        return stock.json() == []

    await eventually(all_decided)


async def unit_cost(warehouse, sku: str, amount: str) -> None:
    settings = warehouse.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS), [new_event(
        "UnitCostChanged", 1, "finance", "sku", sku, UnitCostChanged(sku=sku, amount=Decimal(amount), currency="EUR",
                                                                     at=NOW))])

    async def known() -> bool:
        costs = (await warehouse.get("/v1/recovery/unit-costs", params={"sku": sku})).json()
        return [Decimal(row["amount"]) for row in costs] == [Decimal(amount)]

    await eventually(known)


def warehouse_events(records, *event_types: str) -> list[tuple[str, dict]]:
    return [(event_type, json.loads(r.value)["payload"]) for r in records
            if (event_type := dict(r.headers)["event_type"].decode()) in event_types]


async def test_quarantined_hazardous_units_leave_by_qa_decisions_with_a_second_supervisor_above_the_threshold(
        warehouse):
    settings = warehouse.settings
    await unit_cost(warehouse, "SKU-RED-M", "100.00")
    await returned(warehouse, "RMA-1", "SKU-RED-M", 6, [(6, "quarantine")], hazardous=True, category="batteries")
    assert [row["remaining"] for row in (await warehouse.get("/v1/recovery/qa-queue")).json()] == [6]

    def decision(quantity: int, choice: str, **fields) -> dict:
        return {"node": "BER1", "sku": "SKU-RED-M", "location": "Q-1", "quantity": quantity, "decision": choice,
                **fields}

    scrap = {"node": "BER1", "sku": "SKU-RED-M", "location": "Q-1", "status": "quarantined", "quantity": 1,
             "disposal": DISPOSAL}
    assert (await warehouse.post("/v1/recovery/scraps", json=scrap, headers=LEE)).status_code == 403  # QA only
    no_record = await warehouse.post("/v1/recovery/qa-decisions", json=decision(1, "scrap"), headers=LEE)
    assert (no_record.status_code, no_record.json()["detail"][0]["loc"]) == (422, ["body", "disposal"])
    short = await warehouse.post("/v1/recovery/qa-decisions", json=decision(9, "refurbish"), headers=LEE)
    assert short.status_code == 409 and "3 short" in short.json()["detail"]
    scrapped = await warehouse.post("/v1/recovery/qa-decisions", headers=LEE,
                                    json=decision(1, "scrap", disposal=DISPOSAL, note="leaking"))
    assert scrapped.status_code == 200 and scrapped.json()["actions"][0]["decided_by"] == "inspector:lee"
    released = await warehouse.post("/v1/recovery/qa-decisions", headers=LEE,
                                    json=decision(1, "sellable", to_location="A-01-03"))
    assert released.status_code == 200
    # 3 × 100.00 is above 250.00: a second supervisor decides.
    waiting = await warehouse.post("/v1/recovery/qa-decisions", headers=KIM, json=decision(3, "scrap",
                                                                                           disposal=DISPOSAL))
    assert (waiting.status_code, waiting.json()["status"]) == (202, "pending_approval")
    write_off_id = waiting.json()["write_off_id"]
    pending, = (await warehouse.get("/v1/recovery/write-offs", params={"status": "pending_approval"})).json()
    assert (pending["id"], pending["value"], pending["requested_by"]) == (write_off_id, "300.0000", "supervisor:kim")
    own = await warehouse.post(f"/v1/recovery/write-offs/{write_off_id}/approve", headers=KIM)
    assert (own.status_code, own.json()["reason"]) == (403, "segregation_of_duties")
    approved = await warehouse.post(f"/v1/recovery/write-offs/{write_off_id}/approve", headers=JANE)
    assert approved.status_code == 200
    again = await warehouse.post(f"/v1/recovery/write-offs/{write_off_id}/approve", headers=JANE)
    assert again.status_code == 404
    assert (await warehouse.post("/v1/recovery/qa-decisions", headers=LEE,
                                 json=decision(1, "refurbish"))).status_code == 200

    # The refurbished unit becomes the open-box variant, a SKU of its own.
    variant = {"base_sku": "SKU-RED-M", "grade": "B", "list_price": "14.90", "currency": "EUR",
               "channels": ["outlet"]}
    assert (await warehouse.put("/v1/graded-variants/SKU-RED-M-B", json=variant, headers=JANE)).status_code == 200
    unknown = await warehouse.post("/v1/recovery/refurbishments", headers=JANE, json={
        "node": "BER1", "sku": "SKU-RED-M", "location": "Q-1", "quantity": 1, "outcome": "sellable",
        "variant_sku": "NOPE", "to_location": "A-01-04"})
    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["body", "variant_sku"])
    refurbished = await warehouse.post("/v1/recovery/refurbishments", headers=JANE, json={
        "node": "BER1", "sku": "SKU-RED-M", "location": "Q-1", "quantity": 1, "outcome": "sellable",
        "variant_sku": "SKU-RED-M-B", "to_location": "A-01-04"})
    assert refurbished.status_code == 200
    stock = (await warehouse.get("/v1/stock", params={"node": "BER1"})).json()
    assert {(r["sku"], r["location"], r["status"]): r["units"] for r in stock if r["sku"].startswith("SKU-RED")} == {
        ("SKU-RED-M", "A-01-03", "sellable"): 1, ("SKU-RED-M-B", "A-01-04", "sellable"): 1}

    trail = (await warehouse.get("/v1/recovery/actions", params={"sku": "SKU-RED-M", "node": "BER1"})).json()
    assert [(a["action"], a["to_status"], a["requested_by"], a["decided_by"]) for a in trail] == [
        ("scrapped", None, "inspector:lee", "inspector:lee"), ("qa_released", "sellable", "inspector:lee",
                                                               "inspector:lee"),
        ("scrapped", None, "supervisor:kim", "supervisor:jane"),
        ("qa_released", "refurbish", "inspector:lee", "inspector:lee"),
        ("refurbished", "sellable", "supervisor:jane", "supervisor:jane")]

    kinds = ("RecoveryStockMoved", "GradedVariantDefined", "WarehouseExceptionChanged", "ReturnReceived")
    events = warehouse_events(await consume_until(
        settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
        lambda rs: len(warehouse_events(rs, "RecoveryStockMoved")) >= 5), *kinds)
    moved = [p for t, p in events if t == "RecoveryStockMoved"]
    assert [(p["action"], p["quantity"], p["decided_by"]) for p in moved] == [
        ("scrapped", 1, "inspector:lee"), ("qa_released", 1, "inspector:lee"), ("scrapped", 3, "supervisor:jane"),
        ("qa_released", 1, "inspector:lee"), ("refurbished", 1, "supervisor:jane")]
    assert moved[0]["disposal"]["certificate"] == "CD-77" and moved[4]["to_sku"] == "SKU-RED-M-B"
    assert len({p["action_id"] for p in moved}) == 5
    queue: dict[str, list] = {}  # in order per exception (its key)
    for t, p in events:
        if t == "WarehouseExceptionChanged" and p["kind"] in ("qa_decision", "write_off"):
            queue.setdefault(p["exception_id"], []).append((p["kind"], p["status"], p["actor"]))
    assert queue == {"RMA-1/SKU-RED-M": [("qa_decision", "open", "returns"),
                                         ("qa_decision", "resolved", "inspector:lee")],
                     write_off_id: [("write_off", "open", "supervisor:kim"), ("write_off", "approved",
                                                                              "supervisor:jane")]}
    defined, = [p for t, p in events if t == "GradedVariantDefined"]
    assert (defined["variant_sku"], defined["list_price"], defined["defined_by"]) == (
        "SKU-RED-M-B", "14.90", "supervisor:jane")
    arrived, = [p for t, p in events if t == "ReturnReceived"]
    assert (arrived["shipping_cost"], arrived["currency"]) == ("6.90", "EUR")
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True


async def test_vendor_returns_ship_against_an_authorization_and_liquidation_units_sell_in_lots(warehouse):
    settings = warehouse.settings
    await returned(warehouse, "RMA-2", "SKU-BLUE-L", 6, [(3, "vendor_return"), (3, "liquidate")])
    too_many = await warehouse.post("/v1/vendor-returns", headers=JANE, json={
        "rtv_id": "RTV-1", "vendor_id": "V-1", "node": "BER1", "lines": [{"sku": "SKU-BLUE-L", "quantity": 4}]})
    assert too_many.status_code == 409 and "1 short" in too_many.json()["detail"]
    authorized = await warehouse.post("/v1/vendor-returns", headers=JANE, json={
        "rtv_id": "RTV-1", "vendor_id": "V-1", "node": "BER1", "claim_id": "CLM-1",
        "lines": [{"sku": "SKU-BLUE-L", "quantity": 3}]})
    assert authorized.status_code == 201
    steps = [scan("v1", "pick", "SKU-BLUE-L", 3, "RET-1", reference="RTV-1"),
             scan("v2", "pack", "SKU-BLUE-L", 3, "PACK-1", reference="RTV-1"),
             scan("v3", "ship", "SKU-BLUE-L", 3, "SHIP-1", reference="RTV-1", tracking_number="RT-1")]
    for step in steps:
        assert (await warehouse.post("/v1/scans", json=step)).status_code == 200
    over = await warehouse.post("/v1/scans", json=scan("v4", "pick", "SKU-BLUE-L", 1, "RET-1", reference="RTV-1"))
    assert over.status_code == 422  # nothing left in vendor_return at RET-1
    rtv = (await warehouse.get("/v1/vendor-returns/RTV-1")).json()
    assert [(line["picked"], line["packed"], line["shipped"]) for line in rtv["lines"]] == [(3, 3, 3)]
    assert (await warehouse.get("/v1/vendor-returns/RTV-9")).status_code == 404

    lot = {"lot_id": "LOT-1", "node": "BER1", "buyer": "Outlet Ltd", "currency": "EUR",
           "lines": [{"sku": "SKU-BLUE-L", "location": "RET-1", "quantity": 3, "proceeds": "21.00"}]}
    waiting = await warehouse.post("/v1/recovery/liquidations", json=lot, headers=KIM)  # no unit cost known yet
    assert waiting.status_code == 202
    rejected = await warehouse.post(f"/v1/recovery/write-offs/{waiting.json()['write_off_id']}/reject",
                                    json={"reason": "price too low"}, headers=JANE)
    assert rejected.json()["status"] == "rejected"
    await unit_cost(warehouse, "SKU-BLUE-L", "4.00")
    sold = await warehouse.post("/v1/recovery/liquidations", json=lot, headers=KIM)  # 12.00: below the threshold
    assert sold.status_code == 200
    assert (await warehouse.post("/v1/recovery/liquidations", json=lot, headers=KIM)).status_code == 409
    assert (await warehouse.get("/v1/stock", params={"sku": "SKU-BLUE-L"})).json() == []

    events = warehouse_events(await consume_until(
        settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
        lambda rs: len(warehouse_events(rs, "RecoveryStockMoved")) >= 4), "RecoveryStockMoved")
    assert [(p["action"], p["from_status"], p["to_status"], p["reference"], p["vendor_id"], p["proceeds"])
            for _, p in events] == [
        ("rtv_picked", "vendor_return", "vendor_return", "RTV-1", "V-1", None),
        ("rtv_packed", "vendor_return", "vendor_return", "RTV-1", "V-1", None),
        ("rtv_shipped", "vendor_return", None, "RTV-1", "V-1", None),
        ("liquidated", "liquidation", None, "LOT-1", None, "21.00")]
    assert {p["action_id"] for _, p in events[:3]} == {"v1", "v2", "v3"}
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True
