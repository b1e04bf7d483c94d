"""Consumers: channel orders and payments from connectors, allocation results from the allocation service, the
warehouse's progress and the returns service's RMAs."""

from collections.abc import Callable

from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    CHANNEL_ORDERS,
    CHANNEL_PAYMENTS,
    RETURNS_EVENTS,
    WAREHOUSE_EVENTS,
)
from ecomops_common.contracts.allocation import (
    AllocationReleased,
    OrderAllocated,
    OrderAllocationChanged,
    OrderBackordered,
)
from ecomops_common.contracts.channel import ChannelOrder, PaymentUpdate
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnStatusChanged
from ecomops_common.contracts.warehouse import OrderFulfilmentChanged
from ecomops_common.messaging import BatchConsumer, Delivery, bare_decoder, envelope_decoder
from order_service.service_layer.allocation import AllocationUpdate, record_allocations
from order_service.service_layer.fulfilment import FulfilmentUpdate, record_fulfilment
from order_service.service_layer.intake import Submission, take_orders
from order_service.service_layer.lifecycle import OrderNotFound, payment_detail, update_payment
from order_service.service_layer.returns import record_returns
from order_service.settings import OrderSettings

CONSUMER_NAME = "order-service.channel-orders"


def channel_orders_consumer(settings: OrderSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[ChannelOrder]]) -> None:
        # Idempotency comes from the (channel, external_order_id) key, so no inbox row is needed.
        submissions = [Submission(d.message, d.correlation_id or d.message.idempotency_key, d.traceparent)
                       for d in deliveries]
        async with unit_of_work() as uow:
            await take_orders(uow, submissions, settings.intake_policy)

    return BatchConsumer(
        name=settings.consumer_group(CONSUMER_NAME), topic=settings.topic(CHANNEL_ORDERS),
        decode=bare_decoder(ChannelOrder, 1), handle=handle, max_records=settings.consumer_max_records,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


PAYMENTS_CONSUMER_NAME = "order-service.channel-payments"


def channel_payments_consumer(settings: OrderSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[PaymentUpdate]]) -> None:
        # Payment updates are few and idempotent by state (authorized twice releases the hold once).
        # An unknown order or a refused change fails the message, which is dead-lettered with the reason.
        for delivery in deliveries:
            update = delivery.message
            async with unit_of_work() as uow:
                order_id = await uow.orders.find_id(update.channel, update.external_order_id)
                if order_id is None:
                    raise OrderNotFound(f"no order {update.channel}:{update.external_order_id}")
                await update_payment(uow, order_id, update.status.value, f"channel:{update.channel}",
                                     payment_detail(update.amount, update.reference))

    return BatchConsumer(
        name=settings.consumer_group(PAYMENTS_CONSUMER_NAME), topic=settings.topic(CHANNEL_PAYMENTS),
        decode=bare_decoder(PaymentUpdate, 1), handle=handle, max_records=settings.consumer_max_records,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


ALLOCATION_CONSUMER_NAME = "order-service.allocation-events"


def allocation_events_consumer(settings: OrderSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(ALLOCATION_CONSUMER_NAME)

    async def handle(deliveries: list[Delivery[OrderAllocationChanged]]) -> None:
        async with unit_of_work() as uow:
            await record_allocations(uow, [
                AllocationUpdate(d.message, d.event_id, d.correlation_id, d.traceparent)
                for d in await uow.claim_new_deliveries(name, deliveries)])

    return BatchConsumer(
        name=name, topic=settings.topic(ALLOCATION_EVENTS),
        # AllocationExceptionRaised is for operators: ignored here.
        decode=envelope_decoder(1, {"OrderAllocated": OrderAllocated, "OrderBackordered": OrderBackordered,
                                    "AllocationReleased": AllocationReleased}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


FULFILMENT_CONSUMER_NAME = "order-service.warehouse-events"


def warehouse_events_consumer(settings: OrderSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(FULFILMENT_CONSUMER_NAME)

    async def handle(deliveries: list[Delivery[OrderFulfilmentChanged]]) -> None:
        async with unit_of_work() as uow:
            await record_fulfilment(uow, [FulfilmentUpdate(d.message, d.event_id, d.correlation_id, d.traceparent)
                                          for d in await uow.claim_new_deliveries(name, deliveries)])

    return BatchConsumer(
        name=name, topic=settings.topic(WAREHOUSE_EVENTS),
        # ShipmentDispatched is for carriers and finance: ignored here.
        decode=envelope_decoder(1, {"OrderFulfilmentChanged": OrderFulfilmentChanged}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


RETURNS_CONSUMER_NAME = "order-service.returns-events"


def returns_events_consumer(settings: OrderSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(RETURNS_CONSUMER_NAME)

    async def handle(deliveries: list[Delivery[ReturnAuthorized | ReturnStatusChanged]]) -> None:
        async with unit_of_work() as uow:
            await record_returns(uow, [d.message for d in await uow.claim_new_deliveries(name, deliveries)])

    return BatchConsumer(
        name=name, topic=settings.topic(RETURNS_EVENTS),
        # ReturnRefused, ReturnDispositionDecided and RefundApproved are for channels, the warehouse and finance.
        decode=envelope_decoder(1, {"ReturnAuthorized": ReturnAuthorized, "ReturnStatusChanged": ReturnStatusChanged}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )
