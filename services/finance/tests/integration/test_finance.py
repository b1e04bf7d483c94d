"""The finance service on Kafka and PostgreSQL, with the other services' events produced by the test and the
simulated payment provider in process."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ecomops_common.auth import SUPERVISOR
from ecomops_common.contracts import FINANCE_EVENTS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.returns import RefundApproved, RefundComponent, RefundedLine, ReturnAuthorized, ReturnLine
from ecomops_common.contracts.warehouse import (
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
    ShippedLine,
    StockAdjusted,
)
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce, produce_events
from ecomops_common.testing.samples import order_placed

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
# The client calls as finance clerk fin:maria (conftest); her corrections are approved by a supervisor.
APPROVER = test_issuer().bearer("sup:li", SUPERVISOR)


def event(event_type: str, key: str, payload):
    return new_event(event_type, 1, "test", "x", key, payload)


def of_type(records, event_type: str) -> list:
    """The records of one message type (finance.events.v1 carries several)."""
    return [record for record in records if dict(record.headers)["event_type"] == event_type.encode()]


def approval(refund_id: str, rma_id: str, order_id: str, amount: str, breakdown, *, timing="after_inspection",
             lines=(("1", "SKU-RED-M", 1),), grades=None) -> RefundApproved:
    return RefundApproved(
        refund_id=refund_id, rma_id=rma_id, order_id=order_id, channel="web-eu", customer_id="c-42",
        amount=D(amount), currency="EUR", reason="changed_mind", timing=timing,
        lines=[RefundedLine(line_id=i, sku=s, quantity=q, grades=grades or {}) for i, s, q in lines],
        breakdown=[RefundComponent(line_id="1", kind=k, amount=D(a)) for k, a in breakdown],
        approved_by="policy", approved_at=NOW)


def authorized(rma_id: str, order_id: str, quantity: int = 1) -> ReturnAuthorized:
    return ReturnAuthorized(rma_id=rma_id, order_id=order_id, channel="web-eu", node="BER1", authorized_at=NOW,
                            reason="changed_mind", lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=quantity)])


async def known_returns(finance, *rma_order_ids: tuple[str, str]) -> None:
    """Orders (one unit of SKU-RED-M at 10.00, 4.99 shipping) and their returns, as finance learns them."""
    await publish(finance, ORDER_EVENTS, *[order_placed(order_id) for _, order_id in rma_order_ids])
    await publish(finance, RETURNS_EVENTS, *[event("ReturnAuthorized", rma_id, authorized(rma_id, order_id))
                                             for rma_id, order_id in rma_order_ids])


async def approved_by_another(finance, requested) -> dict:
    """A correction requested by the client's clerk: she may not approve it herself, the supervisor does."""
    assert requested.status_code == 202, requested.text
    request = requested.json()
    assert (request["status"], request["requested_by"]) == ("requested", "fin:maria")
    own = await finance.post(f"/v1/approval-requests/{request['id']}/approve")
    assert own.status_code == 403 and own.json()["reason"] == "segregation_of_duties"
    approved = await finance.post(f"/v1/approval-requests/{request['id']}/approve", headers=APPROVER)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "sup:li")
    return approved.json()


async def publish(finance, topic: str, *events) -> None:
    await produce_events(finance.settings.kafka_bootstrap_servers, finance.settings.topic(topic), list(events))


async def entries(finance, **params) -> list[dict]:
    response = await finance.get("/v1/journal", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def net(entry_list, account: str) -> D:
    return sum((D(line["debit"]) - D(line["credit"]) for entry in entry_list for line in entry["lines"]
                if line["account"] == account), D(0))


async def test_an_order_shipped_and_returned_damaged_posts_every_fact_once_to_the_cent(finance):
    settings = finance.settings
    placed = order_placed("o-1", [("1", "SKU-RED-M", 2), ("2", "SKU-BLU-L", 1)])  # 10.00 each, fee 4.99
    shipped = event("ShipmentDispatched", "o-1", ShipmentDispatched(
        order_id="o-1", node="BER1", tracking_number="T1", shipped_at=NOW, shipping_cost=D("6.20"), currency="EUR",
        lines=[ShippedLine(line_id="1", sku="SKU-RED-M", quantity=2), ShippedLine(line_id="2", sku="SKU-BLU-L",
                                                                                    quantity=1)]))
    # The shipment arrives first and before any unit cost: it waits, and nothing is posted half.
    await publish(finance, WAREHOUSE_EVENTS, shipped)
    await eventually(lambda: _pending(finance, "order:o-1"))
    await publish(finance, ORDER_EVENTS, placed, placed)
    await eventually(lambda: _pending(finance, "cost:SKU-BLU-L"))
    for sku, cost in (("SKU-RED-M", {"amount": "4.10", "currency": "EUR"}),
                      ("SKU-BLU-L", {"amount": "3.333", "currency": "EUR"})):
        assert (await finance.put(f"/v1/costs/{sku}", json=cost)).status_code == 200
    assert (await finance.put("/v1/costs/X", json={"amount": 1, "currency": "eur"})).status_code == 422

    async def shipment_posted() -> bool:
        return len(await entries(finance, order_id="o-1")) == 1

    await eventually(shipment_posted)
    [sale] = await entries(finance, order_id="o-1")
    assert sale["kind"] == "shipment"
    assert (net([sale], "1100"), net([sale], "4000"), net([sale], "4100")) == (D("34.99"), D("-30.00"), D("-4.99"))
    assert (net([sale], "5000"), net([sale], "1400")) == (D("11.53"), D("-11.53"))  # 8.20 + 3.333 → 3.33
    assert (net([sale], "5200"), net([sale], "2100")) == (D("6.20"), D("-6.20"))

    refund = approval("rf-1", "r-1", "o-1", "7.50", [("goods", "10.00"), ("restocking_fee_C", "-2.50")])
    await publish(finance, RETURNS_EVENTS, event("ReturnAuthorized", "r-1", authorized("r-1", "o-1")))
    await publish(finance, WAREHOUSE_EVENTS,
                  event("ReturnReceived", "r-1", ReturnReceived(rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1,
                                                                condition="damaged", received_at=NOW)),
                  event("ReturnInspected", "r-1", ReturnInspected(rma_id="r-1", node="BER1", sku="SKU-RED-M",
                                                                  quantity=1, condition="damaged", inspected_at=NOW)))
    approved = event("RefundApproved", "r-1", refund)
    await publish(finance, RETURNS_EVENTS, approved, approved, event("RefundApproved", "r-1", refund))  # 2 repeats
    await publish(finance, WAREHOUSE_EVENTS, event("ReturnDispositionApplied", "r-1", ReturnDispositionApplied(
        rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1, disposition="liquidate", applied_at=NOW)))

    issued = of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS),
                                         lambda records: len(of_type(records, "RefundIssued")) >= 1), "RefundIssued")
    payload = json.loads(issued[0].value)["payload"]
    assert (payload["refund_id"], payload["amount"], payload["rma_id"]) == ("rf-1", "7.50", "r-1")

    async def all_posted() -> bool:
        return {e["kind"] for e in await entries(finance, rma_id="r-1")} == {
            "refund_approved", "refund_issued", "disposition"}

    await eventually(all_posted)
    returned = await entries(finance, rma_id="r-1")
    assert len(returned) == 3  # the repeated approvals posted nothing
    # Each entry announced once, for the order's timeline: keyed by its order.
    posted = of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS),
                                         lambda records: len(of_type(records, "JournalEntryPosted")) >= 4),
                     "JournalEntryPosted")
    assert sorted((r.key, json.loads(r.value)["payload"]["kind"]) for r in posted) == [
        (b"o-1", "disposition"), (b"o-1", "refund_approved"), (b"o-1", "refund_issued"), (b"o-1", "shipment")]
    assert {json.loads(r.value)["payload"]["entry_id"] for r in posted} == {str(e["id"]) for e in [sale, *returned]}
    assert (net(returned, "4010"), net(returned, "4200"), net(returned, "2200"), net(returned, "1100")) == (
        D("10.00"), D("-2.50"), D("0"), D("-7.50"))
    # units to liquidate stay in inventory until sold (RecoveryStockMoved writes them off less the proceeds)
    assert (net(returned, "5000"), net(returned, "1400"), net(returned, "5100")) == (D("-4.10"), D("4.10"), D(0))
    stats = (await finance.provider.get("/v1/stats")).json()
    assert stats["payments"] == 1 and stats["duplicate_references"] == []

    await publish(finance, WAREHOUSE_EVENTS, event("StockAdjusted", "SKU-BLU-L@BER1", StockAdjusted(
        adjustment_id="scan-9", sku="SKU-BLU-L", node="BER1", location="A-01", quantity=-2, actor="op-1",
        adjusted_at=NOW)))

    async def count_posted() -> bool:
        return bool(await entries(finance, kind="stock_adjustment"))

    await eventually(count_posted)
    [count] = await entries(finance, kind="stock_adjustment")
    assert (net([count], "1400"), net([count], "5300")) == (D("-6.67"), D("6.67"))  # 2 × 3.333 = 6.666

    period = NOW.strftime("%Y-%m")
    balance = (await finance.get("/v1/reports/trial-balance", params={"period": period})).json()
    assert all(total["balanced"] for total in balance["totals"])
    closing = {row["account"]: D(row["closing"]) for row in balance["accounts"]}
    assert closing["4000"] == D("-30.00") and closing["4010"] == D("10.00") and closing["1400"] == D("-14.10")
    csv_text = (await finance.get("/v1/reports/trial-balance", params={"period": period, "format": "csv"})).text
    assert csv_text.splitlines()[0].startswith("account,name,type,currency,opening,debits,credits,closing")
    assert "4010,Sales returns,contra_revenue,EUR,0.00,10.00,0.00,10.00" in csv_text

    reconciliation = (await finance.get("/v1/reports/refund-reconciliation")).json()
    [line] = reconciliation["refunds"]
    assert (line["status"], line["matched_return"], line["before_inspection"]) == ("issued", True, False)
    assert reconciliation["totals"][0]["ledger_agrees"] is True
    leakage = (await finance.get("/v1/reports/refund-leakage")).json()
    assert [row["refund_id"] for row in leakage["duplicate_attempts"]] == ["rf-1"]
    assert leakage["duplicate_attempts"][0]["duplicate_requests"] == 1  # the redelivery was dropped by the inbox
    assert leakage["fees_not_charged"] == [] and leakage["over_policy"] == []
    margin = (await finance.get("/v1/reports/return-margin", params={"by": "sku"})).json()
    assert margin == [{"sku": "SKU-RED-M", "currency": "EUR", "refunds": "7.50", "fees_kept": "2.50",
                       "write_offs": "0.00", "recovered_value": "4.10", "freight": "2.07", "return_freight": "0.00",
                       "fees_reversed": "0.00", "tax_refunded": "0.00",
                       "margin_impact": "-5.47"}]  # freight: 6.20 shared 2.07/2.07/2.06, one unit came back
    assert (await finance.get("/v1/reports/return-margin", params={"period": "2020-01"})).json() == []
    assert (await finance.get("/v1/reports/return-margin", params={"from": "2026-01-02"})).status_code == 422
    assert (await finance.get("/v1/reports/trial-balance", params={"period": "2026-13"})).status_code == 422


