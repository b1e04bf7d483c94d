"""Settlements on Kafka and PostgreSQL: store credit as the channel's refund policy offers it, a refund to
another method than the order's only with a refund approver, and the order's tax given back pro rata."""

import json

import pytest

from ecomops_common.auth import REFUND_APPROVER
from ecomops_common.contracts import FINANCE_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import RefundIssued
from ecomops_common.contracts.warehouse import ReturnInspected, ReturnReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

from .conftest import as_, sold_and_delivered

pytestmark = pytest.mark.integration


def request(order_id: str, request_id: str, reason: str, **more) -> dict:
    return {"channel": "web-eu", "request_id": request_id, "order_id": order_id, "reason": reason,
            "lines": [{"sku": "SHIRT", "quantity": 1}], **more}


async def received_and_inspected(returns, rma_id: str, condition: str) -> None:
    settings, at = returns.settings, "2026-11-25T10:00:00Z"
    received = new_event("ReturnReceived", 1, "warehouse", "return", rma_id, ReturnReceived(
        rma_id=rma_id, node="BER1", sku="SHIRT", quantity=1, condition=condition, received_at=at))
    inspected = new_event("ReturnInspected", 1, "warehouse", "return", rma_id, ReturnInspected(
        rma_id=rma_id, node="BER1", sku="SHIRT", quantity=1, condition=condition, inspected_at=at, inspector="op-3"))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [received, inspected])


async def refunds_approved(settings, count: int) -> list[dict]:
    def approved(records) -> list[dict]:
        return [json.loads(r.value)["payload"] for r in records
                if dict(r.headers)["event_type"] == b"RefundApproved"]

    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS),
                                  lambda rs: len(approved(rs)) >= count)
    return approved(records)


async def test_store_credit_where_the_policy_offers_it_paid_once_with_the_orders_tax(returns):
    settings = returns.settings
    await sold_and_delivered(returns, "o-sc1", [("1", "SHIRT", 2)], tax="2.00")
    unknown = await returns.put("/v1/rules/refund-policies/web-eu", json={"store_credit_reasons": ["bored"]})
    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["body", "store_credit_reasons"])
    policy = await returns.put("/v1/rules/refund-policies/web-eu", json={"store_credit_reasons": ["defective"]})
    assert (policy.status_code, policy.json()["rule"]["store_credit_reasons"]) == (200, ["defective"])

    not_offered = await returns.post("/v1/returns", json=request("o-sc1", "sc-1", "changed_mind",
                                                                 resolution="store_credit"))
    assert not_offered.status_code == 422
    assert [(d["loc"], d["type"]) for d in not_offered.json()["detail"]] == [
        (["body", "resolution"], "store_credit_not_offered")]
    created = await returns.post("/v1/returns", json=request("o-sc1", "sc-2", "defective", resolution="store_credit"))
    assert created.status_code == 201, created.text
    rma = created.json()
    assert rma["resolution"] == "store_credit"

    await received_and_inspected(returns, rma["id"], "damaged")
    [refund] = await refunds_approved(settings, 1)
    # 10.00 goods and their shipping share 2.50 (the retailer's fault), and their tax: 2.00 × 12.50 / 24.99
    assert (refund["method"], refund["amount"], refund["tax"], refund["approved_by"]) == (
        "store_credit", "13.50", "1.00", "policy")
    assert [(c["kind"], c["amount"]) for c in refund["breakdown"]] == [
        ("goods", "10.00"), ("shipping", "2.50"), ("tax", "1.00")]

    issued = new_event("RefundIssued", 1, "finance", "return", rma["id"], RefundIssued(
        refund_id=refund["refund_id"], rma_id=rma["id"], order_id="o-sc1", amount="13.50", currency="EUR",
        provider_reference="credit-1", issued_at="2026-11-25T11:00:00Z"))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS), [issued, issued])

    async def credited() -> bool:
        timeline = (await returns.get(f"/v1/returns/{rma['id']}")).json()["timeline"]
        return any(step["stage"] == "refunded" for step in timeline)

    await eventually(credited)
    timeline = (await returns.get(f"/v1/returns/{rma['id']}")).json()["timeline"]
    assert [step["stage"] for step in timeline].count("refunded") == 1  # issued exactly once


async def test_a_refund_to_another_method_waits_for_a_refund_approver(returns):
    settings = returns.settings
    await sold_and_delivered(returns, "o-sc2", [("1", "SHIRT", 2)])
    exchange = await returns.post("/v1/returns", json=request("o-sc2", "m-0", "size_fit", resolution="exchange",
                                                              refund_method="bank_transfer"))
    assert [(d["loc"], d["type"]) for d in exchange.json()["detail"]] == [
        (["body", "refund_method"], "refund_method_not_applicable")]
    malformed = await returns.post("/v1/returns", json=request("o-sc2", "m-1", "size_fit", refund_method="Bank!"))
    assert (malformed.status_code, malformed.json()["detail"][0]["loc"]) == (422, ["body", "refund_method"])
    created = await returns.post("/v1/returns", json=request("o-sc2", "m-2", "size_fit",
                                                             refund_method="bank_transfer"))
    assert (created.status_code, created.json()["refund_method"]) == (201, "bank_transfer")
    rma_id = created.json()["id"]
    await received_and_inspected(returns, rma_id, "new")

    async def waiting() -> bool:
        return bool((await returns.get("/v1/returns", params={"queue": "awaiting_approval"})).json())

    await eventually(waiting)
    [settlement] = (await returns.get(f"/v1/returns/{rma_id}")).json()["settlements"]
    assert (settlement["risk_signals"], settlement["method"]) == (["different_refund_method"], "bank_transfer")
    approved = await returns.post(f"/v1/returns/{rma_id}/settlements/{settlement['id']}/approve",
                                  json={"note": "card expired"}, headers=as_("sup:ana", REFUND_APPROVER))
    assert approved.status_code == 200, approved.text
    [refund] = await refunds_approved(settings, 1)
    assert (refund["method"], refund["approved_by"], refund["amount"], refund["tax"]) == (
        "bank_transfer", "sup:ana", "10.00", "0")
    timeline = approved.json()["timeline"]
    assert (timeline[-1]["stage"], timeline[-1]["actor"]) == ("refund_approved", "sup:ana")
