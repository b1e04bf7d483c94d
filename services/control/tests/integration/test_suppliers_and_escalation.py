"""Supplier KPIs and the supervisor queues' SLA escalation on the real broker and database (issue 18): the facts
published on the owners' topics, read back through the API and the console."""

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from control_service.bootstrap import build_app
from control_service.service_layer.actions import ServiceClient
from control_service.service_layer.escalation import evaluate_escalations
from control_service.settings import ControlSettings
from ecomops_common.contracts import FINANCE_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, serving

from .conftest import at, event, order_story, publish
from .test_console import OtherServices, signed_in

pytestmark = pytest.mark.integration
YEARS = 10 * 365 * 86400  # an age no story of these tests reaches


@pytest.fixture
async def control(settings_for):
    """The control service escalating refund approvals after a minute, QA decisions after 3 s, write-offs after a
    day; its console's other services answering through OtherServices."""
    settings = settings_for(ControlSettings, warehouse_url="http://warehouse.test", finance_url="http://finance.test",
                            escalation_interval_s=0.2, sla_refund_approval_s=60, sla_qa_decision_s=3,
                            sla_write_off_s=86400, sla_vendor_claim_s=YEARS)
    app = build_app(settings)
    app.state.services = ServiceClient(settings, transport=httpx.MockTransport(OtherServices()))
    async with serving(app) as client:
        yield client


def as_(subject: str, *roles: str) -> dict[str, str]:
    return test_issuer().bearer(subject, *roles)


def claim(status: str, minutes: float, claim_id: str = "vc-1", units: tuple[int, ...] = (1,),
          **amounts: str) -> EventEnvelope:
    lines = [{"rma_id": f"r-{n}", "sku": "SKU-A", "quantity": q, "grade": "D", "reason": "defective",
              "unit_cost": "10.00", "serials": [f"SN-{n}"], "notes": "dead on arrival", "photos": ["ph/1.jpg"]}
             for n, q in enumerate(units)]
    return event("VendorClaimChanged", "returns", claim_id, {
        "claim_id": claim_id, "vendor_id": "V1", "status": status, "currency": "EUR", "lines": lines,
        "claimed_amount": amounts.pop("claimed", "10.00"), "actor": "sam", "at": at(minutes), **amounts}, minutes)


def supplier_story() -> dict[str, list[EventEnvelope]]:
    """SKU-A from V1, SKU-B from V2; two orders ship 4 × SKU-A; V1's claim vc-1 (2 defective units) goes from
    draft to credited, its claim vc-2 gathers lines as a draft; a store credit issued for o-1."""
    day = 60 * 24
    shipped = [order_story(order_id, held=False)[WAREHOUSE_EVENTS] for order_id in ("o-1", "o-2")]
    return {
        WAREHOUSE_EVENTS: [e for story in shipped for e in story],
        RETURNS_EVENTS: [
            event("SkuVendorAssigned", "returns", "SKU-A", {"sku": "SKU-A", "vendor_id": "V1", "assigned_by": "sam",
                                                            "at": at(0)}, 0),
            event("SkuVendorAssigned", "returns", "SKU-B", {"sku": "SKU-B", "vendor_id": "V2", "assigned_by": "sam",
                                                            "at": at(0)}, 0),
            claim("draft", 5 * day, units=(1,)), claim("draft", 5.5 * day, units=(1, 1)),
            claim("submitted", 6 * day, units=(1, 1), claimed="20.00"),
            claim("accepted", 7 * day, units=(1, 1), claimed="20.00", accepted_amount="16.00"),
            claim("credited", 8 * day, units=(1, 1), claimed="20.00", accepted_amount="16.00",
                  credited_amount="16.00", credit_reference="CN-77"),
            claim("draft", 6 * day, claim_id="vc-2", units=(1,)),
            claim("draft", 7 * day, claim_id="vc-2", units=(1, 1))],
        FINANCE_EVENTS: [
            event("StoreCreditChanged", "finance", "c-42", {
                "movement_id": "m-1", "customer_id": "c-42", "kind": "issued", "amount": "5.00", "currency": "EUR",
                "balance": "5.00", "order_id": "o-1", "at": at(9 * day)}, 9 * day),
            event("UnitCostChanged", "finance", "SKU-A", {"sku": "SKU-A", "amount": "10.00", "currency": "EUR",
                                                          "at": at(0)}, 0)],
    }