async def test_leakage_judges_a_fee_by_the_units_each_refund_covers(finance):
    """One RMA, one unit back like new and one damaged, settled apart: only a damaged unit refunded without its
    fee is leakage, not the like-new unit's fee-free refund."""
    await publish(finance, ORDER_EVENTS, order_placed("o-7", [("1", "SKU-RED-M", 3)]))
    await publish(finance, RETURNS_EVENTS, event("ReturnAuthorized", "r-7", authorized("r-7", "o-7", 3)))
    await publish(finance, WAREHOUSE_EVENTS, *[
        event("ReturnInspected", "r-7", ReturnInspected(rma_id="r-7", node="BER1", sku="SKU-RED-M", quantity=1,
                                                        condition=condition, inspected_at=NOW))
        for condition in ("like_new", "damaged", "damaged")])
    await publish(finance, RETURNS_EVENTS, *[event("RefundApproved", "r-7", refund) for refund in (
        approval("rf-like-new", "r-7", "o-7", "10.00", [("goods", "10.00")], grades={"A": 1}),
        approval("rf-damaged", "r-7", "o-7", "8.00", [("goods", "10.00"), ("restocking_fee_C", "-2.00")],
                 grades={"C": 1}),
        approval("rf-leak", "r-7", "o-7", "10.00", [("goods", "10.00")], grades={"C": 1}))])

    async def all_known() -> bool:
        return len((await finance.get("/v1/reports/refund-reconciliation")).json()["refunds"]) == 3

    await eventually(all_known)
    leakage = (await finance.get("/v1/reports/refund-leakage")).json()
    assert [(row["refund_id"], row["grades"]) for row in leakage["fees_not_charged"]] == [("rf-leak", ["C"])]


