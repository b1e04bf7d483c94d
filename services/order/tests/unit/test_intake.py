"""The intake use case against an in-memory unit of work (a fake, not a mock)."""

from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.contracts.orders import OrderPlaced, OrderRejected
from order_service.adapters.fakes import EverySkuKnown, FakeOrders, FakeOrderUnitOfWork
from order_service.service_layer.intake import Submission, take_orders


async def test_accepted_order_emits_order_placed_with_total(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    (result,) = await take_orders(uow, [Submission(ChannelOrder.model_validate(order_json()))])
    assert result.created and result.status == "awaiting_allocation"
    ((topic, event),) = uow.published
    assert topic == "order.events.v1"
    assert (event.event_type, event.schema_version, event.aggregate_id) == ("OrderPlaced", 1, result.order_id)
    assert event.payload["total"] == "64.96"
    assert event.payload["lines"][0]["unit_price"] == "19.99"
    assert OrderPlaced.model_validate(event.payload).order_id == result.order_id  # the contract holds


async def test_resends_in_one_batch_and_later_create_one_order_and_one_event(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    order = ChannelOrder.model_validate(order_json())
    first, copy = await take_orders(uow, [Submission(order), Submission(order)])
    (later,) = await take_orders(uow, [Submission(order)])
    assert first.created and not copy.created and not later.created
    assert first.order_id == copy.order_id == later.order_id
    assert len(uow.published) == 1


async def test_business_rule_violation_is_stored_rejected_and_announced(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    bad = ChannelOrder.model_validate(order_json(currency="XYZ"))
    (result,) = await take_orders(uow, [Submission(bad)])
    assert result.status == "rejected"
    assert [r.code for r in result.rejections] == ["unknown_currency"]
    ((_, event),) = uow.published
    assert event.event_type == "OrderRejected"
    assert event.payload["reasons"][0]["field"] == "currency"
    assert OrderRejected.model_validate(event.payload).order_id == result.order_id
    (again,) = await take_orders(uow, [Submission(bad)])
    assert again.status == "rejected" and [r.code for r in again.rejections] == ["unknown_currency"]