async def test_supplier_defect_and_recovery_rates(control):
    await publish(control.settings, supplier_story())

    async def vendors() -> list[dict]:
        return (await control.get("/v1/kpis/vendors")).json()

    async def computed() -> bool:
        rows = await vendors()
        return [(r["vendor_id"], r["units_shipped"], r["defective_units"], r["credited"]) for r in rows] == [
            ("V1", 4, 4, "16.00"), ("V2", 0, 0, "0.00")]

    await eventually(computed, timeout=60)
    v1, v2 = await vendors()
    assert v1 == {"vendor_id": "V1", "units_shipped": 4, "defective_units": 4, "defect_rate": 1.0, "currency": "EUR",
                  "claimed": "20.00", "accepted": "16.00", "credited": "16.00", "recovery_rate": 0.8,
                  "open_claims": 1}  # vc-2 is a draft: not claimed yet
    assert (v2["defect_rate"], v2["recovery_rate"], v2["currency"]) == (None, None, None)
    # money: the roles of the other money KPIs
    refused = await control.get("/v1/kpis/vendors", headers=as_("olga", "warehouse-operator"))
    assert refused.status_code == 403 and "finance-clerk" in refused.json()["detail"]
    assert (await control.get("/v1/kpis/vendors", headers=as_("fred", "finance-clerk"))).status_code == 200
    assert (await control.get("/v1/kpis/vendors", headers={"authorization": ""})).status_code == 401

    # the draft gathering lines waits since its first line; the credited claim waits no more
    [waiting] = (await control.get("/v1/inbox", params={"kind": "vendor_claim"})).json()["items"]
    assert (waiting["item_id"], waiting["since"], waiting["escalated"]) == (
        "vendor_claim:vc-2:draft", at(6 * 24 * 60).replace("+00:00", "Z"), False)
    assert "2 units" in waiting["summary"] and waiting["sla_seconds"] == YEARS
    # a later line, read in a batch of its own, keeps the wait's beginning; submitting starts the vendor's wait
    day = 60 * 24
    await publish(control.settings, {RETURNS_EVENTS: [claim("draft", 8 * day, claim_id="vc-2", units=(1, 1, 1))]})

    async def vendor_claim_items() -> list[tuple[str, str, str]]:
        items = (await control.get("/v1/inbox", params={"kind": "vendor_claim"})).json()["items"]
        return [(item["item_id"], item["since"], item["summary"]) for item in items]

    async def third_line() -> bool:
        return "3 units" in (await vendor_claim_items())[0][2]

    await eventually(third_line, timeout=60)
    assert (await vendor_claim_items())[0][:2] == ("vendor_claim:vc-2:draft", at(6 * day).replace("+00:00", "Z"))
    await publish(control.settings, {RETURNS_EVENTS: [claim("submitted", 9 * day, claim_id="vc-2", units=(1, 1, 1),
                                                            claimed="30.00")]})

    async def submitted() -> bool:
        return [item[:2] for item in await vendor_claim_items()] == [
            ("vendor_claim:vc-2:submitted", at(9 * day).replace("+00:00", "Z"))]

    await eventually(submitted, timeout=60)
    [v1, _] = await vendors()  # once submitted, claimed
    assert (v1["defective_units"], v1["defect_rate"], v1["claimed"], v1["credited"], v1["recovery_rate"],
            v1["open_claims"]) == (5, 1.25, "50.00", "16.00", 0.32, 1)

    async def timeline() -> list[str]:
        return [e["event_type"] for e in (await control.get("/v1/orders/o-1")).json()["timeline"]]

    await eventually(lambda: _contains(timeline(), "StoreCreditChanged"), timeout=30)

    sam = await signed_in(control, "sam", "supervisor")
    page = await control.get("/console/finance", headers=sam.headers)
    assert page.status_code == 200 and 'id="vendor-kpis"' in page.text
    assert re.search(r'data-vendor-id="V1" data-currency="EUR">.*?data-defect-rate="1.25">125.0 %.*?'
                     r'data-recovery-rate="0.32">32.0 %', page.text, re.S)
    assert 'href="/console/finance#vendor-kpis"' in (await control.get("/console/kpis", headers=sam.headers)).text
    olga = await signed_in(control, "olga", "warehouse-operator")
    assert (await control.get("/console/finance", headers=olga.headers)).status_code == 403
    assert "vendor-kpis" not in (await control.get("/console/kpis", headers=olga.headers)).text


async def _contains(found, expected: str) -> bool:
    return expected in await found


def recent(event_type: str, source: str, aggregate: str, payload: dict, moment: datetime) -> EventEnvelope:
    """An event of a moment relative to now (escalation is measured on the real clock)."""
    return new_event(event_type, 1, source, "x", aggregate, payload).model_copy(update={"occurred_at": moment})


def exception(exception_id: str, kind: str, status: str, moment: datetime) -> EventEnvelope:
    return recent("WarehouseExceptionChanged", "warehouse", exception_id, {
        "exception_id": exception_id, "kind": kind, "status": status, "node": "WH1", "sku": "SKU-A", "quantity": 2,
        "reason": "quarantine", "actor": "ian" if status == "open" else "sue", "at": moment}, moment)


async def stored_escalation(client, item_id: str) -> datetime | None:
    async with client.unit_of_work() as uow:
        return (await uow.session.execute(text("SELECT escalated_at FROM inbox_items WHERE item_id = :id"),
                                          {"id": item_id})).scalar()


