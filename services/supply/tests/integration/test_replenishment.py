"""Replenishment on Kafka and PostgreSQL: demand from loaded history and from the warehouse's shipments net of
returns restocked (other dispositions skipped), stock from allocation's availability, the catalog's terms; the
suggestions with their explanation, and drafts per vendor that count as on order afterwards."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.auth import BUYER, FINANCE_CLERK, WAREHOUSE_OPERATOR
from ecomops_common.contracts import INVENTORY_AVAILABILITY, SUPPLY_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.inventory import AvailabilityChanged, NodeAvailability
from ecomops_common.contracts.warehouse import ReturnDispositionApplied, ShipmentDispatched, ShippedLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events

from .conftest import as_, in_catalog, sku_changed

pytestmark = pytest.mark.integration
BOB = as_("bob.buyer", BUYER)


async def test_suggestions_from_history_and_consumed_events_become_drafts_per_vendor(supply):
    settings = supply.settings
    now = datetime.now(UTC)
    today = now.date()
    await in_catalog(supply, sku_changed("MUG", case_pack=6, min_order_quantity=12),
                     sku_changed("TEE", vendor_id="tees", lead_time_days=None), sku_changed("LOOSE", vendor_id=None))
    history = [{"sku": "MUG", "date": (today - timedelta(days=d)).isoformat(),
                "shipped": 15 if (today - timedelta(days=d)).weekday() == 5 else 10, "restocked": 2}
               for d in range(1, 36)]
    history += [{"sku": "TEE", "date": (today - timedelta(days=d)).isoformat(), "shipped": 3} for d in range(1, 11)]
    assert (await supply.post("/v1/demand-history", headers=as_("clerk", FINANCE_CLERK),
                              json={"node": "BER1", "days": history})).status_code == 403
    loaded = await supply.post("/v1/demand-history", headers=BOB, json={"node": "BER1", "days": history})
    assert loaded.json() == {"node": "BER1", "loaded": 45}

    def warehouse(event_type: str, key: str, payload):
        return new_event(event_type, 1, "warehouse", "order", key, payload)

    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
        warehouse("ShipmentDispatched", "o-1", ShipmentDispatched(
            order_id="o-1", node="BER1", tracking_number="T1", shipped_at=now,
            lines=[ShippedLine(line_id="1", sku="MUG", quantity=10), ShippedLine(line_id="2", sku="LOOSE",
                                                                                 quantity=4)])),
        warehouse("ReturnDispositionApplied", "r-1", ReturnDispositionApplied(
            rma_id="r-1", node="BER1", sku="MUG", quantity=3, disposition="restock", applied_at=now)),
        warehouse("ReturnDispositionApplied", "r-2", ReturnDispositionApplied(
            rma_id="r-2", node="BER1", sku="MUG", quantity=5, disposition="scrap", applied_at=now))])
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(INVENTORY_AVAILABILITY), [
        new_event("AvailabilityChanged", 1, "allocation", "sku", "MUG", AvailabilityChanged(
            sku="MUG", atp=15, as_of=now, nodes=[NodeAvailability(node="BER1", on_hand=20, reserved=5,
                                                                  safety_stock=0, atp=15)]))])

    async def todays_demand() -> bool:
        days = (await supply.get("/v1/demand-history", params={"sku": "MUG", "node": "BER1"})).json()
        return days[-1] == {"date": today.isoformat(), "shipped": 10, "restocked": 3, "net": 7}

    async def stock_known() -> bool:
        async with supply.unit_of_work() as uow:
            return await uow.supply.stock("BER1", ["MUG"]) == {("MUG", "BER1"): (20, 5)}

    await eventually(todays_demand)
    await eventually(stock_known)

    assert (await supply.get("/v1/replenishment", headers=as_("op", WAREHOUSE_OPERATOR))).status_code == 403
    answer = await supply.get("/v1/replenishment", params={"node": "BER1", "all": "true"},
                              headers=as_("clerk", FINANCE_CLERK))
    suggestions = {s["sku"]: s for s in answer.json()}
    assert sorted(suggestions) == ["LOOSE", "MUG", "TEE"]
    mug = suggestions["MUG"]
    explained = mug["explanation"]
    assert explained["forecast"]["method"] == "holt_winters_additive"
    assert explained["forecast"]["history_days"] == 36 and explained["forecast"]["season_by_weekday"]
    assert explained["position"] == {"on_hand": 20, "reserved": 5, "on_order": 0, "units": 15}
    assert (explained["lead_time_days"], explained["lead_time_from"]) == (5, "catalog")
    assert mug["suggested_quantity"] > 0 and mug["suggested_quantity"] % 6 == 0
    assert mug["suggested_quantity"] >= mug["order_up_to"] - 15 and "reorder point" in explained["why"]
    tee = suggestions["TEE"]["explanation"]
    assert (tee["forecast"]["method"], tee["lead_time_days"], tee["lead_time_from"]) == \
        ("simple_exponential_smoothing", 14, "default")

    drafted = await supply.post("/v1/replenishment/purchase-orders", headers=BOB, json={"node": "BER1"})
    assert drafted.status_code == 201, drafted.text
    orders = drafted.json()["purchase_orders"]
    assert sorted((o["vendor_id"], o["status"], o["created_by"], [line["sku"] for line in o["lines"]])
                  for o in orders) == [("acme", "draft", "bob.buyer", ["MUG"]), ("tees", "draft", "bob.buyer",
                                                                                  ["TEE"])]
    assert drafted.json()["skipped"] == [{"sku": "LOOSE", "reason": "no vendor in the catalog"}]
    acme = next(o for o in orders if o["vendor_id"] == "acme")
    assert acme["lines"][0]["quantity"] == mug["suggested_quantity"]
    assert acme["expected_date"] == (today + timedelta(days=5)).isoformat()

    due = (await supply.get("/v1/replenishment", params={"node": "BER1"})).json()
    assert [s["sku"] for s in due] == ["LOOSE"]  # the drafts are on order; LOOSE still has no vendor

    def created(records) -> set[str]:
        return {json.loads(r.value)["payload"]["po_id"] for r in records
                if dict(r.headers)["event_type"] == b"PurchaseOrderChanged"}

    published = await consume_until(settings.kafka_bootstrap_servers, settings.topic(SUPPLY_EVENTS),
                                    lambda records: len(created(records)) >= 2)
    assert created(published) == {o["po_id"] for o in orders}
