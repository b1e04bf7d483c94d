"""Supplier recovery and hazardous returns on Kafka and PostgreSQL: SKUs' vendors, finance's unit costs, defective
returns accumulating into a vendor's claim from both kinds of inspection, the claim's steps with who took them,
and hazardous categories forced to quarantine."""

import json

import pytest

from ecomops_common.auth import FINANCE_CLERK, INSPECTOR, SUPERVISOR
from ecomops_common.contracts import CATALOG_SKUS, FINANCE_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.warehouse import ReturnInspected, ReturnReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

from .conftest import as_, sku_changed, sold_and_delivered

pytestmark = pytest.mark.integration
AT = "2026-11-25T10:00:00Z"


def warehouse_event(event_type: str, rma_id: str, payload):
    return new_event(event_type, 1, "warehouse", "return", rma_id, payload)


async def events_of(settings, event_type: str, count: int) -> list[dict]:
    def of_type(records) -> list[dict]:
        return [json.loads(r.value)["payload"] for r in records
                if dict(r.headers)["event_type"] == event_type.encode()]

    return of_type(await consume_until(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS),
                                       lambda rs: len(of_type(rs)) >= count))


async def test_defective_returns_accumulate_into_the_vendors_claim_which_goes_to_credit(returns):
    settings = returns.settings
    sam, bo, ola = as_("sup:sam", SUPERVISOR), as_("clerk:bo", FINANCE_CLERK), as_("op-7", INSPECTOR)
    await sold_and_delivered(returns, "o-vc1", [("1", "KETTLE", 3)], categories={"1": "kitchen"})

    # The SKU's vendor is the catalog's: no route assigns one by hand.
    assert (await returns.put("/v1/vendors/skus/KETTLE", json={"vendor_id": "acme"}, headers=sam)).status_code \
        in (404, 405)
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(CATALOG_SKUS), [
        sku_changed("KETTLE", 1, category="kitchen", vendor_id="acme", vendor_sku="AC-K1")])

    async def vendor_known() -> bool:
        return bool((await returns.get("/v1/vendors/skus", headers=bo)).json())

    await eventually(vendor_known)
    [vendor_row] = (await returns.get("/v1/vendors/skus", headers=bo)).json()
    assert (vendor_row["sku"], vendor_row["vendor_id"], vendor_row["assigned_by"]) == ("KETTLE", "acme", "merch:mia")

    assert (await returns.put("/v1/rules/vendor-claims", json={"reasons": ["defective"], "grades": ["C"]},
                              headers=sam)).status_code == 403
    invalid = await returns.put("/v1/rules/vendor-claims", json={"reasons": ["meh"], "grades": ["E"]})
    assert {d["loc"][1] for d in invalid.json()["detail"]} == {"reasons", "grades"}
    rule = await returns.put("/v1/rules/vendor-claims", json={"reasons": ["defective"], "grades": ["C", "D"]})
    assert (rule.status_code, sorted(rule.json()["rule"]["grades"])) == (200, ["C", "D"])

    created = await returns.post("/v1/returns", json={
        "channel": "web-eu", "request_id": "vc-1", "order_id": "o-vc1", "reason": "defective",
        "photos": ["https://photos.example/k1.jpg"], "lines": [{"sku": "KETTLE", "quantity": 2}]})
    rma_id = created.json()["id"]
    inspected = warehouse_event("ReturnInspected", rma_id, ReturnInspected(
        rma_id=rma_id, node="BER1", sku="KETTLE", quantity=1, condition="damaged", inspected_at=AT, serial="SN-1",
        inspector="op-3"))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
        warehouse_event("ReturnReceived", rma_id, ReturnReceived(
            rma_id=rma_id, node="BER1", sku="KETTLE", quantity=2, condition="damaged", received_at=AT)),
        inspected, inspected])  # redelivered: one line

    async def one_line() -> bool:
        claims = (await returns.get("/v1/vendor-claims", params={"vendor_id": "acme"}, headers=bo)).json()
        return bool(claims) and len(claims[0]["lines"]) == 1

    await eventually(one_line)
    bench = await returns.post(f"/v1/returns/{rma_id}/inspections", headers=ola, json={
        "sku": "KETTLE", "quantity": 1, "grade": "D", "notes": "heating element burnt out"})
    assert bench.status_code == 200, bench.text
    [claim] = (await returns.get("/v1/vendor-claims", params={"vendor_id": "acme", "status": "draft"})).json()
    assert [(line["grade"], line["serials"], line["notes"], line["vendor_sku"], line["unit_cost"])
            for line in claim["lines"]] == [("C", ["SN-1"], None, "AC-K1", None),
                                            ("D", [], "heating element burnt out", "AC-K1", None)]
    assert all(line["photos"] == ["https://photos.example/k1.jpg"] and line["rma_id"] == rma_id
               for line in claim["lines"])

    submit = f"/v1/vendor-claims/{claim['id']}/submit"
    no_cost = await returns.post(submit, json={}, headers=sam)
    assert no_cost.status_code == 409 and "lines.0 (KETTLE" in no_cost.json()["detail"]
    cost = new_event("UnitCostChanged", 1, "finance", "sku", "KETTLE", UnitCostChanged(
        sku="KETTLE", amount="6.25", currency="EUR", at=AT))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS), [cost])

    async def cost_known() -> bool:
        async with returns.unit_of_work() as uow:
            return "KETTLE" in await uow.returns.unit_costs(["KETTLE"])

    await eventually(cost_known)
    assert (await returns.post(submit, json={}, headers=bo)).status_code == 403
    submitted = await returns.post(submit, json={"note": "November batch"}, headers=sam)
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["status"], submitted.json()["claimed_amount"], submitted.json()["currency"]) == (
        "submitted", "12.50", "EUR")

    response, credit = f"/v1/vendor-claims/{claim['id']}/vendor-response", f"/v1/vendor-claims/{claim['id']}/credit"
    early = await returns.post(credit, json={"amount": "1.00", "reference": "CN-1"}, headers=bo)
    assert early.status_code == 409 and "submitted" in early.json()["detail"]
    for amount in ("12.50", "0", "abc"):
        refused = await returns.post(response, json={"outcome": "partially_accepted", "accepted_amount": amount},
                                     headers=bo)
        assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["body", "accepted_amount"])
    partial = await returns.post(response, json={"outcome": "partially_accepted", "accepted_amount": "10.00",
                                                 "note": "one unit out of warranty"}, headers=bo)
    assert (partial.status_code, partial.json()["accepted_amount"]) == (200, "10.00")
    too_much = await returns.post(credit, json={"amount": "10.01", "reference": "CN-1"}, headers=bo)
    assert (too_much.status_code, too_much.json()["detail"][0]["loc"]) == (422, ["body", "amount"])
    assert (await returns.post(credit, json={"amount": "10.00", "reference": "CN-1"}, headers=sam)).status_code == 403
    credited = await returns.post(credit, json={"amount": "10.00", "reference": "CN-1"}, headers=bo)
    assert (credited.status_code, credited.json()["status"]) == (200, "credited")
    again = await returns.post(submit, json={}, headers=sam)
    assert again.status_code == 409 and "credited" in again.json()["detail"]
    assert (await returns.get("/v1/vendor-claims/VC-404")).status_code == 404

    timeline = (await returns.get(f"/v1/vendor-claims/{claim['id']}", headers=bo)).json()["timeline"]
    assert [(step["action"], step["actor"]) for step in timeline] == [
        ("opened", "returns"), ("line_added", "op-3"), ("line_added", "op-7"), ("submitted", "sup:sam"),
        ("partially_accepted", "clerk:bo"), ("credited", "clerk:bo")]
    changes = await events_of(settings, "VendorClaimChanged", 5)
    assert [(c["status"], c["actor"], len(c["lines"])) for c in changes] == [
        ("draft", "op-3", 1), ("draft", "op-7", 2), ("submitted", "sup:sam", 2),
        ("partially_accepted", "clerk:bo", 2), ("credited", "clerk:bo", 2)]
    assert (changes[-1]["claimed_amount"], changes[-1]["accepted_amount"], changes[-1]["credited_amount"],
            changes[-1]["credit_reference"]) == ("12.50", "10.00", "10.00", "CN-1")
    [vendor] = await events_of(settings, "SkuVendorAssigned", 1)
    assert (vendor["sku"], vendor["vendor_id"], vendor["vendor_sku"], vendor["assigned_by"]) == (
        "KETTLE", "acme", "AC-K1", "merch:mia")


