"""The returns service on Kafka and PostgreSQL, with the other services' events produced by the test."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.auth import FINANCE_CLERK, REFUND_APPROVER
from ecomops_common.contracts import CHANNEL_ORDERS, CHANNEL_RETURNS, FINANCE_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import RefundIssued
from ecomops_common.contracts.warehouse import ReturnDispositionApplied, ReturnInspected, ReturnReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce, produce_events

from .conftest import as_, sold_and_delivered

pytestmark = pytest.mark.integration


def request(order_id: str, request_id: str, lines, reason: str = "changed_mind", **more) -> dict:
    return {"channel": "web-eu", "request_id": request_id, "order_id": order_id, "reason": reason,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines], **more}


def warehouse_event(event_type: str, rma_id: str, payload):
    return new_event(event_type, 1, "warehouse", "return", rma_id, payload)


async def returns_events(settings, count: int):
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS),
                                  lambda rs: len(rs) >= count)
    return [(dict(r.headers)["event_type"].decode(), json.loads(r.value)["payload"]) for r in records]


async def test_damaged_return_is_quarantined_and_its_refund_with_a_fee_waits_for_a_supervisor(returns):
    settings = returns.settings
    await sold_and_delivered(returns, "o-1", [("1", "HEADPHONES", 2)], serials={"1": ["SN-1", "SN-2"]})
    policy = {"timing": "after_inspection", "restocking_fee_by_grade": {"C": "0.25"}, "approval_threshold": "500"}
    assert (await returns.put("/v1/rules/refund-policies/web-eu", json=policy)).status_code == 200

    created = await returns.post("/v1/returns", json=request("o-1", "req-1", [("HEADPHONES", 1)]))
    assert created.status_code == 201, created.text
    rma = created.json()
    assert (rma["status"], rma["node"], rma["lines"][0]["quantity"]) == ("authorized", "BER1", 1)
    again = await returns.post("/v1/returns", json=request("o-1", "req-1", [("HEADPHONES", 1)]))
    assert (again.status_code, again.json()["id"]) == (200, rma["id"])
    queue = (await returns.get("/v1/returns", params={"queue": "awaiting_receipt"})).json()
    assert [item["id"] for item in queue] == [rma["id"]]

    now = datetime.now(UTC)
    inspected = warehouse_event("ReturnInspected", rma["id"], ReturnInspected(
        rma_id=rma["id"], node="BER1", sku="HEADPHONES", quantity=1, condition="damaged", inspected_at=now,
        serial="SN-2", inspector="op-3"))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
        warehouse_event("ReturnReceived", rma["id"], ReturnReceived(
            rma_id=rma["id"], node="BER1", sku="HEADPHONES", quantity=1, condition="damaged", received_at=now)),
        inspected, inspected])  # the inspection redelivered: decided once

    async def waits_for_approval() -> bool:
        return bool((await returns.get("/v1/returns", params={"queue": "awaiting_approval"})).json())

    await eventually(waits_for_approval)
    rma = (await returns.get(f"/v1/returns/{rma['id']}")).json()
    [settlement] = rma["settlements"]
    assert (rma["status"], settlement["status"], settlement["amount"]) == ("inspected", "pending_approval", "7.50")
    assert settlement["risk_signals"] == ["grade_worse_than_reason"]
    assert [i["disposition"] for i in rma["inspections"]] == ["quarantine"]

    approve = f"/v1/returns/{rma['id']}/settlements/{settlement['id']}/approve"
    ana, inspector = as_("sup:ana", REFUND_APPROVER), as_("op-3", REFUND_APPROVER)  # the inspector, with the role
    by_inspector = await returns.post(approve, json={}, headers=inspector)
    assert (by_inspector.status_code, by_inspector.json()["reason"]) == (403, "segregation_of_duties")
    no_role = await returns.post(approve, json={}, headers=as_("clerk:bo", FINANCE_CLERK))
    assert (no_role.status_code, no_role.json()["detail"]) == (403, "needs one of the roles admin, refund-approver")
    # Who approves is the token's subject: a body naming someone else is refused, not believed.
    named = await returns.post(approve, json={"approver": "sup:ana"}, headers=inspector)
    assert (named.status_code, named.json()["detail"][0]["loc"]) == (422, ["body", "approver"])
    approved = await returns.post(approve, json={"note": "photos checked"}, headers=ana)
    assert approved.status_code == 200, approved.text
    assert (await returns.post(approve, json={}, headers=ana)).status_code == 409

    events = await returns_events(settings, 7)
    assert [event_type for event_type, _ in events] == [
        "ReturnAuthorized", "ReturnDispositionDecided", "ReturnStatusChanged", "ReturnStatusChanged",
        "ReturnStatusChanged", "RefundApproved", "ReturnStatusChanged"]
    assert [e["status"] for t, e in events if t == "ReturnStatusChanged"] == [
        "received", "inspected", "refund_pending_approval", "refund_approved"]
    refund = events[5][1]
    assert (refund["amount"], refund["approved_by"], refund["timing"]) == ("7.50", "sup:ana", "after_inspection")
    assert [(c["kind"], c["amount"]) for c in refund["breakdown"]] == [("goods", "10.00"),
                                                                       ("restocking_fee_C", "-2.50")]
    assert events[1][1]["disposition"] == "quarantine" and events[1][1]["rule_id"] == "damaged-quarantine"

    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
        warehouse_event("ReturnDispositionApplied", rma["id"], ReturnDispositionApplied(
            rma_id=rma["id"], node="BER1", sku="HEADPHONES", quantity=1, disposition="quarantine", applied_at=now))])
    issued = new_event("RefundIssued", 1, "finance", "return", rma["id"], RefundIssued(
        refund_id=settlement["id"], rma_id=rma["id"], order_id="o-1", amount=refund["amount"], currency="EUR",
        provider_reference="sim-1", issued_at=now))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS), [issued, issued])

    async def closed() -> bool:
        return (await returns.get(f"/v1/returns/{rma['id']}")).json()["status"] == "closed"

    await eventually(closed)
    rma = (await returns.get(f"/v1/returns/{rma['id']}")).json()
    stages = [step["stage"] for step in rma["timeline"]]
    assert stages[:5] == ["authorized", "received", "inspected", "refund_pending_approval", "refund_approved"]
    assert sorted(stages[5:7]) == ["dispositioned", "refunded"] and stages[7:] == ["closed"]  # finance: one stage
    assert rma["timeline"][4]["actor"] == "sup:ana"
    assert set(rma["cycle_times_s"]) == {"received", "inspected", "refund_pending_approval", "refund_approved",
                                         "dispositioned", "refunded", "closed"}
    report = (await returns.get("/v1/returns/cycle-times")).json()
    assert report["closed"]["count"] == 1 and report["closed"]["median_s"] == rma["cycle_times_s"]["closed"]


async def test_each_policy_rule_refuses_with_its_field(returns):
    await sold_and_delivered(returns, "o-2", [("1", "SHIRT", 2), ("2", "SOAP", 1), ("3", "SALE-HAT", 1)],
                             categories={"2": "hygiene"}, final_sale={"3"})
    await sold_and_delivered(returns, "o-old", [("1", "SHIRT", 1)],
                             delivered_at=datetime.now(UTC) - timedelta(days=45))
    await sold_and_delivered(returns, "o-transit", [("1", "SHIRT", 1)], delivered_at=False)

    async def refused(body) -> list[tuple[str, str]]:
        answer = await returns.post("/v1/returns", json=body)
        assert answer.status_code == 422, answer.text
        return [(".".join(d["loc"][1:]), d["type"]) for d in answer.json()["detail"]]

    assert await refused(request("o-2", "r1", [("SHIRT", 3)])) == [("lines.0.quantity", "quantity_exceeds_returnable")]
    assert await refused(request("o-2", "r2", [("SOAP", 1)])) == [("lines.0.line_id", "non_returnable_category")]
    assert await refused(request("o-2", "r3", [("SALE-HAT", 1)])) == [("lines.0.line_id", "final_sale")]
    assert await refused(request("o-2", "r4", [("SHOES", 1)])) == [("lines.0.sku", "not_on_order")]
    assert await refused(request("o-2", "r5", [("SHIRT", 1)], reason="meh")) == [("reason", "unknown_reason")]
    assert await refused(request("o-old", "r6", [("SHIRT", 1)])) == [("lines.0.line_id", "outside_return_window")]
    assert await refused(request("o-404", "r7", [("SHIRT", 1)])) == [("order_id", "unknown_order")]
    free_text_only = await returns.post("/v1/returns", json={**request("o-2", "r8", [("SHIRT", 1)]), "reason": ""})
    assert free_text_only.status_code == 422
    # Still in transit: inside the window, which starts at delivery.
    assert (await returns.post("/v1/returns", json=request("o-transit", "r9", [("SHIRT", 1)]))).status_code == 201
    # What was asked counts against what may still be returned.
    assert (await returns.post("/v1/returns", json=request("o-2", "r10", [("SHIRT", 2)]))).status_code == 201
    assert await refused(request("o-2", "r11", [("SHIRT", 1)])) == [("lines.0.quantity", "quantity_exceeds_returnable")]

    rules = {"rules": [{"id": "a", "disposition": "burn", "grades": ["E"]}, {"id": "a", "disposition": "scrap"}]}
    invalid = await returns.put("/v1/rules/dispositions", json=rules)
    assert [(".".join(map(str, d["loc"][1:])), d["type"]) for d in invalid.json()["detail"]] == [
        ("rules.0.disposition", "invalid_rule"), ("rules.0.grades", "invalid_rule"), ("rules.1.id", "invalid_rule")]
    bad_policy = await returns.put("/v1/rules/refund-policies/web-eu", json={"timing": "later",
                                                                             "approval_threshold": "x"})
    assert {d["loc"][1] for d in bad_policy.json()["detail"]} == {"approval_threshold"}


async def test_marketplace_requests_on_the_topic_dedupe_refuse_and_exchange(returns):
    settings = returns.settings
    await sold_and_delivered(returns, "o-3", [("1", "SHIRT", 2)])
    policy = {"timing": "instant", "instant_max_amount": "50", "approval_threshold": "100"}
    assert (await returns.put("/v1/rules/refund-policies/web-eu", json=policy)).status_code == 200
    exchange = request("o-3", "m-1", [("SHIRT", 1)], reason="size_fit", resolution="exchange")
    refused = request("o-3", "m-2", [("SHIRT", 5)])
    records = [(b"web-eu:m-1", json.dumps(exchange).encode()), (b"web-eu:m-1", json.dumps(exchange).encode()),
               (b"web-eu:m-2", json.dumps(refused).encode()), (b"web-eu:m-3", b"{not json")]
    await produce(settings.kafka_bootstrap_servers, settings.topic(CHANNEL_RETURNS), records)

    events = await returns_events(settings, 4)  # the refusal's key is the request's: another partition
    assert [t for t, _ in events if t != "ReturnRefused"] == ["ReturnAuthorized", "ReturnStatusChanged",
                                                             "ReturnStatusChanged"]
    assert [e["status"] for t, e in events if t == "ReturnStatusChanged"] == ["refund_approved", "exchange_ordered"]
    [refusal] = [e for t, e in events if t == "ReturnRefused"]
    assert refusal["refusals"][0]["rule"] == "quantity_exceeds_returnable"
    [order] = await consume_until(settings.kafka_bootstrap_servers, settings.topic(CHANNEL_ORDERS),
                                  lambda rs: len(rs) >= 1)
    replacement = json.loads(order.value)
    assert (replacement["channel"], replacement["lines"][0]["sku"], replacement["payment"]["method"]) == (
        "web-eu", "SHIRT", "exchange")
    dead = await consume_until(settings.kafka_bootstrap_servers, settings.topic(CHANNEL_RETURNS) + ".dlq",
                               lambda rs: len(rs) >= 1)
    assert dict(dead[0].headers)["dlq_reason"] == b"unparseable"
