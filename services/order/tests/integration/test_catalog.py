"""The supply side's news on the real Kafka and PostgreSQL: the SKU master (unknown SKUs held or rejected per
channel, released once known; bundles placed as components; the catalog's flags), carriers' deliveries and
backorder promise dates."""

import asyncio
import json
import time
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import text

from ecomops_common.auth import SUPERVISOR, WAREHOUSE_OPERATOR
from ecomops_common.contracts import ALLOCATION_EVENTS, CATALOG_SKUS, ORDER_EVENTS, SHIPPING_TRACKING
from ecomops_common.contracts.allocation import BackorderPromiseChanged, OrderBackordered
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.shipping import TrackingUpdated
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer as issuer  # aliased: pytest would collect test_issuer
from ecomops_common.testing.plugin import consume_until, produce_events

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def sku_changed(sku: str, revision: int = 1, **changes):
    payload = SkuChanged(**{"sku": sku, "revision": revision, "status": "active", "name": sku,
                            "changed_by": "mia.merchandiser", "changed_at": AT, **changes})
    return new_event("SkuChanged", 1, "catalog", "sku", sku, payload)


async def publish(client: httpx.AsyncClient, topic: str, *envelopes) -> None:
    await produce_events(client.settings.kafka_bootstrap_servers, client.settings.topic(topic), envelopes)


