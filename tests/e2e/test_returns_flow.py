"""Returns end to end, with the five services and the simulated payment provider as processes: an order is
shipped and delivered; a unit comes back damaged, is quarantined (not sellable) and its refund, less a restocking
fee, waits for a supervisor; another comes back like new, is restocked and becomes available to allocation.
Finance pays both refunds once, which closes the returns, and its journal and reports show it all to the cent."""

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from ecomops_common.contracts import RETURNS_EVENTS
from ecomops_common.testing.plugin import consume_until, eventually
from ecomops_common.testing.samples import channel_order

from .conftest import order_in_status, receive_and_put_away

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def scan(scan_id: str, kind: str, location: str, units: int, reference: str | None, **more) -> dict:
    return {"scan_id": scan_id, "device_id": "dev5", "operator_id": "op-3", "warehouse_id": "WH1", "kind": kind,
            "sku": "SKU-RED-M", "scanned_at": datetime.now(UTC).isoformat(), "quantity": units,
            "location": location, "reference": reference, **more}


async def test_shipped_order_returned_damaged_and_like_new(stack, kafka_bootstrap, topic_prefix):
    await receive_and_put_away(stack.warehouse, {"WH1": 4})
    refund_policy = {"timing": "after_inspection", "restocking_fee_by_grade": {"C": "0.20"}}
    assert (await stack.returns.put("/v1/rules/refund-policies/web-eu", json=refund_policy)).status_code == 200
    assert (await stack.returns.put("/v1/staff/sup:ana", json={"roles": ["refund_approver"]})).status_code == 200

    async def atp(expected: int) -> bool:
        items = (await stack.allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"]
        return items[0]["atp"] == expected

    await eventually(lambda: atp(4))
    unit_cost = {"amount": "8.00", "currency": "EUR"}
    assert (await stack.finance.put("/v1/costs/SKU-RED-M", json=unit_cost)).status_code == 200
    order = (await stack.order.post("/v1/orders", json=channel_order(external_order_id="ret-1"))).json()
    await order_in_status(stack.order, order["id"], "released_to_warehouse")
    [task] = (await stack.warehouse.get("/v1/pick-tasks", params={"order_id": order["id"]})).json()
    for step in (scan("out-1", "pick", "BIN-1", 3, task["id"]), scan("out-2", "pack", "PACK", 3, task["id"]),
                 scan("out-3", "ship", "SHIP", 3, task["id"], tracking_number="1Z-9", carrier="dhl",
                      shipping_cost="5.40", currency="EUR")):
        assert (await stack.warehouse.post("/v1/scans", json=step)).status_code == 200
    assert (await stack.warehouse.post(f"/v1/orders/{order['id']}/delivery")).status_code == 200
    await order_in_status(stack.order, order["id"], "delivered")

    async def authorized(request_id: str, reason: str) -> dict:
        body = {"channel": "web-eu", "request_id": request_id, "external_order_id": "ret-1", "reason": reason,
                "lines": [{"sku": "SKU-RED-M", "quantity": 1}]}
        answer = {}

        async def accepted() -> bool:  # the returns service hears of the delivery on its own
            nonlocal answer
            answer = await stack.returns.post("/v1/returns", json=body)
            return answer.status_code == 201

        await eventually(accepted)
        rma = answer.json()

        async def expected_at_the_dock() -> bool:
            return (await stack.warehouse.get(f"/v1/receipts/{rma['id']}")).status_code == 200

        await eventually(expected_at_the_dock)
        return rma

    async def rma_in(rma_id: str, check) -> dict:
        async def reached() -> bool:
            return check((await stack.returns.get(f"/v1/returns/{rma_id}")).json())

        await eventually(reached)
        return (await stack.returns.get(f"/v1/returns/{rma_id}")).json()

    # A unit the customer "changed their mind" about comes back damaged.
    damaged = await authorized("portal-1", "changed_mind")
    assert damaged["node"] == "WH1"
    for step in (scan("ret-1", "return_receive", "RET", 1, damaged["id"], condition="damaged"),
                 scan("ins-1", "inspect", "RET", 1, damaged["id"], condition="damaged")):
        assert (await stack.warehouse.post("/v1/scans", json=step)).status_code == 200
    damaged = await rma_in(damaged["id"], lambda r: r["settlements"] and all(
        line["dispositioned"] == 1 for line in r["lines"]))
    [settlement] = damaged["settlements"]
    assert (settlement["status"], settlement["amount"], settlement["risk_signals"]) == (
        "pending_approval", "15.99", ["grade_worse_than_reason"])  # 19.99 less 20 % for grade C
    assert [(i["grade"], i["disposition"], i["inspector"]) for i in damaged["inspections"]] == [
        ("C", "quarantine", "op-3")]
    stock = (await stack.warehouse.get("/v1/stock", params={"sku": "SKU-RED-M", "node": "WH1"})).json()
    assert {(row["location"], row["status"]): row["units"] for row in stock}[("Q", "quarantined")] == 1
    assert await atp(1)  # quarantined units are not sellable

    approve = f"/v1/returns/{damaged['id']}/settlements/{settlement['id']}/approve"
    assert (await stack.returns.post(approve, json={"approver": "op-3"})).status_code == 403  # the inspector
    assert (await stack.returns.post(approve, json={"approver": "sup:ana"})).status_code == 200

    # A unit that did not fit comes back like new: restocked, put away, sellable again; refunded by policy.
    like_new = await authorized("portal-2", "size_fit")
    for step in (scan("ret-2", "return_receive", "RET", 1, like_new["id"], condition="like_new"),
                 scan("ins-2", "inspect", "RET", 1, like_new["id"], condition="like_new")):
        assert (await stack.warehouse.post("/v1/scans", json=step)).status_code == 200
    like_new = await rma_in(like_new["id"], lambda r: r["lines"][0]["dispositioned"] == 1)
    assert (like_new["settlements"][0]["status"], like_new["settlements"][0]["amount"]) == ("approved", "19.99")
    putaway = scan("put-2", "putaway", "RET", 1, None, to_location="BIN-1")
    assert (await stack.warehouse.post("/v1/scans", json=putaway)).status_code == 200
    await eventually(lambda: atp(2))

    refunds = await consume_until(kafka_bootstrap, topic_prefix + RETURNS_EVENTS, lambda rs: sum(
        dict(r.headers)["event_type"] == b"RefundApproved" for r in rs) >= 2)
    approved = [json.loads(r.value)["payload"] for r in refunds if dict(r.headers)["event_type"] == b"RefundApproved"]
    assert sorted((r["rma_id"], r["amount"], r["approved_by"]) for r in approved) == sorted([
        (damaged["id"], "15.99", "sup:ana"), (like_new["id"], "19.99", "policy")])
    for rma in (damaged, like_new):
        closed = await rma_in(rma["id"], lambda r: r["status"] == "closed")
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
        return len((await stack.finance.get("/v1/journal")).json()) == 7

    await eventually(all_posted)
    journal = (await stack.finance.get("/v1/journal")).json()
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
    trial_balance = (await stack.finance.get("/v1/reports/trial-balance", params={"period": period})).json()
    assert trial_balance["totals"] == [{"currency": "EUR", "debits": "186.32", "credits": "186.32",
                                        "balanced": True}]
    margin = (await stack.finance.get("/v1/reports/return-margin", params={"by": "reason"})).json()
    assert margin == [
        {"reason": "changed_mind", "currency": "EUR", "refunds": "15.99", "fees_kept": "4.00", "write_offs": "0.00",
         "recovered_value": "8.00", "freight": "1.80", "margin_impact": "-9.79"},
        {"reason": "size_fit", "currency": "EUR", "refunds": "19.99", "fees_kept": "0.00", "write_offs": "0.00",
         "recovered_value": "8.00", "freight": "1.80", "margin_impact": "-13.79"}]
    reconciliation = (await stack.finance.get("/v1/reports/refund-reconciliation")).json()
    assert [(r["amount"], r["status"], r["matched_return"], r["before_inspection"])
            for r in sorted(reconciliation["refunds"], key=lambda r: r["amount"])] == [
        ("15.99", "issued", True, False), ("19.99", "issued", True, False)]
    assert reconciliation["totals"][0]["ledger_agrees"] is True
    payments = (await stack.payments.get("/v1/stats")).json()
    assert (payments["payments"], payments["duplicate_references"]) == (2, [])
