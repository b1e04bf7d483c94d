"""Purchase orders on Kafka and PostgreSQL: created from the catalog's terms, approved with four eyes above the
threshold, sent, announced by advance ship notices, received by the warehouse's GoodsReceived (once each, even
redelivered), closed short; every change published whole with the next revision and who made it."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.auth import AUDITOR, BUYER, FINANCE_CLERK, SUPERVISOR
from ecomops_common.contracts import SUPPLY_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.warehouse import GoodsReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

from .conftest import as_, in_catalog, sku_changed

pytestmark = pytest.mark.integration
BOB, BEA = as_("bob.buyer", BUYER), as_("bea.buyer", BUYER)


def days_ahead(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def supply_events(settings, done) -> list[tuple[str, dict]]:
    def decoded(records) -> list[tuple[str, dict]]:
        return [(dict(r.headers)["event_type"].decode(), json.loads(r.value)["payload"]) for r in records]

    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(SUPPLY_EVENTS),
                                  lambda rs: done(decoded(rs)))
    return decoded(records)


def goods_received(receipt_id: str, po_id: str, asn_id: str, quantity: int):
    return new_event("GoodsReceived", 1, "warehouse", "purchase_order", po_id, GoodsReceived(
        receipt_id=receipt_id, po_id=po_id, asn_id=asn_id, node="BER1", sku="MUG", quantity=quantity,
        unit_cost="2.50", currency="EUR", received_by="op-7", received_at=datetime.now(UTC)))


async def test_a_purchase_order_from_draft_to_closed_with_notices_and_receipts(supply):
    settings = supply.settings
    await in_catalog(supply, sku_changed("MUG"), sku_changed("TEE", unit_cost="4.00"))

    by_clerk = await supply.post("/v1/purchase-orders", headers=as_("clerk", FINANCE_CLERK), json={})
    assert by_clerk.status_code == 403
    created = await supply.post("/v1/purchase-orders", headers=BOB, json={
        "vendor_id": "acme", "node": "BER1", "currency": "EUR", "expected_date": days_ahead(14),
        "lines": [{"sku": "MUG", "quantity": 500}, {"sku": "TEE", "quantity": 10, "unit_cost": "3.90"}]})
    assert created.status_code == 201, created.text
    po = created.json()
    po_id = po["po_id"]
    assert (po["status"], po["revision"], po["total"], po["created_by"]) == ("draft", 1, "1289.00", "bob.buyer")
    assert [(line["vendor_sku"], line["unit_cost"]) for line in po["lines"]] == [("AC-MUG", "2.50"),
                                                                                ("AC-TEE", "3.90")]

    own = await supply.post(f"/v1/purchase-orders/{po_id}/approve", headers=BOB)
    assert own.status_code == 403 and own.json()["reason"] == "four_eyes"
    assert "other than its creator bob.buyer" in own.json()["detail"]
    early = await supply.post(f"/v1/purchase-orders/{po_id}/asns", headers=BOB, json={
        "asn_id": "ASN-early", "expected_date": days_ahead(3), "lines": [{"po_line_id": "1", "quantity": 1}]})
    assert early.status_code == 409 and "draft" in early.json()["detail"]
    approved = await supply.post(f"/v1/purchase-orders/{po_id}/approve", headers=BEA, json={"note": "ok"})
    assert (approved.status_code, approved.json()["approved_by"]) == (200, "bea.buyer")
    sent = await supply.post(f"/v1/purchase-orders/{po_id}/send", headers=BOB)
    assert sent.json()["status"] == "sent"

    too_many = await supply.post(f"/v1/purchase-orders/{po_id}/asns", headers=BOB, json={
        "asn_id": "ASN-1", "expected_date": days_ahead(7), "lines": [{"po_line_id": "1", "quantity": 501}]})
    assert too_many.status_code == 422
    assert [d["loc"] for d in too_many.json()["detail"]] == [["body", "lines", "0", "quantity"]]
    asn = await supply.post(f"/v1/purchase-orders/{po_id}/asns", headers=BOB, json={
        "asn_id": "ASN-1", "expected_date": days_ahead(7),
        "lines": [{"po_line_id": "1", "quantity": 300, "lot": "L-1", "expiry": days_ahead(400)}]})
    assert asn.status_code == 201, asn.text
    assert [line["expected_date"] for line in asn.json()["lines"]] == [days_ahead(7), days_ahead(14)]
    taken = await supply.post(f"/v1/purchase-orders/{po_id}/asns", headers=BOB, json={
        "asn_id": "ASN-1", "expected_date": days_ahead(7), "lines": [{"po_line_id": "1", "quantity": 1}]})
    assert taken.status_code == 409

    receipt = goods_received("rcv-1", po_id, "ASN-1", 300)
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [receipt, receipt])

    async def partially_received() -> bool:
        return (await supply.get(f"/v1/purchase-orders/{po_id}")).json()["status"] == "partially_received"

    await eventually(partially_received)
    await supply.post(f"/v1/purchase-orders/{po_id}/asns", headers=BOB, json={
        "asn_id": "ASN-2", "expected_date": days_ahead(9), "lines": [{"po_line_id": "1", "quantity": 200},
                                                                    {"po_line_id": "2", "quantity": 10}]})
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
                         [goods_received("rcv-2", po_id, "ASN-2", 190)])

    async def received_490() -> bool:
        return (await supply.get(f"/v1/purchase-orders/{po_id}")).json()["lines"][0]["received"] == 490

    await eventually(received_490)  # the redelivered receipt counted once
    closed = await supply.post(f"/v1/purchase-orders/{po_id}/close", headers=as_("sam", SUPERVISOR),
                               json={"note": "vendor short"})
    view = closed.json()
    assert (view["status"], [(line["received"], line["discrepancy"]) for line in view["lines"]]) == \
        ("closed", [(490, -10), (0, -10)])
    assert [(step["reason"], step["actor"]) for step in view["timeline"]] == [
        ("created", "bob.buyer"), ("approved", "bea.buyer"), ("sent", "bob.buyer"), ("asn", "bob.buyer"),
        ("received", "op-7"), ("asn", "bob.buyer"), ("received", "op-7"), ("closed_short", "sam")]
    auditor = await supply.get("/v1/purchase-orders", params={"status": "closed"}, headers=as_("aud", AUDITOR))
    assert [order["po_id"] for order in auditor.json()] == [po_id]

    events = await supply_events(settings, lambda evs: sum(t == "PurchaseOrderChanged" for t, _ in evs) >= 8)
    changes = [payload for event_type, payload in events if event_type == "PurchaseOrderChanged"]
    assert [(c["revision"], c["status"], c["changed_by"]) for c in changes] == [
        (1, "draft", "bob.buyer"), (2, "approved", "bea.buyer"), (3, "sent", "bob.buyer"), (4, "sent", "bob.buyer"),
        (5, "partially_received", "op-7"), (6, "partially_received", "bob.buyer"), (7, "partially_received", "op-7"),
        (8, "closed", "sam")]
    notices = [payload for event_type, payload in events if event_type == "AdvanceShipNoticeIssued"]
    assert [(n["asn_id"], [(line["sku"], line["quantity"], line["unit_cost"]) for line in n["lines"]])
            for n in notices] == [("ASN-1", [("MUG", 300, "2.50")]), ("ASN-2", [("MUG", 200, "2.50"),
                                                                              ("TEE", 10, "3.90")])]
    assert notices[0]["lines"][0]["lot"] == "L-1" and notices[0]["issued_by"] == "bob.buyer"


async def test_cancelled_before_any_notice_and_up_to_the_threshold_the_creator_approves(supply):
    await in_catalog(supply, sku_changed("MUG"))
    small = (await supply.post("/v1/purchase-orders", headers=BOB, json={
        "vendor_id": "acme", "node": "BER1", "currency": "EUR", "expected_date": days_ahead(5),
        "lines": [{"sku": "MUG", "quantity": 400}]})).json()
    assert small["total"] == "1000.00"
    approved = await supply.post(f"/v1/purchase-orders/{small['po_id']}/approve", headers=BOB)
    assert (approved.status_code, approved.json()["approved_by"]) == (200, "bob.buyer")
    cancelled = await supply.post(f"/v1/purchase-orders/{small['po_id']}/cancel", headers=BOB,
                                  json={"note": "duplicate"})
    assert (cancelled.json()["status"], cancelled.json()["timeline"][-1]["note"]) == ("cancelled", "duplicate")
    again = await supply.post(f"/v1/purchase-orders/{small['po_id']}/send", headers=BOB)
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