async def order_once(client: httpx.AsyncClient, order_id: str, condition, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = (await client.get(f"/v1/orders/{order_id}")).json()
        if condition(order):
            return order
        assert time.monotonic() < deadline, f"condition not met in {timeout}s: {order}"
        await asyncio.sleep(0.1)


async def catalog_knows(client: httpx.AsyncClient, *skus: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with client.unit_of_work() as uow:
            if set(skus) <= set(await uow.orders.catalog_entries(set(skus))):
                return
        assert time.monotonic() < deadline, f"the catalog's {skus} not consumed in {timeout}s"
        await asyncio.sleep(0.1)


async def order_events(client: httpx.AsyncClient, event_type: str, count: int) -> list[dict]:
    def of_type(records):
        return [json.loads(r.value) for r in records if dict(r.headers)["event_type"] == event_type.encode()]

    records = await consume_until(client.settings.kafka_bootstrap_servers, client.settings.topic(ORDER_EVENTS),
                                  lambda rs: len(of_type(rs)) >= count)
    return of_type(records)


def an_order(order_json, external_order_id: str, sku: str, **changes) -> dict:
    body = order_json(external_order_id=external_order_id, **changes)
    body["lines"][0]["sku"] = sku
    return body


async def test_unknown_skus_are_held_or_rejected_per_channel_and_released_once_known(order_service, order_json):
    rule = await order_service.get("/v1/rules/unknown-skus/web-eu")
    assert rule.status_code == 200 and rule.json() == {"channel": "web-eu", "action": "hold", "updated_by": None,
                                                       "updated_at": None}
    for body in ({"action": "drop"}, {"action": "reject", "actor": "me"}, {}):
        refused = await order_service.put("/v1/rules/unknown-skus/market-fr", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["detail"][0]["loc"][:2] == ["body", "actor" if "actor" in body else "action"]
    bad_channel = await order_service.put("/v1/rules/unknown-skus/Not%20A%20Channel", json={"action": "reject"})
    assert bad_channel.status_code == 422 and bad_channel.json()["detail"][0]["loc"] == ["path", "channel"]
    operator = issuer().bearer("olga", WAREHOUSE_OPERATOR)
    assert (await order_service.put("/v1/rules/unknown-skus/market-fr", json={"action": "reject"},
                                    headers=operator)).status_code == 403
    assert (await order_service.get("/v1/rules/unknown-skus/market-fr", headers=operator)).status_code == 403
    set_rule = await order_service.put("/v1/rules/unknown-skus/market-fr", json={"action": "reject"},
                                       headers=issuer().bearer("jane", SUPERVISOR))
    assert set_rule.status_code == 200
    assert set_rule.json()["action"] == "reject" and set_rule.json()["updated_by"] == "jane"

    held = await order_service.post("/v1/orders", json=an_order(order_json, "u1", "NEW-1"))
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "on_hold" and held.json()["holds"] == ["inventory_hold"]
    rejected = await order_service.post("/v1/orders", json=an_order(order_json, "u2", "NEW-1", channel="market-fr"))
    assert rejected.status_code == 422
    assert [(d["loc"], d["type"]) for d in rejected.json()["detail"]] == [(["body", "lines", "0", "sku"],
                                                                           "unknown_sku")]
    (refusal,) = await order_events(order_service, "OrderRejected", 1)
    assert refusal["payload"]["reasons"][0]["field"] == "lines.0.sku"

    await publish(order_service, CATALOG_SKUS, sku_changed("NEW-1", status="discontinued"))
    await catalog_knows(order_service, "NEW-1")
    assert (await order_service.get(f"/v1/orders/{held.json()['id']}")).json()["status"] == "on_hold"
    await publish(order_service, CATALOG_SKUS, sku_changed("NEW-1", 2), sku_changed("NEW-1", 2))
    released = await order_once(order_service, held.json()["id"], lambda o: o["status"] == "awaiting_allocation")
    assert released["holds"] == [] and released["history"][-1]["actor"] == "catalog"
    (change,) = await order_events(order_service, "OrderStatusChanged", 1)
    assert change["payload"]["to_status"] == "awaiting_allocation" and change["payload"]["actor"] == "catalog"


async def test_a_bundle_is_placed_as_its_components_with_the_catalogs_flags(order_service, order_json):
    await publish(order_service, CATALOG_SKUS,
                  sku_changed("BRUSH", unit_cost="2.00", currency="EUR", category="hygiene", final_sale=True),
                  sku_changed("PASTE", unit_cost="1.00", currency="EUR"),
                  sku_changed("KIT", components=[{"sku": "BRUSH", "quantity": 1}, {"sku": "PASTE", "quantity": 2}]))
    await catalog_knows(order_service, "BRUSH", "PASTE", "KIT")
    body = order_json(external_order_id="kit-1", reservation_id="cart-77")
    body["lines"] = [{"line_id": "1", "sku": "KIT", "quantity": 3, "unit_price": "10.00", "category": "toys"},
                     {"line_id": "2", "sku": "SKU-RED-M", "quantity": 1, "unit_price": "29.97"}]
    placed = await order_service.post("/v1/orders", json=body)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "awaiting_allocation"

    (event,) = await order_events(order_service, "OrderPlaced", 1)
    order = OrderPlaced.model_validate(event["payload"])
    assert [(line.line_id, line.sku, line.quantity, str(line.unit_price), line.category, line.final_sale)
            for line in order.lines] == [("1.1", "BRUSH", 3, "5.00", "hygiene", True),
                                         ("1.2", "PASTE", 6, "2.50", None, False),
                                         ("2", "SKU-RED-M", 1, "29.97", None, False)]
    assert [bundle.model_dump(mode="json") for bundle in order.bundles] == [
        {"line_id": "1", "sku": "KIT", "quantity": 3, "unit_price": "10.00", "component_line_ids": ["1.1", "1.2"]}]
    assert str(order.total) == "64.96" and order.reservation_id == "cart-77"


async def test_a_bundle_expanding_beyond_500_lines_is_rejected_naming_lines(order_service, order_json):
    parts = [sku_changed(f"P{n}") for n in range(100)]
    await publish(order_service, CATALOG_SKUS, *parts,
                  sku_changed("BIG", components=[{"sku": f"P{n}", "quantity": 1} for n in range(100)]))
    await catalog_knows(order_service, "BIG", "P99")
    body = order_json(external_order_id="big")
    body["lines"] = [{"line_id": str(n), "sku": "BIG", "quantity": 1, "unit_price": "10.00"} for n in range(6)]
    body["payment"]["amount"], body["shipping_fee"] = "60.00", "0.00"
    rejected = await order_service.post("/v1/orders", json=body)
    assert rejected.status_code == 422
    assert [(d["loc"], d["type"]) for d in rejected.json()["detail"]] == [(["body", "lines"], "too_many_lines")]


async def shipped_order(client: httpx.AsyncClient, order_json) -> str:
    placed = (await client.post("/v1/orders", json=order_json(external_order_id="to-deliver"))).json()
    async with client.unit_of_work() as uow:  # as the warehouse's progress would have it
        await uow.session.execute(text("UPDATE orders SET status = 'shipped' WHERE id = :id"), {"id": placed["id"]})
        await uow.commit()
    return placed["id"]


def tracked(order_id: str, event_id: str, status: str = "delivered", order_delivered: bool = True):
    payload = TrackingUpdated(event_id=event_id, tracking_number="TRK-1", carrier="dhl", service="express",
                              status=status, order_id=order_id, parcel_id=f"{order_id}@berlin",
                              order_delivered=order_delivered, occurred_at=AT)
    return new_event("TrackingUpdated", 1, "shipping", "parcel", "TRK-1", payload)


async def test_the_carrier_delivering_the_last_parcel_delivers_the_order_once(order_service, order_json):
    order_id = await shipped_order(order_service, order_json)
    await publish(order_service, SHIPPING_TRACKING, tracked(order_id, "t1", "in_transit", False),
                  tracked(order_id, "t2", "out_for_delivery", False), tracked(order_id, "t3"),
                  tracked(order_id, "t4"))
    delivered = await order_once(order_service, order_id, lambda o: o["status"] == "delivered")
    assert [(t["from_status"], t["to_status"], t["actor"]) for t in delivered["history"][-1:]] == [
        ("shipped", "delivered", "carrier:dhl")]
    await asyncio.sleep(1)
    assert len((await order_service.get(f"/v1/orders/{order_id}")).json()["history"]) == len(delivered["history"])
    changes = await order_events(order_service, "OrderStatusChanged", 1)
    assert [(c["payload"]["to_status"], c["payload"]["actor"]) for c in changes] == [("delivered", "carrier:dhl")]


async def test_backordered_lines_show_their_promise_date_as_supply_moves_it(order_service, order_json):
    order_id = (await order_service.post("/v1/orders", json=order_json(external_order_id="late"))).json()["id"]
    backordered = OrderBackordered(order_id=order_id, channel="web-eu", status="backordered", revision=1,
                                   reason="placed", lines=[],
                                   backordered=[{"line_id": "1", "sku": "SKU-RED-M", "quantity": 3,
                                                 "promised_date": date(2026, 12, 10)}])
    await publish(order_service, ALLOCATION_EVENTS,
                  new_event("OrderBackordered", 1, "allocation", "order", order_id, backordered))
    first = await order_once(order_service, order_id, lambda o: o["status"] == "backordered")
    assert first["allocation"] == [{"line_id": "1", "sku": "SKU-RED-M", "node": None, "quantity": 3,
                                    "promised_date": "2026-12-10"}]
    slipped = BackorderPromiseChanged(order_id=order_id, line_id="1", sku="SKU-RED-M", quantity=3,
                                      previous_date=date(2026, 12, 10), promised_date=date(2026, 12, 17),
                                      reason="supply_delayed", changed_at=AT)
    await publish(order_service, ALLOCATION_EVENTS,
                  new_event("BackorderPromiseChanged", 1, "allocation", "order", order_id, slipped))
    later = await order_once(order_service, order_id,
                             lambda o: o["allocation"][0]["promised_date"] == "2026-12-17")
    assert later["status"] == "backordered"
