"""Returns end to end, with the five services and the simulated payment provider as processes: an order is
shipped and delivered; a unit comes back damaged, is quarantined (not sellable) and its refund, less a restocking
fee, waits for a supervisor; another comes back like new, is restocked and becomes available to allocation.
Finance pays both refunds once, which closes the returns, and its journal and reports show it all to the cent.

Each step by who takes it in real life, with tokens of the real provider: the web-eu connector places the order
and opens the returns, WH1's scanner scans, DHL's client confirms delivery, the inspector grades the damaged
unit at the bench, a refund approver (neither the inspector nor who opened the return) decides its refund, a
finance clerk keeps the costs and reads the books; the admin sets the rules."""

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from ecomops_common.contracts import RETURNS_EVENTS
from ecomops_common.testing.plugin import consume_until, eventually
from ecomops_common.testing.samples import channel_order

from .conftest import (
    open_return,
    order_in_status,
    receive_and_put_away,
    rma_in,
    ship_from_wh1,
    subject_of,
    wh1_scan,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def test_shipped_order_returned_damaged_and_like_new(stack, identities, kafka_bootstrap, topic_prefix):
    scanner, inspector, approver = (await subject_of(identities.scanner), await subject_of(identities.inspector),
                                    await subject_of(identities.approver))
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 4})
    refund_policy = {"timing": "after_inspection", "restocking_fee_by_grade": {"C": "0.20"}}
    assert (await stack.returns.put("/v1/rules/refund-policies/web-eu", json=refund_policy,
                                    auth=identities.admin)).status_code == 200

    async def atp(expected: int) -> bool:
        items = (await stack.allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"]
        return items[0]["atp"] == expected

    await eventually(lambda: atp(4))
    unit_cost = {"amount": "8.00", "currency": "EUR"}
    assert (await stack.finance.put("/v1/costs/SKU-RED-M", json=unit_cost, auth=identities.finance)).status_code == 200
    order = (await stack.order.post("/v1/orders", json=channel_order(external_order_id="ret-1"),
                                    auth=identities.connector)).json()
    await order_in_status(stack.order, order["id"], "released_to_warehouse")
    await ship_from_wh1(stack, identities, order["id"], tracking_number="1Z-9", carrier="dhl", shipping_cost="5.40",
                        currency="EUR")

    async def authorized(request_id: str, reason: str) -> dict:
        return await open_return(stack, identities, {
            "channel": "web-eu", "request_id": request_id, "external_order_id": "ret-1", "reason": reason,
            "lines": [{"sku": "SKU-RED-M", "quantity": 1}]})

    # A unit the customer "changed their mind" about comes back damaged: received at the dock, graded C by the
    # inspector at the bench.
    damaged = await authorized("portal-1", "changed_mind")
    assert damaged["node"] == "WH1"
    received = wh1_scan("ret-1", "return_receive", "RET", 1, damaged["id"], condition="damaged")
    assert (await stack.warehouse.post("/v1/scans", json=received, auth=identities.scanner)).status_code == 200
    await rma_in(stack.returns, damaged["id"], lambda r: r["lines"][0]["received"] == 1)
    graded = await stack.returns.post(f"/v1/returns/{damaged['id']}/inspections", auth=identities.inspector,
                                      json={"sku": "SKU-RED-M", "quantity": 1, "grade": "C"})
    assert graded.status_code == 200, graded.text
    damaged = await rma_in(stack.returns, damaged["id"], lambda r: r["settlements"] and all(
        line["dispositioned"] == 1 for line in r["lines"]))
    [settlement] = damaged["settlements"]
    assert (settlement["status"], settlement["amount"], settlement["risk_signals"]) == (
        "pending_approval", "15.99", ["grade_worse_than_reason"])  # 19.99 less 20 % for grade C
    assert [(i["grade"], i["disposition"], i["inspector"]) for i in damaged["inspections"]] == [
        ("C", "quarantine", inspector)]
    stock = (await stack.warehouse.get("/v1/stock", params={"sku": "SKU-RED-M", "node": "WH1"})).json()
    assert {(row["location"], row["status"]): row["units"] for row in stock}[("Q", "quarantined")] == 1
    assert await atp(1)  # quarantined units are not sellable

    approve = f"/v1/returns/{damaged['id']}/settlements/{settlement['id']}/approve"
    assert (await stack.returns.post(approve, json={}, auth=identities.inspector)).status_code == 403  # no approver
    decided = await stack.returns.post(approve, json={}, auth=identities.approver)
    assert decided.status_code == 200, decided.text

    # A unit that did not fit comes back like new, graded by the handheld's inspect scan at the returns desk
    # (recorded as the scanner's): restocked, put away, sellable again; refunded by policy.
    like_new = await authorized("portal-2", "size_fit")
    for step in (wh1_scan("ret-2", "return_receive", "RET", 1, like_new["id"], condition="like_new"),
                 wh1_scan("ins-2", "inspect", "RET", 1, like_new["id"], condition="like_new")):
        assert (await stack.warehouse.post("/v1/scans", json=step, auth=identities.scanner)).status_code == 200
    like_new = await rma_in(stack.returns, like_new["id"], lambda r: r["lines"][0]["dispositioned"] == 1)
    [refund] = like_new["settlements"]
    # Approved by policy at once; finance may have paid it already ("issued").
    assert (refund["status"] in ("approved", "issued"), refund["amount"]) == (True, "19.99")
    assert [i["inspector"] for i in like_new["inspections"]] == [scanner]
    putaway = wh1_scan("put-2", "putaway", "RET", 1, None, to_location="BIN-1")
    assert (await stack.warehouse.post("/v1/scans", json=putaway, auth=identities.scanner)).status_code == 200
    await eventually(lambda: atp(2))

    refunds = await consume_until(kafka_bootstrap, topic_prefix + RETURNS_EVENTS, lambda rs: sum(
        dict(r.headers)["event_type"] == b"RefundApproved" for r in rs) >= 2)
    approved = [json.loads(r.value)["payload"] for r in refunds if dict(r.headers)["event_type"] == b"RefundApproved"]
    assert sorted((r["rma_id"], r["amount"], r["approved_by"]) for r in approved) == sorted([
        (damaged["id"], "15.99", approver), (like_new["id"], "19.99", "policy")])
    for rma in (damaged, like_new):
        closed = await rma_in(stack.returns, rma["id"], lambda r: r["status"] == "closed")
        assert [s["stage"] for s in closed["timeline"]].count("refunded") == 1

    async def order_shows_returns() -> bool:
        view = (await stack.order.get(f"/v1/orders/{order['id']}")).json()
        return sorted(r["status"] for r in view["returns"]) == ["closed", "closed"]

    await eventually(order_shows_returns)
    view = (await stack.order.get(f"/v1/orders/{order['id']}")).json()
    assert view["status"] == "delivered"
    assert (await stack.warehouse.get("/v1/reconciliation")).json()["ok"] is True
    assert (await stack.allocation.get("/v1/reconciliation")).json()["ok"] is True

    # Finance: one entry per fact, to the cent. 3 × 19.99 shipped with a 4.99 fee, at 8.00 cost, 5.40 freight;
    # refunds of 15.99 (20 % fee kept) and 19.99 paid once each; both units back in inventory at cost.
    async def all_posted() -> bool:
        return len((await stack.finance.get("/v1/journal", auth=identities.finance)).json()) == 7

    await eventually(all_posted)
    journal = (await stack.finance.get("/v1/journal", auth=identities.finance)).json()
    assert sorted(entry["kind"] for entry in journal) == [
        "disposition", "disposition", "refund_approved", "refund_approved", "refund_issued", "refund_issued",
        "shipment"]
    totals = defaultdict(D)
    for entry in journal:
        for line in entry["lines"]:
            totals[line["account"]] += D(line["debit"]) - D(line["credit"])
    assert {account: str(amount) for account, amount in totals.items() if amount} == {
        "1100": "28.98", "4000": "-59.97", "4100": "-4.99", "4010": "39.98", "4200": "-4.00", "5000": "8.00",
        "1400": "-8.00", "5200": "5.40", "2100": "-5.40"}
    period = datetime.now(UTC).strftime("%Y-%m")
    trial_balance = (await stack.finance.get("/v1/reports/trial-balance", params={"period": period},
                                             auth=identities.finance)).json()
    assert trial_balance["totals"] == [{"currency": "EUR", "debits": "186.32", "credits": "186.32",
                                        "balanced": True}]
    margin = (await stack.finance.get("/v1/reports/return-margin", params={"by": "reason"},
                                      auth=identities.finance)).json()
    nothing_else = {"return_freight": "0.00", "fees_reversed": "0.00", "tax_refunded": "0.00"}
    assert margin == [
        {"reason": "changed_mind", "currency": "EUR", "refunds": "15.99", "fees_kept": "4.00", "write_offs": "0.00",
         "recovered_value": "8.00", "freight": "1.80", **nothing_else, "margin_impact": "-9.79"},
        {"reason": "size_fit", "currency": "EUR", "refunds": "19.99", "fees_kept": "0.00", "write_offs": "0.00",
         "recovered_value": "8.00", "freight": "1.80", **nothing_else, "margin_impact": "-13.79"}]
    reconciliation = (await stack.finance.get("/v1/reports/refund-reconciliation", auth=identities.finance)).json()
    refunds = sorted(reconciliation["refunds"], key=lambda r: r["amount"])
    assert [(r["amount"], r["status"], r["matched_return"]) for r in refunds] == [
        ("15.99", "issued", True), ("19.99", "issued", True)]
    # Finance learns of inspections from the warehouse's ReturnInspected: the unit graded by the inspect scan was
    # inspected before its refund; a grading at the bench (the returns service) does not reach finance.
    assert refunds[1]["before_inspection"] is False
    assert reconciliation["totals"][0]["ledger_agrees"] is True
    payments = (await stack.payments.get("/v1/stats")).json()
    assert (payments["payments"], payments["duplicate_references"]) == (2, [])