async def test_supervisor_queues_escalate_past_their_ages(control):
    now = datetime.now(UTC)
    pending = now - timedelta(minutes=10)
    await publish(control.settings, {
        RETURNS_EVENTS: [recent("ReturnStatusChanged", "returns", "r-1", {
            "rma_id": "r-1", "order_id": "o-1", "channel": "web-eu", "status": "refund_pending_approval",
            "actor": "policy", "at": pending}, pending)],
        WAREHOUSE_EVENTS: [exception("qa-1", "qa_decision", "open", now), exception("wo-1", "write_off", "open", now)]})

    # recorded by the periodic evaluation, before anyone opens a page: the moment each passed its queue's age
    async def recorded() -> bool:
        return await stored_escalation(control, "qa_decision:qa-1") is not None

    await eventually(recorded, timeout=60)
    assert await stored_escalation(control, "qa_decision:qa-1") == now + timedelta(seconds=3)
    assert await stored_escalation(control, "refund_approval:r-1") == pending + timedelta(minutes=1)
    assert await stored_escalation(control, "write_off:wo-1") is None  # a day to go

    inbox = (await control.get("/v1/inbox")).json()["items"]
    by_id = {item["item_id"]: item for item in inbox}
    qa, refund, write_off = by_id["qa_decision:qa-1"], by_id["refund_approval:r-1"], by_id["write_off:wo-1"]
    assert (qa["escalated"], qa["sla_seconds"], qa["escalated_at"]) == (
        True, 3, (now + timedelta(seconds=3)).isoformat().replace("+00:00", "Z"))
    assert qa["age_seconds"] >= 3 and qa["breached"]
    assert (refund["escalated"], refund["sla_seconds"], refund["age_seconds"] >= 600) == (True, 60, True)
    assert (write_off["escalated"], write_off["escalated_at"], write_off["sla_seconds"]) == (False, None, 86400)
    assert write_off["age_seconds"] < 86400 and not write_off["breached"]

    escalated = (await control.get("/v1/inbox", params={"escalated": "true"})).json()
    assert sorted(item["item_id"] for item in escalated["items"]) == ["qa_decision:qa-1", "refund_approval:r-1"]
    assert escalated["total"] == 2
    others = (await control.get("/v1/inbox", params={"escalated": "false"})).json()["items"]
    assert [item["item_id"] for item in others] == ["write_off:wo-1"]
    refused = await control.get("/v1/inbox", params={"escalated": "maybe"})
    assert refused.status_code == 422 and "escalated" in refused.text

    backlog = {row["kind"]: row for row in (await control.get("/v1/kpis/backlog_ageing")).json()["rows"]}
    assert (backlog["qa_decision"]["past_sla"], backlog["write_off"]["past_sla"]) == (1, 0)  # the configured ages
    metrics = (await control.get("/metrics")).text
    assert 'ecomops_inbox_escalated_items{queue="qa_decision"} 1.0' in metrics
    assert 'ecomops_inbox_escalated_items{queue="write_off"} 0.0' in metrics

    # once recorded it stays, run after run, even with longer ages configured since
    async with control.unit_of_work() as uow:
        counts = await evaluate_escalations(uow, {**control.settings.escalation_slas(),
                                                  "qa_decision": timedelta(days=1)})
    assert counts == {"refund_approval": 1, "qa_decision": 1, "write_off": 0, "vendor_claim": 0}
    assert await stored_escalation(control, "qa_decision:qa-1") == now + timedelta(seconds=3)

    sam = await signed_in(control, "sam", "supervisor")
    page = await control.get("/console/inbox?escalated=true", headers=sam.headers)
    assert page.status_code == 200
    assert sorted(re.findall(r'data-item-id="([^"]+)"[^>]*data-escalated="true"', page.text)) == [
        "qa_decision:qa-1", "refund_approval:r-1"]
    assert 'class="badge escalated"' in page.text and 'id="escalated" value="true" checked' in page.text
    assert 'data-item-id="write_off:wo-1"' not in page.text
    bad = await control.get("/console/inbox?escalated=maybe", headers=sam.headers)
    assert bad.status_code == 422 and "escalated" in bad.text

    # decided: out of the queue and of the gauge
    decided = now + timedelta(seconds=1)
    await publish(control.settings, {WAREHOUSE_EVENTS: [exception("qa-1", "qa_decision", "resolved", decided)]})

    async def gauge_cleared() -> bool:
        return 'ecomops_inbox_escalated_items{queue="qa_decision"} 0.0' in (await control.get("/metrics")).text

    await eventually(gauge_cleared, timeout=60)
    assert [i["item_id"] for i in (await control.get("/v1/inbox", params={"escalated": "true"})).json()["items"]] == [
        "refund_approval:r-1"]

