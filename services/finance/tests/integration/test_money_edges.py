"""The money edges of returns on Kafka and PostgreSQL: store credit, vendor claims, recovery write-offs with
liquidation proceeds, tax and marketplace fees on refunds, return freight; the other services' events produced by
the test on their real topics, as they publish them."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from ecomops_common.auth import AUDITOR, CUSTOMER_SERVICE, WAREHOUSE_OPERATOR
from ecomops_common.contracts import FINANCE_EVENTS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.contracts.returns import (
    RefundApproved,
    RefundComponent,
    RefundedLine,
    ReturnAuthorized,
    ReturnLine,
    VendorClaimChanged,
    VendorClaimLine,
)
from ecomops_common.contracts.warehouse import RecoveryStockMoved, ReturnReceived, ShipmentDispatched, ShippedLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce_events
from ecomops_common.testing.samples import order_placed

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


def event(event_type: str, key: str, payload):
    return new_event(event_type, 1, "test", "x", key, payload)


async def publish(finance, topic: str, *events) -> None:
    await produce_events(finance.settings.kafka_bootstrap_servers, finance.settings.topic(topic), list(events))


async def finance_events(finance, event_type: str, count: int) -> list[tuple[bytes, dict]]:
    """(key, payload) of the first `count` events of one type on finance.events.v1."""
    settings = finance.settings

    def of_type(records) -> list:
        return [r for r in records if dict(r.headers)["event_type"] == event_type.encode()]

    records = of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS),
                                          lambda records: len(of_type(records)) >= count))
    return [(record.key, json.loads(record.value)["payload"]) for record in records]


async def entries(finance, **params) -> list[dict]:
    response = await finance.get("/v1/journal", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def net(entry_list, account: str) -> D:
    return sum((D(line["debit"]) - D(line["credit"]) for entry in entry_list for line in entry["lines"]
                if line["account"] == account), D(0))


def placed(order_id: str, *, method: str = "card", amount: str = "14.99", tax: str = "0.00") -> OrderPlaced:
    """One unit of SKU-RED-M at 10.00, 4.99 shipping, for customer c-42 on channel web-eu."""
    order = OrderPlaced.model_validate(order_placed(order_id).payload)
    return order.model_copy(update={"tax": D(tax), "payment": order.payment.model_copy(update={
        "method": method, "amount": D(amount)})})


def authorized(rma_id: str, order_id: str) -> ReturnAuthorized:
    return ReturnAuthorized(rma_id=rma_id, order_id=order_id, channel="web-eu", node="BER1", authorized_at=NOW,
                            reason="defective", lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=1)])


def approval(refund_id: str, rma_id: str, order_id: str, breakdown: list[tuple[str, str]], *,
             method: str = "original_payment") -> RefundApproved:
    components = [RefundComponent(line_id="1", kind=kind, amount=D(amount)) for kind, amount in breakdown]
    return RefundApproved(
        refund_id=refund_id, rma_id=rma_id, order_id=order_id, channel="web-eu", customer_id="c-42",
        amount=sum((c.amount for c in components), D(0)), currency="EUR", reason="defective", timing="on_receipt",
        lines=[RefundedLine(line_id="1", sku="SKU-RED-M", quantity=1)], breakdown=components,
        tax=sum((c.amount for c in components if c.kind == "tax"), D(0)), method=method, approved_by="policy",
        approved_at=NOW)


async def test_store_credit_is_issued_once_redeemed_declined_and_restored(finance):
    await publish(finance, ORDER_EVENTS, event("OrderPlaced", "o-1", placed("o-1")))
    await publish(finance, RETURNS_EVENTS, event("ReturnAuthorized", "r-1", authorized("r-1", "o-1")))
    credit = approval("rf-1", "r-1", "o-1", [("goods", "10.00"), ("shipping", "4.99")], method="store_credit")
    approved = event("RefundApproved", "r-1", credit)
    await publish(finance, RETURNS_EVENTS, approved, approved, event("RefundApproved", "r-1", credit))

    [(key, issued)] = await finance_events(finance, "RefundIssued", 1)
    assert (key, issued["refund_id"], issued["amount"], issued["provider_reference"]) == (
        b"r-1", "rf-1", "14.99", "store-credit:issued:rf-1")  # the returns service settles the RMA on it
    assert (await finance.provider.get("/v1/stats")).json()["payments"] == 0  # nothing through the provider

    # Orders paid with store credit: o-2 fits (7.00 of 14.99), o-3 then does not (9.00 of 7.99); o-2 is
    # cancelled (announced twice) and gives its credit back once; o-4 then spends all of it and ships. Orders are
    # keyed apart (partitions of their own), so each waits for the movement before it.
    for order_id, amount in (("o-2", "7.00"), ("o-3", "9.00")):
        await publish(finance, ORDER_EVENTS, event("OrderPlaced", order_id, placed(
            order_id, method="store_credit", amount=amount)))
        await finance_events(finance, "StoreCreditChanged", {"o-2": 2, "o-3": 3}[order_id])
    cancelled = event("OrderStatusChanged", "o-2", OrderStatusChanged(
        order_id="o-2", channel="web-eu", external_order_id="o-2", from_status="on_hold", to_status="cancelled",
        actor="channel:web-eu"))
    await publish(finance, ORDER_EVENTS, cancelled, event("OrderStatusChanged", "o-2", cancelled.payload))
    await finance_events(finance, "StoreCreditChanged", 4)
    await publish(finance, ORDER_EVENTS, event("OrderPlaced", "o-4", placed("o-4", method="store_credit")))
    changes = await finance_events(finance, "StoreCreditChanged", 5)
    assert [(key, c["kind"], c["amount"], c["balance"], c["order_id"], c["reason"]) for key, c in changes] == [
        (b"c-42", "issued", "14.99", "14.99", "o-1", None),
        (b"c-42", "redeemed", "7.00", "7.99", "o-2", None),
        (b"c-42", "declined", "9.00", "7.99", "o-3", "insufficient_store_credit"),
        (b"c-42", "restored", "7.00", "14.99", "o-2", "order_cancelled"),
        (b"c-42", "redeemed", "14.99", "0.00", "o-4", None)]

    assert (await finance.put("/v1/costs/SKU-RED-M", json={"amount": "4.10", "currency": "EUR"})).status_code == 200
    await publish(finance, WAREHOUSE_EVENTS, event("ShipmentDispatched", "o-4", ShipmentDispatched(
        order_id="o-4", node="BER1", tracking_number="T4", shipped_at=NOW,
        lines=[ShippedLine(line_id="1", sku="SKU-RED-M", quantity=1)])))

    async def shipped() -> bool:
        return bool(await entries(finance, kind="shipment"))

    await eventually(shipped)
    paid_with_credit = await entries(finance, order_id="o-4")
    assert [e["kind"] for e in paid_with_credit] == ["store_credit_redeemed", "shipment"]
    assert net(paid_with_credit, "1200") == 0 and net(paid_with_credit, "2500") == D("14.99")  # prepaid
    everything = await entries(finance)
    assert net(everything, "2500") == 0 and net(everything, "2200") == 0  # all the credit is spent
    assert len([e for e in everything if e["kind"] == "store_credit_restored"]) == 1

    as_service = test_issuer().bearer("cs:ana", CUSTOMER_SERVICE)
    statement = (await finance.get("/v1/store-credit/c-42", headers=as_service)).json()
    assert statement["balances"] == [{"currency": "EUR", "balance": "0.00"}]
    assert [(m["movement_id"], m["kind"]) for m in statement["movements"]] == [
        ("issued:rf-1", "issued"), ("redemption:o-2", "redeemed"), ("redemption:o-3", "declined"),
        ("restored:o-2", "restored"), ("redemption:o-4", "redeemed")]
    assert (await finance.get("/v1/store-credit/nobody", headers=test_issuer().bearer("a:1", AUDITOR))).json() == {
        "customer_id": "nobody", "balances": [], "movements": []}
    forbidden = await finance.get("/v1/store-credit/c-42", headers=test_issuer().bearer("op:1", WAREHOUSE_OPERATOR))
    assert forbidden.status_code == 403
    [refund] = (await finance.get("/v1/refunds", params={"status": "issued"})).json()
    assert refund["refund_id"] == "rf-1" and refund["duplicate_requests"] == 1  # the inbox dropped one repeat


async def test_vendor_claims_and_recovered_units_post_receivables_credits_and_write_offs(finance):
    assert (await finance.put("/v1/costs/SKU-RED-M", json={"amount": "4.10", "currency": "EUR"})).status_code == 200
    assert (await finance.put("/v1/costs/SKU-RED-M", json={"amount": "4.10", "currency": "EUR",
                                                           "liquidation_value": "1.00"})).status_code == 200
    # liquidation is no longer a setting: the field is not stored, nor shown
    assert "liquidation_value" not in (await finance.get("/v1/costs")).json()[0]

    def moved(action_id: str, action: str, **changes) -> RecoveryStockMoved:
        fields = {"action_id": action_id, "action": action, "node": "BER1", "sku": "SKU-RED-M", "quantity": 2,
                  "from_status": "liquidation", "to_status": None, "requested_by": "op-1", "decided_by": "sup:li",
                  "at": NOW}
        return RecoveryStockMoved(**{**fields, **changes})

    liquidated = moved("act-1", "liquidated", proceeds=D("3.00"), currency="EUR", reference="LOT-7")
    await publish(finance, WAREHOUSE_EVENTS,
                  event("RecoveryStockMoved", "SKU-RED-M@BER1", liquidated),
                  event("RecoveryStockMoved", "SKU-RED-M@BER1", liquidated),  # the same action twice
                  event("RecoveryStockMoved", "SKU-RED-M@BER1", moved(
                      "act-2", "refurbished", from_status="refurbish", to_status="sellable",
                      to_sku="SKU-RED-M-B", quantity=1)),
                  event("RecoveryStockMoved", "SKU-NEW@BER1", moved("act-3", "scrapped", sku="SKU-NEW", quantity=1,
                                                                    from_status="quarantined")))
    costs = await finance_events(finance, "UnitCostChanged", 3)
    assert sorted((key, c["amount"]) for key, c in costs) == [
        (b"SKU-RED-M", "4.10"), (b"SKU-RED-M", "4.10"), (b"SKU-RED-M-B", "4.10")]

    async def waiting_for_cost() -> bool:
        pending = (await finance.get("/v1/postings/pending")).json()
        return [row["waiting_for"] for row in pending] == ["cost:SKU-NEW"]

    await eventually(waiting_for_cost)
    assert (await finance.put("/v1/costs/SKU-NEW", json={"amount": "20.00", "currency": "EUR"})).status_code == 200

    async def written_off() -> bool:
        return len(await entries(finance, kind="recovery")) == 2

    await eventually(written_off)
    liquidation, scrap = await entries(finance, kind="recovery")
    assert (liquidation["source_id"], net([liquidation], "5100"), net([liquidation], "1200"),
            net([liquidation], "1400")) == ("act-1", D("5.20"), D("3.00"), D("-8.20"))
    assert [line["memo"] for line in liquidation["lines"] if line["account"] == "1200"] == ["liquidation"]
    assert (scrap["source_id"], net([scrap], "5100"), net([scrap], "1400")) == ("act-3", D("20.00"), D("-20.00"))
    variant = [row for row in (await finance.get("/v1/costs")).json() if row["sku"] == "SKU-RED-M-B"]
    assert [(row["amount"], row["updated_by"]) for row in variant] == [("4.10", "system")]

    def claim(status: str, **changes) -> VendorClaimChanged:
        fields = {"claim_id": "VC-1", "vendor_id": "V-9", "status": status, "currency": "EUR",
                  "claimed_amount": D("100.00"), "actor": "sup:li", "at": NOW, "lines": [VendorClaimLine(
                      rma_id="r-1", sku="SKU-RED-M", quantity=2, grade="D", reason="defective",
                      unit_cost=D("50.00"))]}
        return VendorClaimChanged(**{**fields, **changes})

    accepted = claim("partially_accepted", accepted_amount=D("80.00"))
    credited = claim("credited", accepted_amount=D("80.00"), credited_amount=D("70.00"), credit_reference="CN-5")
    await publish(finance, RETURNS_EVENTS, *[event("VendorClaimChanged", "VC-1", c) for c in (
        claim("draft"), claim("submitted"), accepted, accepted, credited, credited)])

    async def credited_posted() -> bool:
        return bool(await entries(finance, kind="vendor_claim_credited"))

    await eventually(credited_posted)
    claims = [e for e in await entries(finance) if e["kind"].startswith("vendor_claim")]
    assert [e["kind"] for e in claims] == ["vendor_claim_accepted", "vendor_claim_credited"]
    assert (net(claims[:1], "1250"), net(claims[:1], "5450")) == (D("80.00"), D("-80.00"))
    assert (net(claims[1:], "2150"), net(claims[1:], "1250"), net(claims[1:], "5450")) == (
        D("70.00"), D("-80.00"), D("10.00"))
    assert {line["memo"] for line in claims[0]["lines"]} == {"vendor V-9 claim VC-1"}
    balance = (await finance.get("/v1/reports/trial-balance", params={"period": NOW.strftime("%Y-%m")})).json()
    closing = {row["account"]: D(row["closing"]) for row in balance["accounts"]}
    assert (closing["1250"], closing["5450"]) == (D("0.00"), D("-70.00")) and balance["totals"][0]["balanced"]


async def test_tax_channel_fees_and_return_freight_of_a_marketplace_return(finance):
    rule = {"commission_rate": "0.15", "refund_reversal_rate": "0.5"}
    assert (await finance.put("/v1/rules/channel-fees/web-eu", json=rule)).status_code == 200
    too_high = await finance.put("/v1/rules/channel-fees/web-eu", json={**rule, "refund_reversal_rate": "1.5"})
    assert too_high.status_code == 422 and too_high.json()["detail"][0]["loc"][-1] == "refund_reversal_rate"
    assert (await finance.put("/v1/rules/channel-fees/web-eu", json={**rule, "commission_rate": 0.1})).status_code \
        == 422  # a decimal string, not a float
    as_auditor = test_issuer().bearer("a:1", AUDITOR)
    assert (await finance.put("/v1/rules/channel-fees/web-eu", json=rule, headers=as_auditor)).status_code == 403
    [fees] = (await finance.get("/v1/rules/channel-fees", headers=as_auditor)).json()
    assert (fees["channel"], fees["commission_rate"], fees["refund_reversal_rate"], fees["updated_by"]) == (
        "web-eu", "0.15", "0.5", "fin:maria")
    assert (await finance.put("/v1/costs/SKU-RED-M", json={"amount": "4.10", "currency": "EUR"})).status_code == 200

    await publish(finance, ORDER_EVENTS, event("OrderPlaced", "o-1", placed("o-1", amount="16.89", tax="1.90")))
    await publish(finance, WAREHOUSE_EVENTS, event("ShipmentDispatched", "o-1", ShipmentDispatched(
        order_id="o-1", node="BER1", tracking_number="T1", shipped_at=NOW,
        lines=[ShippedLine(line_id="1", sku="SKU-RED-M", quantity=1)])))
    await publish(finance, RETURNS_EVENTS, event("ReturnAuthorized", "r-1", authorized("r-1", "o-1")))
    await publish(finance, WAREHOUSE_EVENTS, event("ReturnReceived", "r-1", ReturnReceived(
        rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1, condition="damaged", received_at=NOW,
        shipping_cost=D("4.50"), currency="EUR")))
    await publish(finance, RETURNS_EVENTS, event("RefundApproved", "r-1", approval(
        "rf-1", "r-1", "o-1", [("goods", "10.00"), ("tax", "1.90")])))

    async def all_posted() -> bool:
        return {e["kind"] for e in await entries(finance, order_id="o-1")} == {
            "shipment", "return_freight", "refund_approved", "refund_issued"}

    await eventually(all_posted)
    by_kind = {e["kind"]: e for e in await entries(finance, order_id="o-1")}
    sale, freight, refund = by_kind["shipment"], by_kind["return_freight"], by_kind["refund_approved"]
    assert (net([sale], "5600"), net([sale], "2600"), net([sale], "2300")) == (D("1.50"), D("-1.50"), D("-1.90"))
    assert (net([freight], "5210"), net([freight], "2100")) == (D("4.50"), D("-4.50"))
    assert {(line["rma_id"], line["order_id"]) for line in freight["lines"]} == {("r-1", "o-1")}
    assert (net([refund], "4010"), net([refund], "2300"), net([refund], "2200")) == (
        D("10.00"), D("1.90"), D("-11.90"))
    assert (net([refund], "2600"), net([refund], "5600")) == (D("0.75"), D("-0.75"))  # 0.5 × 0.15 × 10.00
    [(_, issued)] = await finance_events(finance, "RefundIssued", 1)
    assert issued["amount"] == "11.90"

    margin = (await finance.get("/v1/reports/return-margin", params={"by": "channel"})).json()
    assert margin == [{"channel": "web-eu", "currency": "EUR", "refunds": "10.00", "fees_kept": "0.00",
                       "write_offs": "0.00", "recovered_value": "0.00", "freight": "0.00", "return_freight": "4.50",
                       "fees_reversed": "0.75", "tax_refunded": "1.90", "margin_impact": "-13.75"}]
    csv_header = (await finance.get("/v1/reports/return-margin", params={"format": "csv"})).text.splitlines()[0]
    assert csv_header.endswith("freight,return_freight,fees_reversed,tax_refunded,margin_impact")
    balance = (await finance.get("/v1/reports/trial-balance", params={"period": NOW.strftime("%Y-%m")})).json()
    closing = {row["account"]: D(row["closing"]) for row in balance["accounts"]}
    assert closing["2300"] == 0 and closing["2600"] == D("-0.75") and closing["5600"] == D("0.75")
