"""Purchasing on Kafka and PostgreSQL: the SKU master's unit costs (catalog.skus.v1), goods received against
purchase orders (warehouse.events.v1) and vendor invoices matched three ways over HTTP."""

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from ecomops_common.auth import AUDITOR
from ecomops_common.contracts import CATALOG_SKUS, FINANCE_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.catalog import SkuChanged, SkuStatus
from ecomops_common.contracts.warehouse import GoodsReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
AUDITOR_ANA = test_issuer().bearer("aud:ana", AUDITOR)


def sku_changed(sku: str, revision: int, unit_cost: str | None, **changes):
    return new_event("SkuChanged", 1, "test", "sku", sku, SkuChanged(
        sku=sku, revision=revision, status=SkuStatus.active, name=sku, unit_cost=D(unit_cost) if unit_cost else None,
        currency="EUR" if unit_cost else None, changed_by="merch:mia", changed_at=NOW, **changes))


def goods_received(receipt_id: str, sku: str, quantity: int, unit_cost: str | None, po_id: str = "PO-1"):
    return new_event("GoodsReceived", 1, "test", "purchase_order", po_id, GoodsReceived(
        receipt_id=receipt_id, po_id=po_id, asn_id="ASN-1", node="BER1", sku=sku, quantity=quantity,
        unit_cost=D(unit_cost) if unit_cost else None, currency="EUR" if unit_cost else None, received_by="op-7",
        received_at=NOW))


async def publish(finance, topic: str, *events) -> None:
    await produce_events(finance.settings.kafka_bootstrap_servers, finance.settings.topic(topic), list(events))


def of_type(records, event_type: str) -> list:
    return [record for record in records if dict(record.headers)["event_type"] == event_type.encode()]


async def costs(finance) -> dict[str, dict]:
    return {row["sku"]: row for row in (await finance.get("/v1/costs")).json()}


