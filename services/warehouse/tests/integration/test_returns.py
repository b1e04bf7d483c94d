"""Return receipts against an RMA and the returns service's dispositions, on Kafka and PostgreSQL."""

import json
from datetime import UTC, datetime

import pytest

from ecomops_common.auth import WAREHOUSE_OPERATOR
from ecomops_common.contracts import RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided, ReturnLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
RETURNS_AREA = {"locations": [{"code": "RET-1", "kind": "returns"}, {"code": "Q-1", "kind": "quarantine"},
                              {"code": "A-01-03", "kind": "storage"}]}


def returned(scan_id: str, quantity: int, condition: str | None, reference: str = "RMA-1") -> dict:
    return {"scan_id": scan_id, "device_id": "dev9", "warehouse_id": "BER1", "scanned_at": "2026-11-22T12:00:00Z",
            "kind": "return_receive", "sku": "SKU-RED-M", "quantity": quantity, "location": "RET-1",
            "reference": reference, "condition": condition}


async def test_returned_units_wait_for_inspection_and_go_where_the_disposition_says(warehouse):
    settings = warehouse.settings
    assert (await warehouse.put("/v1/warehouses/BER1/locations", json=RETURNS_AREA)).status_code == 200
    authorized = new_event("ReturnAuthorized", 1, "returns", "return", "RMA-1", ReturnAuthorized(
        rma_id="RMA-1", order_id="o1", channel="web-eu", node="BER1", authorized_at=NOW,
        lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=4)]))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS), [authorized])

    async def rma_known() -> bool:
        return (await warehouse.get("/v1/receipts/RMA-1")).status_code == 200

    await eventually(rma_known)
    assert (await warehouse.post("/v1/scans", json=returned("r0", 1, None))).json()["detail"][0]["type"] == \
        "missing_condition"
    assert (await warehouse.post("/v1/scans", json=returned("r9", 1, "new", "RMA-9"))).json()["detail"][0][
        "type"] == "unknown_rma"
    assert (await warehouse.post("/v1/scans", json=returned("r1", 3, "like_new"))).status_code == 200
    serialised = {**returned("r2", 1, "damaged"), "serial": "SN-7"}
    assert (await warehouse.post("/v1/scans", json=serialised)).status_code == 200
    assert (await warehouse.post("/v1/scans", json=returned("r3", 1, "new"))).json()["detail"][0]["type"] == \
        "over_receipt"
    receipt = (await warehouse.get("/v1/receipts/RMA-1")).json()
    assert receipt["conditions"] == {"SKU-RED-M": {"like_new": 3, "damaged": 1}}
    inspect = {**serialised, "scan_id": "i1", "kind": "inspect", "condition": "missing_parts", "operator_id": "op-9"}
    inspector = test_issuer().bearer("op-3", WAREHOUSE_OPERATOR)  # the inspector recorded: the caller
    assert (await warehouse.post("/v1/scans", json=inspect, headers=inspector)).status_code == 200
    too_many = await warehouse.post("/v1/scans", json={**inspect, "scan_id": "i2", "quantity": 5})
    assert too_many.json()["detail"][0]["type"] == "quantity_above_stock"

    decisions = [new_event("ReturnDispositionDecided", 1, "returns", "return", "RMA-1", ReturnDispositionDecided(
        rma_id="RMA-1", sku="SKU-RED-M", quantity=units, disposition=disposition, decided_at=NOW))
        for units, disposition in ((2, "restock"), (1, "quarantine"), (1, "scrap"))]
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS), decisions)

    def units(rows):
        return {(r["location"], r["status"]): r["units"] for r in rows}

    async def all_decided() -> bool:
        stock = units((await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json())
        return ("RET-1", "return_pending_inspection") not in stock

    await eventually(all_decided)
    assert units((await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M"})).json()) == {
        ("RET-1", "received_pending_putaway"): 2, ("Q-1", "quarantined"): 1}
    # Restocked units are put away from the returns area and become sellable.
    putaway = {**returned("r4", 2, None), "kind": "putaway", "to_location": "A-01-03", "reference": None}
    assert (await warehouse.post("/v1/scans", json=putaway)).status_code == 200

    def returns_events(records) -> list:  # the refused scans' exceptions and the counts are for the control service
        return [(event_type, json.loads(r.value)["payload"]) for r in records if (
            event_type := dict(r.headers)["event_type"].decode()).startswith("Return")]

    events = returns_events(await consume_until(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
                                                lambda rs: len(returns_events(rs)) >= 6))
    assert [(event_type, p["quantity"], p.get("condition", p.get("disposition"))) for event_type, p in events] == [
        ("ReturnReceived", 3, "like_new"), ("ReturnReceived", 1, "damaged"), ("ReturnInspected", 1, "missing_parts"),
        ("ReturnDispositionApplied", 2, "restock"), ("ReturnDispositionApplied", 1, "quarantine"),
        ("ReturnDispositionApplied", 1, "scrap")]
    inspected = events[2][1]
    assert (inspected["serial"], inspected["inspector"]) == ("SN-7", "op-3")
    assert {p["node"] for _, p in events} == {"BER1"}
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True
