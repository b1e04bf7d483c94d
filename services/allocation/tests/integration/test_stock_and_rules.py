"""Stock levels (inventory.stock.v1 and the admin endpoint), shrinkage, availability and channel rules."""

import json
from datetime import UTC, datetime

import pytest

from ecomops_common.auth import ADMIN
from ecomops_common.contracts import INVENTORY_AVAILABILITY, INVENTORY_STOCK, ORDER_EVENTS
from ecomops_common.contracts.inventory import StockLevelChanged
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce, produce_events
from ecomops_common.testing.samples import order_placed

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 22, 8, tzinfo=UTC)


def stock_level(sku: str, node: str, units: int, version: int, reason: str = "count"):
    return new_event("StockLevelChanged", 1, "warehouse", "stock_position", f"{sku}@{node}", StockLevelChanged(
        sku=sku, node=node, sellable_on_hand=units, reason=reason, as_of=T0, version=version))


async def test_shrinkage_re_sources_the_newest_orders_and_raises_an_exception(allocation, allocation_results):
    settings = allocation.settings
    bootstrap, stock_topic = settings.kafka_bootstrap_servers, settings.topic(INVENTORY_STOCK)
    await produce_events(bootstrap, stock_topic, [stock_level("A", "WH1", 3, 1, "receipt"),
                                                  stock_level("A", "WH2", 1, 1, "receipt")])
    await consume_until(bootstrap, settings.topic(INVENTORY_AVAILABILITY), lambda rs: any(
        json.loads(r.value)["payload"]["atp"] == 4 for r in rs))
    await produce_events(bootstrap, settings.topic(ORDER_EVENTS), [
        order_placed("old", [("1", "A", 2)], placed_at="2026-11-20T10:00:00Z", country="DE"),
        order_placed("new", [("1", "A", 1)], placed_at="2026-11-20T11:00:00Z", country="DE")])
    results = await allocation_results(settings, lambda latest: {"old", "new"} <= set(latest))
    assert [line["node"] for line in results["new"]["lines"]] == ["WH1"]

    # A count finds 2 of A at WH1 (3 reserved), and a stale level, committed before it, arrives late.
    await produce_events(bootstrap, stock_topic, [stock_level("A", "WH1", 2, 3), stock_level("A", "WH1", 9, 2)])
    results = await allocation_results(settings, lambda latest: latest.get("new", {}).get("reason") == "shrinkage")
    assert results["new"]["lines"] == [{"line_id": "1", "sku": "A", "node": "WH2", "quantity": 1}]
    assert results["new"]["revision"] == 2 and results["old"]["revision"] == 1  # the older order kept its units

    exceptions = (await allocation.get("/v1/exceptions")).json()
    assert [(e["sku"], e["node"], e["shortfall"], e["affected_order_ids"]) for e in exceptions] == [
        ("A", "WH1", 1, ["new"])]
    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert [(n["node"], n["on_hand"], n["reserved"]) for n in availability["nodes"]] == [("WH1", 2, 2), ("WH2", 1, 1)]

    # The warehouse's count is back: the extra unit is promised again, not the stale 9.
    await produce_events(bootstrap, stock_topic, [stock_level("A", "WH1", 3, 4)])

    async def counted_again() -> bool:
        availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
        return availability["nodes"][0]["on_hand"] == 3

    await eventually(counted_again)
    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert availability["atp"] == 1
    assert (await allocation.get("/v1/reconciliation")).json()["ok"] is True

    # An admin's level applies, versions or not; the warehouse's next level replaces it, an older one does not.
    admin_level = {"levels": [{"sku": "A", "node": "WH1", "on_hand": 6}]}
    assert (await allocation.put("/v1/stock", json=admin_level)).json() == {"applied": 1}
    await produce_events(bootstrap, stock_topic, [stock_level("A", "WH1", 9, 4), stock_level("A", "WH1", 4, 5)])

    def on_hand_at_wh1(records) -> list[int]:
        """WH1's on-hand as availability announced it, each change once."""
        seen = []
        for record in records:
            for node in json.loads(record.value)["payload"]["nodes"]:
                if node["node"] == "WH1" and seen[-1:] != [node["on_hand"]]:
                    seen.append(node["on_hand"])
        return seen

    records = await consume_until(bootstrap, settings.topic(INVENTORY_AVAILABILITY),
                                  lambda rs: on_hand_at_wh1(rs)[-1:] == [4])
    assert on_hand_at_wh1(records) == [3, 2, 3, 6, 4]  # never a stale 9