async def test_refunds_are_paid_once_through_timeouts_and_declines_wait_for_staff(finance):
    await finance.provider.put("/v1/behaviour", json={"timeout_rate": 1, "timeout_delay_s": 1.0,
                                                      "decline_references": ["rf-declined"]})
    await known_returns(finance, ("r-2", "o-2"), ("r-3", "o-3"))
    await publish(finance, RETURNS_EVENTS,
                  event("RefundApproved", "r-2", approval("rf-slow", "r-2", "o-2", "10.00", [("goods", "10.00")],
                                                          timing="instant")),
                  event("RefundApproved", "r-3", approval("rf-declined", "r-3", "o-3", "5.00", [("goods", "5.00")])))

    async def declined() -> bool:
        return len((await finance.get("/v1/refunds", params={"status": "failed"})).json()) == 1

    await eventually(declined)
    [failed] = (await finance.get("/v1/refunds", params={"status": "failed"})).json()
    assert failed["refund_id"] == "rf-declined" and failed["last_error"].startswith("card_closed")
    settings = finance.settings
    [announced] = of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS),
                                              lambda records: bool(of_type(records, "RefundFailed"))), "RefundFailed")
    payload = json.loads(announced.value)["payload"]
    assert (announced.key, payload["refund_id"], payload["outcome"], payload["amount"]) == (
        b"r-3", "rf-declined", "declined", "5.00")
    assert payload["reason"].startswith("card_closed")
    assert 'ecomops_refund_payout_answers_total{outcome="declined"}' in (await finance.get("/metrics")).text

    async def slow_one_paid() -> bool:
        rows = (await finance.get("/v1/refunds", params={"status": "issued"})).json()
        return [row["refund_id"] for row in rows] == ["rf-slow"]

    # The provider paid but answered too late; asked again with the same key, it answered with that payment.
    await eventually(slow_one_paid)
    [slow] = (await finance.get("/v1/refunds", params={"status": "issued"})).json()
    assert slow["attempts"] == 2
    stats = (await finance.provider.get("/v1/stats")).json()
    assert (stats["payments"], stats["timeouts"], stats["replays"], stats["duplicate_references"]) == (1, 1, 1, [])

    assert (await finance.post("/v1/refunds/rf-slow/retry")).status_code == 409
    await finance.provider.put("/v1/behaviour", json={})
    retried = await approved_by_another(finance, await finance.post("/v1/refunds/rf-declined/retry"))
    assert retried["outcome"] == "refund:r-3:rf-declined:1"  # the new generation's idempotency key

    async def both_paid() -> bool:
        return len((await finance.get("/v1/refunds", params={"status": "issued"})).json()) == 2

    await eventually(both_paid)
    assert (await finance.provider.get("/v1/stats")).json()["payments"] == 2
    issued = of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS),
                                         lambda records: len(of_type(records, "RefundIssued")) >= 2), "RefundIssued")
    assert sorted(json.loads(r.value)["payload"]["refund_id"] for r in issued) == ["rf-declined", "rf-slow"]
    reconciliation = (await finance.get("/v1/reports/refund-reconciliation")).json()
    assert sorted(r["refund_id"] for r in reconciliation["issued_before_inspection"]) == ["rf-declined", "rf-slow"]
    assert reconciliation["unmatched"] == []  # finance pays only refunds of returns it knows
    flagged = (await finance.get("/v1/reports/refund-reconciliation", params={"no_receipt_days": 0})).json()
    assert len(flagged["no_receipt_after_days"]) == 2


