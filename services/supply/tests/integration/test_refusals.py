"""Bad input gets a 4xx naming each field (never a 500), unknown things a 404, missing or wrong roles 401/403."""

from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.auth import BUYER, CUSTOMER_SERVICE

from .conftest import as_, in_catalog, sku_changed

pytestmark = pytest.mark.integration
BOB = as_("bob.buyer", BUYER)


def fields(answer) -> set[str]:
    assert answer.status_code == 422, answer.text
    return {".".join(str(part) for part in detail["loc"][1:]) for detail in answer.json()["detail"]}


def days_ahead(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def test_every_bad_field_is_named(supply):
    await in_catalog(supply, sku_changed("MUG"), sku_changed("SET", components=[{"sku": "MUG", "quantity": 2}]),
                     sku_changed("FREE", unit_cost=None, currency=None))
    malformed = await supply.post("/v1/purchase-orders", headers=BOB, json={
        "vendor_id": "", "node": "B E R", "currency": "ZZZ", "expected_date": "2026-13-01", "created_by": "eve",
        "lines": [{"sku": "MUG", "quantity": 0, "unit_cost": "-1"}, {"sku": "MUG", "quantity": 10**12,
                                                                    "unit_cost": 2.5}]})
    assert fields(malformed) == {"vendor_id", "node", "currency", "expected_date", "created_by", "lines.0.quantity",
                                 "lines.0.unit_cost", "lines.1.quantity", "lines.1.unit_cost"}
    refused = await supply.post("/v1/purchase-orders", headers=BOB, json={
        "vendor_id": "acme", "node": "BER1", "currency": "EUR", "expected_date": days_ahead(-1),
        "lines": [{"sku": "GHOST", "quantity": 1}, {"sku": "SET", "quantity": 1}, {"sku": "FREE", "quantity": 1},
                  {"sku": "MUG", "quantity": 1, "unit_cost": "9999999999999"}, {"sku": "MUG", "quantity": 1}]})
    assert fields(refused) == {"lines.0.sku", "lines.1.sku", "lines.2.unit_cost"}
    rules = await supply.post("/v1/purchase-orders", headers=BOB, json={
        "vendor_id": "acme", "node": "BER1", "currency": "EUR", "expected_date": days_ahead(-1),
        "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "MUG", "quantity": 1, "line_id": "1"}]})
    assert fields(rules) == {"expected_date", "lines.1.sku", "lines.1.line_id"}
    assert fields(await supply.post("/v1/purchase-orders", headers=BOB, json={"lines": []})) >= {"lines", "node"}
    not_json = await supply.post("/v1/purchase-orders", headers={**BOB, "content-type": "application/json"},
                                 content=b"{nope")
    assert not_json.status_code == 422

    history = await supply.post("/v1/demand-history", headers=BOB, json={"node": "BER1", "days": [
        {"sku": "MUG", "date": days_ahead(1), "shipped": 1}, {"sku": "MUG", "date": days_ahead(-1), "shipped": -1},
        {"sku": "M U G", "date": "yesterday", "shipped": 1, "returned": 2}]})
    assert fields(history) == {"days.1.shipped", "days.2.sku", "days.2.date", "days.2.returned"}
    future = await supply.post("/v1/demand-history", headers=BOB, json={"node": "BER1", "days": [
        {"sku": "MUG", "date": days_ahead(1), "shipped": 1}, {"sku": "MUG", "date": days_ahead(-2), "shipped": 1},
        {"sku": "MUG", "date": days_ahead(-2), "shipped": 2}]})
    assert fields(future) == {"days.0.date", "days.2"}

    po = (await supply.post("/v1/purchase-orders", headers=BOB, json={
        "vendor_id": "acme", "node": "BER1", "currency": "EUR", "expected_date": days_ahead(3),
        "lines": [{"sku": "MUG", "quantity": 5}]})).json()
    await supply.post(f"/v1/purchase-orders/{po['po_id']}/approve", headers=BOB)
    await supply.post(f"/v1/purchase-orders/{po['po_id']}/send", headers=BOB)
    asn = await supply.post(f"/v1/purchase-orders/{po['po_id']}/asns", headers=BOB, json={
        "asn_id": "ASN 1", "expected_date": days_ahead(-3), "lines": [{"po_line_id": "7", "quantity": 0}]})
    assert fields(asn) == {"asn_id", "lines.0.quantity"}
    asn = await supply.post(f"/v1/purchase-orders/{po['po_id']}/asns", headers=BOB, json={
        "asn_id": "ASN-1", "expected_date": days_ahead(2), "lines": [{"po_line_id": "7", "quantity": 1},
                                                                    {"po_line_id": "1", "quantity": 6}]})
    assert fields(asn) == {"lines.0.po_line_id", "lines.1.quantity"}
    past = await supply.post(f"/v1/purchase-orders/{po['po_id']}/asns", headers=BOB, json={
        "asn_id": "ASN-1", "expected_date": days_ahead(-1), "lines": [{"po_line_id": "1", "quantity": 1}]})
    assert fields(past) == {"expected_date"}
    bad_query = await supply.get("/v1/purchase-orders", params={"status": "lost", "limit": 0})
    assert {detail["loc"][1] for detail in bad_query.json()["detail"]} == {"status", "limit"}


async def test_unknown_orders_are_not_found_and_roles_are_checked(supply):
    assert (await supply.get("/v1/purchase-orders/PO-none")).status_code == 404
    for step in ("approve", "send", "cancel", "close"):
        assert (await supply.post(f"/v1/purchase-orders/PO-none/{step}", headers=BOB)).status_code == 404
    assert (await supply.post("/v1/purchase-orders/PO-none/asns", headers=BOB, json={
        "asn_id": "A", "expected_date": days_ahead(1), "lines": [{"po_line_id": "1", "quantity": 1}]})).status_code \
        == 404
    assert (await supply.get("/v1/replenishment", headers={"authorization": ""})).status_code == 401
    assert (await supply.get("/v1/purchase-orders", headers=as_("cs", CUSTOMER_SERVICE))).status_code == 403
    assert (await supply.post("/v1/replenishment/purchase-orders", headers=as_("cs", CUSTOMER_SERVICE),
                              json={"node": "BER1"})).status_code == 403
    nothing = await supply.post("/v1/replenishment/purchase-orders", headers=BOB,
                                json={"node": "BER1", "skus": ["MUG"]})
    assert nothing.json() == {"purchase_orders": [], "skipped": [
        {"sku": "MUG", "reason": "no demand, stock or units on order at BER1"}]}