async def test_availability_per_channel_follows_its_protected_quantity(allocation):
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 10, "safety_stock": 2},
                                                       {"sku": "A", "node": "WH2", "on_hand": 3}]})
    # Recorded as updated by the token's subject; an actor header is no longer believed.
    kim = {**test_issuer().bearer("admin-kim", ADMIN), "x-actor": "someone-else"}
    rules = await allocation.put("/v1/channels/marketplace/rules", json={"protected_quantity": 4}, headers=kim)
    assert rules.status_code == 200 and rules.json()["updated_by"] == "admin-kim"
    assert (await allocation.get("/v1/channels/marketplace/rules")).json()["updated_by"] == "admin-kim"
    availability = (await allocation.get("/v1/availability", params={"sku": ["A", "unknown"]})).json()["items"]
    assert (availability[0]["atp"], availability[0]["channels"]) == (11, [{"channel": "marketplace", "atp": 4}])
    assert (availability[1]["atp"], availability[1]["nodes"]) == (0, [])
    records = await consume_until(allocation.settings.kafka_bootstrap_servers,
                                  allocation.settings.topic(INVENTORY_AVAILABILITY), lambda rs: len(rs) >= 1)
    assert json.loads(records[0].value)["payload"]["sku"] == "A" and records[0].key == b"A"


async def test_bad_rules_are_refused_field_by_field(allocation):
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 1}]})
    refused = await allocation.put("/v1/channels/web-eu/rules", json={
        "short_stock": "sometimes", "protected_quantity": -1, "node_priority": {"DE": ["WH1", "WH9"]},
        "node_cost": {"WH1": 2.5}})
    assert refused.status_code == 422
    fields = {tuple(error["loc"]) for error in refused.json()["detail"]}
    assert {("body", "short_stock"), ("body", "protected_quantity"), ("body", "node_cost", "WH1")} <= fields

    unknown = await allocation.put("/v1/channels/web-eu/rules", json={
        "node_priority": {"de": ["WH1"], "FR": ["WH9", "WH1", "WH1"]}, "node_cost": {"WH7": "1.00"}})
    assert unknown.status_code == 422
    assert {(tuple(e["loc"]), e["msg"]) for e in unknown.json()["detail"]} == {
        (("body", "node_priority", "de"), "country must be an ISO 3166 alpha-2 code such as DE"),
        (("body", "node_priority", "FR", "0"), "unknown node 'WH9'"),
        (("body", "node_priority", "FR", "2"), "node 'WH1' is listed twice"),
        (("body", "node_cost", "WH7"), "unknown node 'WH7'"),
    }
    assert (await allocation.get("/v1/channels/web-eu/rules")).json()["default"] is True
    assert (await allocation.put("/v1/channels/web-eu/rules", json={}, headers={"authorization": ""})
            ).status_code == 401

    good = {"allow_split": False, "short_stock": "backorder", "node_priority": {"DE": ["WH1"]},
            "node_cost": {"WH1": "3.50"}}
    assert (await allocation.put("/v1/channels/web-eu/rules", json=good)).status_code == 200
    stored = (await allocation.get("/v1/channels/web-eu/rules")).json()
    assert stored["rules"] == {**good, "protected_quantity": 0} and stored["default"] is False


async def test_malformed_stock_messages_are_dead_lettered_with_the_reason(allocation):
    settings = allocation.settings
    bad = new_event("StockLevelChanged", 1, "warehouse", "stock_position", "A@WH1", {"sku": "A", "node": "WH1",
                                                                                    "sellable_on_hand": -5})
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(INVENTORY_STOCK), [bad])
    await produce(settings.kafka_bootstrap_servers, settings.topic(INVENTORY_STOCK), [(b"A@WH1", b"{oops")])
    dead = await consume_until(settings.kafka_bootstrap_servers, settings.topic(INVENTORY_STOCK) + ".dlq",
                               lambda rs: len(rs) >= 2)
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert reasons == ["schema_invalid", "unparseable"]
    assert "sellable_on_hand" in next(dict(r.headers)["dlq_error"].decode() for r in dead
                                      if dict(r.headers)["dlq_reason"] == b"schema_invalid")
    refused = await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH 1"}]})
    assert refused.status_code == 422