async def test_a_hazardous_category_is_forced_to_quarantine(returns):
    settings = returns.settings
    await sold_and_delivered(returns, "o-hz1", [("1", "POWERBANK", 1)], categories={"1": "lithium"})
    assert (await returns.put("/v1/rules/hazardous-categories", json={"categories": ["lithium"]},
                              headers=as_("sup:sam", SUPERVISOR))).status_code == 403
    empty_name = await returns.put("/v1/rules/hazardous-categories", json={"categories": [""]})
    assert (empty_name.status_code, empty_name.json()["detail"][0]["loc"][1]) == (422, "categories")
    assert (await returns.put("/v1/rules/hazardous-categories", json={"categories": ["lithium"]})).status_code == 200
    stored = (await returns.get("/v1/rules/hazardous-categories")).json()
    assert (stored["rule"]["categories"], stored["default"]) == (["lithium"], False)

    created = await returns.post("/v1/returns", json={
        "channel": "web-eu", "request_id": "hz-1", "order_id": "o-hz1", "reason": "changed_mind",
        "lines": [{"sku": "POWERBANK", "quantity": 1}]})
    rma_id = created.json()["id"]
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
        warehouse_event("ReturnReceived", rma_id, ReturnReceived(
            rma_id=rma_id, node="BER1", sku="POWERBANK", quantity=1, condition="new", received_at=AT)),
        warehouse_event("ReturnInspected", rma_id, ReturnInspected(
            rma_id=rma_id, node="BER1", sku="POWERBANK", quantity=1, condition="new", inspected_at=AT))])
    [decided] = await events_of(settings, "ReturnDispositionDecided", 1)
    assert (decided["disposition"], decided["rule_id"], decided["hazardous"], decided["category"], decided["grade"]) \
        == ("quarantine", "hazardous-category", True, "lithium", "A")  # grade A would be restocked
