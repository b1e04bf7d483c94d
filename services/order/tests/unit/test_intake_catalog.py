"""Intake with the SKU master, and the SKU master's news, in the service layer with fakes."""

from datetime import UTC, datetime
from decimal import Decimal

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.testing.fakes import received
from order_service.adapters.fakes import FakeOrders, FakeOrderUnitOfWork
from order_service.domain.catalog import UnknownSkuAction
from order_service.service_layer.catalog import catalog_sku_of, record_sku_changes
from order_service.service_layer.intake import Submission, take_orders

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def sku_changed(sku: str, revision: int = 1, **changes) -> SkuChanged:
    return SkuChanged(**{"sku": sku, "revision": revision, "status": "active", "name": sku, "changed_by": "mia",
                         "changed_at": AT, **changes})


def catalog(*changes: SkuChanged) -> dict:
    return {change.sku: catalog_sku_of(change) for change in changes}


async def place(uow: FakeOrderUnitOfWork, *documents: dict):
    return await take_orders(uow, [Submission(ChannelOrder.model_validate(document)) for document in documents])


def kit_order(order_json, **changes) -> dict:
    body = order_json(**changes)
    body["lines"] = [{"line_id": "1", "sku": "KIT", "quantity": 2, "unit_price": "30.00", "category": "toys"},
                     {"line_id": "2", "sku": "SKU-RED-M", "quantity": 1, "unit_price": "4.96"}]
    body["payment"]["amount"] = "69.95"
    return body


async def test_a_bundle_order_is_placed_as_components_with_the_soft_reservation(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=catalog(
        sku_changed("KIT", components=[{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}]),
        sku_changed("A", unit_cost=Decimal("4.00"), currency="EUR", category="hygiene", final_sale=True),
        sku_changed("B", unit_cost=Decimal("1.00"), currency="EUR"), sku_changed("SKU-RED-M"))))
    (result,) = await place(uow, kit_order(order_json, reservation_id="soft-9"))
    assert result.status == "awaiting_allocation"
    (event,) = uow.events("OrderPlaced")
    placed = OrderPlaced.model_validate(event.payload)
    assert [(line.line_id, line.sku, line.quantity, line.unit_price, line.category, line.final_sale)
            for line in placed.lines] == [
        ("1.1", "A", 2, Decimal("20.00"), "hygiene", True), ("1.2", "B", 4, Decimal("5.00"), None, False),
        ("2", "SKU-RED-M", 1, Decimal("4.96"), None, False)]
    (bundle,) = placed.bundles
    assert (bundle.line_id, bundle.sku, bundle.quantity, bundle.unit_price, bundle.component_line_ids) == (
        "1", "KIT", 2, Decimal("30.00"), ["1.1", "1.2"])
    assert placed.total == Decimal("69.95") and placed.reservation_id == "soft-9"
    assert sum(line.unit_price * line.quantity for line in placed.lines) + placed.shipping_fee == placed.total


async def test_unknown_skus_hold_by_default_and_reject_where_the_channel_says_so(order_json):
    uow = FakeOrderUnitOfWork()
    uow.orders.unknown_sku_rules["market-fr"] = UnknownSkuAction.reject
    held, rejected = await place(uow, order_json(), order_json(channel="market-fr"))
    assert held.status == "on_hold" and uow.orders.holds[held.order_id] == {"inventory_hold"}
    assert uow.orders.awaited[held.order_id] == {"SKU-RED-M"}
    assert rejected.status == "rejected"
    assert [(r.field, r.code) for r in rejected.rejections] == [("lines.0.sku", "unknown_sku")]
    (placed,) = uow.events("OrderPlaced")
    assert placed.payload["holds"] == ["inventory_hold"] and placed.payload["status"] == "on_hold"
    (refusal,) = uow.events("OrderRejected")
    assert refusal.payload["reasons"][0]["field"] == "lines.0.sku"


async def test_the_catalog_knowing_every_sku_releases_the_inventory_hold_and_keeps_the_others(order_json):
    uow = FakeOrderUnitOfWork()
    plain, with_fraud, kit = await place(uow, order_json(), order_json(external_order_id="two", fraud_score=95),
                                         kit_order(order_json, external_order_id="kit"))
    await record_sku_changes(uow, received(
        sku_changed("KIT", components=[{"sku": "A", "quantity": 1}]), sku_changed("SKU-RED-M")))
    assert uow.orders.rows[plain.order_id]["status"] == "awaiting_allocation"
    assert uow.orders.rows[with_fraud.order_id]["status"] == "on_hold"
    assert uow.orders.holds[with_fraud.order_id] == {"fraud_review"}
    # KIT became known as a bundle after the order was placed with it: it cannot go to allocation as placed
    assert uow.orders.holds[kit.order_id] == {"inventory_hold"}
    changes = [OrderStatusChanged.model_validate(event.payload) for event in uow.events("OrderStatusChanged")]
    assert [(c.order_id, c.from_status, c.to_status, c.actor, c.holds) for c in changes] == [
        (plain.order_id, "on_hold", "awaiting_allocation", "catalog", []),
        (with_fraud.order_id, "on_hold", "on_hold", "catalog", ["fraud_review"])]
    assert changes[0].reason == "inventory_hold released: the catalog knows SKU-RED-M"
    assert set(uow.orders.awaited) == {kit.order_id}
    await record_sku_changes(uow, received(sku_changed("SKU-RED-M", 2)))  # nothing awaits it any more
    assert len(uow.events("OrderStatusChanged")) == 2


async def test_an_older_revision_changes_nothing_and_a_discontinued_sku_releases_nothing(order_json):
    uow = FakeOrderUnitOfWork()
    (held,) = await place(uow, order_json())
    await record_sku_changes(uow, received(sku_changed("SKU-RED-M", 3, status="discontinued")))
    await record_sku_changes(uow, received(sku_changed("SKU-RED-M", 2)))
    assert uow.orders.catalog["SKU-RED-M"].revision == 3 and not uow.orders.catalog["SKU-RED-M"].active
    assert uow.orders.rows[held.order_id]["status"] == "on_hold"
    await record_sku_changes(uow, received(sku_changed("SKU-RED-M", 4)))
    assert uow.orders.rows[held.order_id]["status"] == "awaiting_allocation"
