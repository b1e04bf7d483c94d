"""Chaos: the finance worker is killed (SIGKILL) while it pays out 500 refunds and then restarted. The simulated
payment provider, a process of its own, shows exactly 500 payments and no refund paid twice, although some
answers came too late and a batch was in flight at the kill. Finance pays an approval only for a return it
knows, within what the order's customer paid: each refund's order and return authorization come first."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from ecomops_common.contracts import FINANCE_EVENTS, ORDER_EVENTS, RETURNS_EVENTS
from ecomops_common.contracts.returns import (
    RefundApproved,
    RefundComponent,
    RefundedLine,
    ReturnAuthorized,
    ReturnLine,
)
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events
from ecomops_common.testing.samples import order_placed

from .conftest import start_service

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
REFUNDS = 500


def approved(number: int) -> RefundApproved:
    amount = Decimal(10 + number % 90) + Decimal("0.99")
    return RefundApproved(
        refund_id=f"rf-{number}", rma_id=f"r-{number}", order_id=f"o-{number}", channel="web-eu",
        customer_id=f"c-{number % 37}", amount=amount, currency="EUR", reason="size_fit", timing="on_receipt",
        lines=[RefundedLine(line_id="1", sku="SKU-RED-M", quantity=1)],
        breakdown=[RefundComponent(line_id="1", kind="goods", amount=amount)], approved_by="policy",
        approved_at=datetime.now(UTC))


def authorized(number: int) -> ReturnAuthorized:
    return ReturnAuthorized(rma_id=f"r-{number}", order_id=f"o-{number}", channel="web-eu", node="WH1",
                            lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=1)],
                            authorized_at=datetime.now(UTC), reason="size_fit")


async def test_kill_9_while_paying_500_refunds_pays_each_exactly_once(
        new_database, service_process, payment_provider, kafka_bootstrap, topic_prefix, identities):
    finance = start_service(service_process, "finance", await new_database("finance"), kafka_bootstrap, topic_prefix,
                            identities.issuer, payment_provider_url=payment_provider.base_url, payment_timeout_s="1",
                            payout_batch_size="25", payout_retry_s="0.5")
    async with httpx.AsyncClient(base_url=payment_provider.base_url) as provider, \
            httpx.AsyncClient(base_url=finance.base_url, auth=identities.finance, timeout=30) as api:
        # Slow answers, and one in twenty after the finance worker has given up waiting: paid, yet unknown.
        await provider.put("/v1/behaviour", json={"latency_ms": 20, "timeout_rate": 0.05, "timeout_delay_s": 2})
        # Each order paid 104.99 (10 units at 10.00 and the shipping fee): more than any refund below.
        await produce_events(kafka_bootstrap, topic_prefix + ORDER_EVENTS, [
            order_placed(f"o-{n}", lines=[("1", "SKU-RED-M", 10)]) for n in range(REFUNDS)])
        await produce_events(kafka_bootstrap, topic_prefix + RETURNS_EVENTS, [
            new_event(event_type, 1, "returns", "return", f"r-{n}", payload) for n in range(REFUNDS)
            for event_type, payload in (("ReturnAuthorized", authorized(n)), ("RefundApproved", approved(n)))])

        async def paying() -> bool:
            return (await provider.get("/v1/stats")).json()["payments"] >= 100

        await eventually(paying, timeout=60)
        finance.kill()
        paid_at_kill = (await provider.get("/v1/stats")).json()["payments"]
        finance.start()

        async def all_issued() -> bool:
            rows = (await api.get("/v1/refunds", params={"status": "issued", "limit": 5000})).json()
            return len(rows) == REFUNDS

        await eventually(all_issued, timeout=180, interval=1)
        stats = (await provider.get("/v1/stats")).json()
        assert 100 <= paid_at_kill < REFUNDS
        assert (stats["payments"], stats["duplicate_references"]) == (REFUNDS, [])
        assert stats["timeouts"] > 0 and stats["replays"] >= stats["timeouts"]  # each late answer asked again
        payments = (await provider.get("/v1/refunds")).json()
        assert len({payment["reference"] for payment in payments}) == REFUNDS

        def refunds_issued(records) -> set[str]:  # finance.events.v1 also carries journal entries
            return {json.loads(r.value)["payload"]["refund_id"] for r in records
                    if dict(r.headers).get("event_type") == b"RefundIssued"}

        issued = await consume_until(kafka_bootstrap, topic_prefix + FINANCE_EVENTS,
                                     lambda records: len(refunds_issued(records)) >= REFUNDS, timeout=60)
        assert len(refunds_issued(issued)) == REFUNDS
        entries = (await api.get("/v1/journal", params={"kind": "refund_issued", "limit": 1000})).json()
        assert len(entries) == REFUNDS
        reconciliation = (await api.get("/v1/reports/refund-reconciliation")).json()
        [totals] = reconciliation["totals"]
        assert totals["ledger_agrees"] is True and totals["pending"] == totals["failed"] == "0.00"
        assert Decimal(totals["issued"]) == sum(approved(n).amount for n in range(REFUNDS))
