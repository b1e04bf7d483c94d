"""Orders paid with store credit and graded variants' channels, in the service layer with fakes."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ecomops_common.contracts.channel import ChannelOrder, PaymentUpdate
from ecomops_common.contracts.finance import StoreCreditChanged
from ecomops_common.contracts.warehouse import GradedVariantDefined
from ecomops_common.testing.fakes import FakeDelivery
from order_service.adapters.fakes import EverySkuKnown, FakeOrders, FakeOrderUnitOfWork
from order_service.domain.lifecycle import LifecycleError
from order_service.service_layer.fulfilment import record_warehouse_events
from order_service.service_layer.handlers import settles_an_order
from order_service.service_layer.intake import Submission, take_orders
from order_service.service_layer.lifecycle import settle_store_credit, update_channel_payments

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def store_credit_order(order_json, external_order_id: str = "sc-1", status: str = "authorized") -> ChannelOrder:
    body = order_json(external_order_id=external_order_id)
    body["payment"].update(method="store_credit", status=status)
    return ChannelOrder.model_validate(body)


def movement(order_id: str | None, kind: str = "redeemed", **changes) -> StoreCreditChanged:
    return StoreCreditChanged(**{"movement_id": f"m-{kind}", "customer_id": "cust-42", "kind": kind,
                                 "amount": Decimal("64.96"), "currency": "EUR", "balance": Decimal("35.04"),
                                 "order_id": order_id, "at": AT, **changes})


async def placed(uow: FakeOrderUnitOfWork, *documents: ChannelOrder) -> list[str]:
    return [result.order_id for result in await take_orders(uow, [Submission(document) for document in documents])]


async def test_a_store_credit_order_is_held_and_announced_so(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    (order_id,) = await placed(uow, store_credit_order(order_json))
    assert uow.orders.rows[order_id]["status"] == "on_hold" and uow.orders.holds[order_id] == {"payment_hold"}
    ((_, event),) = uow.published
    assert event.event_type == "OrderPlaced" and event.payload["holds"] == ["payment_hold"]
    assert event.payload["payment"]["method"] == "store_credit"


async def test_redeemed_releases_the_hold_once_and_is_announced_with_its_cause(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    (order_id,) = await placed(uow, store_credit_order(order_json))
    redeemed = FakeDelivery(movement(order_id), "e-1", "corr-1", "00-t-01")
    await settle_store_credit(uow, [redeemed])
    await settle_store_credit(uow, [FakeDelivery(movement(order_id, movement_id="m-2"), "e-2")])  # a second answer
    assert uow.orders.rows[order_id]["status"] == "awaiting_allocation" and not uow.orders.holds[order_id]
    changes = [event for _, event in uow.published if event.event_type == "OrderStatusChanged"]
    ((change),) = changes
    assert (change.payload["to_status"], change.payload["actor"]) == ("awaiting_allocation", "finance:store-credit")
    assert "store credit redeemed (amount 64.96 EUR, movement m-redeemed)" in change.payload["reason"]
    assert (change.causation_id, change.correlation_id, change.traceparent) == ("e-1", "corr-1", "00-t-01")
    assert uow.commits == 3


async def test_declined_rejects_as_a_failed_payment_with_the_reason(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    (order_id,) = await placed(uow, store_credit_order(order_json))
    await settle_store_credit(uow, [FakeDelivery(movement(order_id, "declined", reason="balance 10.00 EUR"))])
    assert uow.orders.rows[order_id]["status"] == "rejected" and not uow.orders.holds[order_id]
    last = uow.orders.transitions[-1]
    assert (last.to_status, last.actor) == ("rejected", "finance:store-credit")
    assert last.reason == "store credit declined (amount 64.96 EUR, movement m-declined, balance 10.00 EUR)"


async def test_unknown_and_other_orders_are_left_alone(order_json, caplog):
    caplog.set_level(logging.INFO)
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    card = order_json(external_order_id="card-1")
    card["payment"]["status"] = "pending"
    (card_id,) = await placed(uow, ChannelOrder.model_validate(card))
    published = len(uow.published)
    await settle_store_credit(uow, [FakeDelivery(movement("nope")), FakeDelivery(movement(card_id))])
    assert uow.orders.rows[card_id]["status"] == "on_hold" and uow.orders.holds[card_id] == {"payment_hold"}
    assert len(uow.published) == published
    assert "order nope, which is not stored here" in caplog.text
    assert f"order {card_id} (paid with card, on_hold) does not wait" in caplog.text


def test_only_redemptions_and_declines_of_an_order_are_taken():
    assert settles_an_order(movement("o1")) and settles_an_order(movement("o1", "declined"))
    assert not settles_an_order(movement(None))
    assert not settles_an_order(movement("o1", "restored")) and not settles_an_order(movement(None, "issued"))


async def test_a_channel_payment_update_does_not_settle_store_credit(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    (order_id,) = await placed(uow, store_credit_order(order_json))
    update = PaymentUpdate(channel="web-eu", external_order_id="sc-1", status="authorized")
    with pytest.raises(LifecycleError, match="paid with store_credit"):
        await update_channel_payments(uow, [FakeDelivery(update)])
    assert uow.orders.rows[order_id]["status"] == "on_hold"


def variant_defined(sku: str, channels: list[str], at: datetime) -> FakeDelivery[GradedVariantDefined]:
    return FakeDelivery(GradedVariantDefined(variant_sku=sku, base_sku="SKU-RED-M", grade="B",
                                             list_price=Decimal("12.00"), currency="EUR", channels=channels,
                                             defined_by="warehouse:berlin", at=at))


async def test_intake_rejects_a_variant_on_a_channel_that_may_not_sell_it(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    await record_warehouse_events(uow, [variant_defined("SKU-RED-M", ["web-eu"], AT),
                                        variant_defined("SKU-RED-M", ["outlet"], AT + timedelta(hours=1))])
    await record_warehouse_events(uow, [variant_defined("SKU-RED-M", ["web-eu"], AT)])  # older: changes nothing
    assert uow.orders.variants["SKU-RED-M"].channels == {"outlet"} and uow.commits == 2

    on_web, at_the_outlet = await take_orders(uow, [
        Submission(ChannelOrder.model_validate(order_json(external_order_id="v-1"))),
        Submission(ChannelOrder.model_validate(order_json(channel="outlet", external_order_id="v-2")))])
    assert on_web.status == "rejected"
    assert [(r.field, r.code) for r in on_web.rejections] == [("lines.0.sku", "variant_not_sold_on_channel")]
    assert at_the_outlet.status == "awaiting_allocation"