async def test_a_forged_or_excessive_refund_approval_is_refused_visibly_and_never_paid(finance):
    """Published on returns.events.v1 by whoever reached it (here the test's own admin Kafka client): an approval of
    no return finance knows, and one beyond what the customer paid, are refused with the reason, not paid and not
    dead-lettered; one whose order finance has not heard of yet waits for it."""
    await known_returns(finance, ("r-8", "o-8"))  # 10.00 + 4.99 shipping paid

    async def order_known() -> bool:
        liability = (await finance.get("/v1/reports/return-liability")).json()
        return [row["value"] for row in liability["authorized_not_received"]] == ["10.00"]

    await eventually(order_known)
    await publish(finance, RETURNS_EVENTS, *[event("RefundApproved", rma_id, approval(
        refund_id, rma_id, "o-8", "9.00", [("goods", "9.00")])) for refund_id, rma_id in (
            ("rf-forged", "r-404"), ("rf-fits", "r-8"), ("rf-beyond", "r-8"))])
    await publish(finance, RETURNS_EVENTS, event("ReturnAuthorized", "r-9", authorized("r-9", "o-9")),
                  event("RefundApproved", "r-9", approval("rf-later", "r-9", "o-9", "9.00", [("goods", "9.00")])))

    async def refunds(status: str) -> dict[str, str | None]:
        rows = (await finance.get("/v1/refunds", params={"status": status})).json()
        return {row["refund_id"]: row["hold_reason"] for row in rows}

    async def checked() -> bool:
        return len(await refunds("refused")) == 2 and "rf-later" in await refunds("held")

    await eventually(checked)
    assert await refunds("refused") == {
        "rf-forged": "unknown_return: finance knows no return r-404",
        "rf-beyond": "exceeds_payment: 9.00 EUR is more than the 5.99 left of the 14.99 paid for order o-8"}
    assert await refunds("held") == {"rf-later": "order_unknown: waiting for order o-9"}
    for refused in ("rf-forged", "rf-beyond"):
        assert (await finance.post(f"/v1/refunds/{refused}/retry")).status_code == 409

    await publish(finance, ORDER_EVENTS, order_placed("o-9"))

    async def both_paid() -> bool:
        return set(await refunds("issued")) == {"rf-fits", "rf-later"}

    await eventually(both_paid)
    payments = (await finance.provider.get("/v1/refunds")).json()
    assert sorted(payment["reference"] for payment in payments) == ["rf-fits", "rf-later"]
    assert sorted(e["source_id"] for e in await entries(finance, kind="refund_approved")) == ["rf-fits", "rf-later"]
    [totals] = (await finance.get("/v1/reports/refund-reconciliation")).json()["totals"]
    assert totals["ledger_agrees"] is True and totals["issued"] == "18.00"


