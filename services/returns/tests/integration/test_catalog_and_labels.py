"""The catalog's SKUs and the shipping service's return labels on Kafka and PostgreSQL: the catalog's rules decide
returns over the order line's flags (its newest revision), its hazmat class forces quarantine, and an RMA shows
the return label issued for it, once."""

import pytest

from ecomops_common.contracts import CATALOG_SKUS, SHIPPING_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.shipping import ReturnLabelIssued
from ecomops_common.contracts.warehouse import ReturnInspected, ReturnReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import eventually, produce_events

from .conftest import sku_changed, sold_and_delivered
from .test_vendor_claims import events_of

pytestmark = pytest.mark.integration
AT = "2026-11-25T10:00:00Z"


def request(request_id: str, sku: str) -> dict:
    return {"channel": "web-eu", "request_id": request_id, "order_id": "o-cat1", "reason": "changed_mind",
            "lines": [{"sku": sku, "quantity": 1}]}


async def catalog_says(returns, *changes) -> None:
    """The catalog's SKU records, produced and waited for (each SKU's newest revision stored)."""
    settings = returns.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(CATALOG_SKUS), list(changes))
    newest = {}
    for change in changes:
        newest[change.payload["sku"]] = max(newest.get(change.payload["sku"], 0), change.payload["revision"])

    async def stored() -> bool:
        async with returns.unit_of_work() as uow:
            return await uow.returns.catalog_revisions(newest) == newest

    await eventually(stored)


async def test_the_catalogs_rules_decide_returns_over_the_order_lines(returns):
    # The order line says apparel and not final sale; the catalog says otherwise.
    await sold_and_delivered(returns, "o-cat1", [("1", "SOCKS", 2), ("2", "BATTERY", 1)])
    await catalog_says(returns, sku_changed("SOCKS", 1), sku_changed("SOCKS", 2, final_sale=True),
                       sku_changed("BATTERY", 1, category="electronics", hazmat_class="UN3480"),
                       sku_changed("SOCKS", 1, returnable=False))  # an older revision, late: ignored
    refused = await returns.post("/v1/returns", json=request("r-1", "SOCKS"))
    assert refused.status_code == 422
    assert [(d["type"], d["loc"]) for d in refused.json()["detail"]] == [
        ("final_sale", ["body", "lines", "0", "line_id"])]

    await catalog_says(returns, sku_changed("SOCKS", 3, return_window_days=0))
    closed = await returns.post("/v1/returns", json=request("r-2", "SOCKS"))
    assert [d["type"] for d in closed.json()["detail"]] == ["outside_return_window"]

    created = await returns.post("/v1/returns", json=request("r-3", "BATTERY"))
    assert created.status_code == 201, created.text
    rma_id = created.json()["id"]
    assert created.json()["lines"][0]["category"] == "electronics"  # the catalog's, not the order line's
    settings = returns.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
        new_event("ReturnReceived", 1, "warehouse", "return", rma_id, ReturnReceived(
            rma_id=rma_id, node="BER1", sku="BATTERY", quantity=1, condition="new", received_at=AT)),
        new_event("ReturnInspected", 1, "warehouse", "return", rma_id, ReturnInspected(
            rma_id=rma_id, node="BER1", sku="BATTERY", quantity=1, condition="new", inspected_at=AT))])
    [decided] = await events_of(settings, "ReturnDispositionDecided", 1)
    assert (decided["disposition"], decided["rule_id"], decided["hazardous"]) == ("quarantine", "hazmat-class",
                                                                                 True)


async def test_the_rma_shows_its_return_label(returns):
    settings = returns.settings
    await sold_and_delivered(returns, "o-cat1", [("1", "SHIRT", 1)])
    rma_id = (await returns.post("/v1/returns", json=request("r-1", "SHIRT"))).json()["id"]
    assert (await returns.get(f"/v1/returns/{rma_id}")).json()["return_label"] is None
    label = new_event("ReturnLabelIssued", 1, "shipping", "return_label", rma_id, ReturnLabelIssued(
        rma_id=rma_id, order_id="o-cat1", carrier="dhl", service="ground", tracking_number="RT-1",
        label_url="https://labels.example/RT-1.pdf", cost="4.20", currency="EUR", issued_at=AT))
    unknown = new_event("ReturnLabelIssued", 1, "shipping", "return_label", "RMA-404",
                        {**label.payload, "rma_id": "RMA-404"})
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(SHIPPING_EVENTS), [unknown, label, label])

    async def labelled() -> bool:
        return (await returns.get(f"/v1/returns/{rma_id}")).json()["return_label"] is not None

    await eventually(labelled)
    rma = (await returns.get(f"/v1/returns/{rma_id}")).json()
    assert rma["return_label"] == {"carrier": "dhl", "service": "ground", "tracking_number": "RT-1",
                                   "label_url": "https://labels.example/RT-1.pdf", "cost": "4.20",
                                   "currency": "EUR", "issued_at": "2026-11-25T10:00:00Z"}
    assert [(s["stage"], s["actor"]) for s in rma["timeline"]] == [("authorized", "test-admin"),
                                                                   ("return_label_issued", "shipping")]