async def test_the_sku_masters_costs_replace_hand_set_ones_newest_revision_first(finance):
    await publish(finance, CATALOG_SKUS, sku_changed("SKU-CAT", 2, "4.10"), sku_changed("SKU-CAT", 1, "1.00"),
                  sku_changed("SKU-FREE", 1, None))

    async def costed() -> bool:
        return "SKU-CAT" in await costs(finance)

    await eventually(costed)
    row = (await costs(finance))["SKU-CAT"]
    assert (row["amount"], row["currency"], row["updated_by"], row["from_catalog"]) == (
        "4.10", "EUR", "merch:mia", True)
    refused = await finance.put("/v1/costs/SKU-CAT", json={"amount": "1.00", "currency": "EUR"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == ("the unit cost of SKU-CAT comes from the SKU master (catalog revision 2); "
                                        "change it in the catalog")
    # a SKU the catalog does not cost is still costed by hand
    assert (await finance.put("/v1/costs/SKU-FREE", json={"amount": "2.00", "currency": "EUR"})).status_code == 200
    assert (await costs(finance))["SKU-FREE"]["from_catalog"] is False

    # a revision that changes no cost announces nothing; the next cost is announced like any
    await publish(finance, CATALOG_SKUS, sku_changed("SKU-CAT", 3, "4.10", weight_kg=1.5),
                  sku_changed("SKU-CAT", 4, "4.25"))
    settings = finance.settings
    changed = of_type(await consume_until(
        settings.kafka_bootstrap_servers, settings.topic(FINANCE_EVENTS),
        lambda records: len(of_type(records, "UnitCostChanged")) >= 3), "UnitCostChanged")
    assert sorted((r.key, json.loads(r.value)["payload"]["amount"]) for r in changed) == [
        (b"SKU-CAT", "4.10"), (b"SKU-CAT", "4.25"), (b"SKU-FREE", "2.00")]
    assert (await costs(finance))["SKU-CAT"]["amount"] == "4.25"


async def test_goods_received_are_posted_once_and_invoices_match_them_three_ways(finance):
    await publish(finance, WAREHOUSE_EVENTS, goods_received("rc-1", "SKU-A", 3, "3.333"),
                  goods_received("rc-1", "SKU-A", 3, "3.333"),  # the same receipt again, another event
                  goods_received("rc-2", "SKU-B", 10, None))  # no cost on the receipt and none in finance yet

    async def pending() -> bool:
        return [row["waiting_for"] for row in (await finance.get("/v1/postings/pending")).json()] == ["cost:SKU-B"]

    await eventually(pending)
    assert (await finance.put("/v1/costs/SKU-B", json={"amount": "1.00", "currency": "EUR"})).status_code == 200

    async def both_posted() -> bool:
        return len((await finance.get("/v1/journal", params={"kind": "goods_received"})).json()) == 2

    await eventually(both_posted)
    grni = (await finance.get("/v1/grni")).json()
    assert [(line["po_id"], line["sku"], line["received_quantity"], line["received_value"], line["open_value"])
            for line in grni["lines"]] == [("PO-1", "SKU-A", 3, "10.00", "10.00"), ("PO-1", "SKU-B", 10, "10.00",
                                                                                    "10.00")]
    assert grni["totals"] == [{"currency": "EUR", "open_value": "20.00", "grni_in_ledger": "20.00",
                               "ledger_agrees": True}]

    body = {"invoice_id": "INV-1", "po_id": "PO-1", "vendor_id": "V-1", "currency": "EUR",
            "lines": [{"sku": "SKU-A", "quantity": 2, "unit_price": "3.50"},
                      {"sku": "SKU-B", "quantity": 11, "unit_price": "0.95"}]}
    beyond = await finance.post("/v1/vendor-invoices", json=body)
    assert beyond.status_code == 422, beyond.text
    assert [(e["loc"], e["type"]) for e in beyond.json()["detail"]] == [
        (["body", "lines", "1", "quantity"], "three_way_match")]
    assert "only 10 of PO PO-1 were received and not invoiced yet" in beyond.json()["detail"][0]["msg"]

    body["lines"][1]["quantity"] = 10
    created = await finance.post("/v1/vendor-invoices", json=body)
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert (invoice["amount"], invoice["received_cost"], invoice["price_variance"], invoice["recorded_by"]) == (
        "16.50", "16.67", "-0.17", "fin:maria")
    assert [(line["sku"], line["received_cost"], line["price_variance"]) for line in invoice["lines"]] == [
        ("SKU-A", "6.67", "0.33"), ("SKU-B", "10.00", "-0.50")]
    resent = await finance.post("/v1/vendor-invoices", json=body)
    assert (resent.status_code, resent.json()) == (200, invoice)
    assert (await finance.get("/v1/vendor-invoices/INV-1", headers=AUDITOR_ANA)).json() == invoice
    assert (await finance.get("/v1/vendor-invoices/INV-404")).status_code == 404
    other = await finance.post("/v1/vendor-invoices", json={**body, "lines": body["lines"][:1]})
    assert other.status_code == 409

    [entry] = (await finance.get("/v1/journal", params={"kind": "vendor_invoice"})).json()
    assert (entry["id"], entry["source_id"], entry["posted_by"]) == (invoice["entry_id"], "INV-1", "fin:maria")
    assert {(line["account"], line["debit"], line["credit"]) for line in entry["lines"]} == {
        ("2160", "6.67", "0.00"), ("5150", "0.33", "0.00"), ("2160", "10.00", "0.00"), ("5150", "0.00", "0.50"),
        ("2150", "0.00", "16.50")}
    grni = (await finance.get("/v1/grni", params={"open_only": "true"}, headers=AUDITOR_ANA)).json()
    assert [(line["sku"], line["invoiced_quantity"], line["open_quantity"], line["open_value"],
             line["price_variance"]) for line in grni["lines"]] == [("SKU-A", 2, 1, "3.33", "0.33")]
    assert grni["totals"][0]["ledger_agrees"] is True and grni["totals"][0]["open_value"] == "3.33"
    assert "PO-1,SKU-A,EUR,3,10.00,2,6.67,7.00,0.33,1,3.33" in (await finance.get(
        "/v1/grni", params={"format": "csv"})).text

    # another vendor on the same PO, or the last unit twice, does not match
    second = {"invoice_id": "INV-2", "po_id": "PO-1", "vendor_id": "V-2", "currency": "EUR",
              "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "3.40"},
                        {"sku": "SKU-A", "quantity": 1, "unit_price": "3.40"}]}
    refused = await finance.post("/v1/vendor-invoices", json=second)
    assert [e["loc"] for e in refused.json()["detail"]] == [["body", "vendor_id"], ["body", "lines", "1", "quantity"]]
    assert (await finance.get("/v1/vendor-invoices/INV-2")).status_code == 404

    # the same invoice sent twice at once: recorded once, the other answers it
    last = {**second, "invoice_id": "INV-3", "vendor_id": "V-1", "lines": second["lines"][:1]}
    both = await asyncio.gather(*[finance.post("/v1/vendor-invoices", json=last) for _ in range(2)])
    assert sorted(answer.status_code for answer in both) == [200, 201]
    assert both[0].json() == both[1].json()
    assert len((await finance.get("/v1/journal", params={"kind": "vendor_invoice"})).json()) == 2


@pytest.mark.parametrize("change, field", [
    ({"currency": "eur"}, ["body", "currency"]), ({"currency": "XXX"}, ["body", "currency"]),
    ({"lines": []}, ["body", "lines"]), ({"invoice_id": ""}, ["body", "invoice_id"]),
    ({"po_id": "P" * 65}, ["body", "po_id"]),
    ({"lines": [{"sku": "SKU-A", "quantity": 0, "unit_price": "1.00"}]}, ["body", "lines", 0, "quantity"]),
    ({"lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": 1.5}]}, ["body", "lines", 0, "unit_price"]),
    ({"lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "-1"}]}, ["body", "lines", 0, "unit_price"]),
    ({"lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "1e30"}]}, ["body", "lines", 0, "unit_price"]),
    ({"lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "99999999999.99"}]}, ["body", "lines", "0",
                                                                                   "quantity"]),
])
async def test_a_malformed_or_unmatched_invoice_is_refused_naming_its_field(finance, change, field):
    body = {"invoice_id": "INV-9", "po_id": "PO-9", "vendor_id": "V-1", "currency": "EUR",
            "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "1.00"}], **change}
    refused = await finance.post("/v1/vendor-invoices", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == field