async def test_a_declined_refund_can_be_settled_by_hand_and_liabilities_are_reported(finance):
    await finance.provider.put("/v1/behaviour", json={"decline_references": ["rf-4"]})
    await publish(finance, ORDER_EVENTS, order_placed("o-4", [("1", "SKU-RED-M", 3)]))
    await publish(finance, RETURNS_EVENTS, event("ReturnAuthorized", "r-4", authorized("r-4", "o-4", 2)),
                  event("RefundApproved", "r-4", approval("rf-4", "r-4", "o-4", "10.00", [("goods", "10.00")])))

    async def failed() -> bool:
        return bool((await finance.get("/v1/refunds", params={"status": "failed"})).json())

    await eventually(failed)
    liability = (await finance.get("/v1/reports/return-liability")).json()
    assert liability["totals"] == [{"currency": "EUR", "approved_not_refunded": "10.00",
                                    "authorized_not_received": "0.00"}]  # r-4's refund already counted
    assert liability["authorized_not_received"][0]["value"] == "20.00"
    requested = await finance.post("/v1/refunds/rf-4/manual-settlement", json={"reference": "SEPA-77"})
    assert (await finance.post("/v1/refunds/rf-4/retry")).status_code == 409  # one open request per refund
    assert not await entries(finance, kind="refund_issued")  # nothing is paid on the request
    settled = await approved_by_another(finance, requested)
    assert settled["outcome"] == "manual:SEPA-77"
    assert (await finance.post("/v1/refunds/rf-4/manual-settlement", json={"reference": "x"})).status_code == 409
    again = await finance.post(f"/v1/approval-requests/{settled['id']}/approve", headers=APPROVER)
    assert again.status_code == 409  # once
    [paid] = await entries(finance, kind="refund_issued")
    assert paid["posted_by"] == "sup:li" and net([paid], "1100") == D("-10.00")
    [issued] = (await finance.get("/v1/refunds", params={"status": "issued"})).json()
    assert issued["provider_reference"] == "manual:SEPA-77"
    audit = (await finance.get("/v1/approval-requests")).json()
    assert [(r["kind"], r["target"], r["requested_by"], r["decided_by"]) for r in audit] == [
        ("manual_settlement", "refund:rf-4", "fin:maria", "sup:li")]


async def test_entries_are_immutable_and_corrected_by_one_reversal(finance):
    refund = approval("rf-5", "r-5", "o-5", "3.00", [("goods", "3.00")])
    await finance.provider.put("/v1/behaviour", json={"decline_references": ["rf-5"]})
    await known_returns(finance, ("r-5", "o-5"))
    await publish(finance, RETURNS_EVENTS, event("RefundApproved", "r-5", refund))

    async def posted() -> bool:
        return bool(await entries(finance, kind="refund_approved"))

    await eventually(posted)
    [entry] = await entries(finance, kind="refund_approved")
    requested = await finance.post(f"/v1/journal/{entry['id']}/reversal", json={"reason": "approved twice"})
    assert len(await entries(finance)) == 1  # posted only on approval
    reversal_id = (await approved_by_another(finance, requested))["outcome"].removeprefix("entry:")
    body = (await finance.get(f"/v1/journal/{reversal_id}")).json()
    assert body["reverses"] == "refund_approved:rf-5" and body["posted_by"] == "sup:li"
    assert body["description"].endswith("approved twice (requested by fin:maria, approved by sup:li)")
    assert net([entry, body], "2200") == 0 and net([entry, body], "4010") == 0
    again = await finance.post(f"/v1/journal/{entry['id']}/reversal", json={"reason": "approved twice"})
    assert again.status_code == 409
    assert (await finance.post(f"/v1/journal/{body['id']}/reversal", json={"reason": "undo"})).status_code == 409
    assert (await finance.post("/v1/journal/999999/reversal", json={"reason": "nope"})).status_code == 404
    assert (await finance.post(f"/v1/journal/{entry['id']}/reversal", json={})).status_code == 422
    assert (await finance.get("/v1/journal", headers={"authorization": ""})).status_code == 401

    # The service's runtime role may not change the journal at all; the trigger binds even the schema's owner
    # (tests/migrations/test_migrations.py).
    async with finance.unit_of_work() as uow:
        with pytest.raises(DBAPIError, match="permission denied for table journal_lines"):
            await uow.session.execute(text("UPDATE journal_lines SET debit = debit + 1"))
    async with finance.unit_of_work() as uow:
        with pytest.raises(DBAPIError, match="permission denied for table journal_entries"):
            await uow.session.execute(text("DELETE FROM journal_entries"))


async def test_malformed_events_are_dead_lettered_with_the_reason(finance):
    settings = finance.settings
    bad = event("RefundApproved", "r-6", {"refund_id": "rf-6"})
    await produce(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS),
                  [(b"r-6", bad.model_dump_json().encode())])
    letters = await consume_until(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS) + ".dlq",
                                  lambda records: len(records) >= 1)
    assert dict(letters[0].headers)["dlq_reason"] == b"schema_invalid"


async def _pending(finance, waiting_for: str) -> bool:
    response = await finance.get("/v1/postings/pending")
    return [row["waiting_for"] for row in response.json()] == [waiting_for]


