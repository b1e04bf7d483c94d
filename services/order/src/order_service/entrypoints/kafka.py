"""Orders that channel connectors publish to channel.orders.v1 (key `<channel>:<external_order_id>`)."""

from collections.abc import Callable

from ecomops_common.contracts import CHANNEL_ORDERS, CHANNEL_PAYMENTS
from ecomops_common.contracts.channel import ChannelOrder, PaymentUpdate
from ecomops_common.messaging import BatchConsumer, Delivery, bare_decoder
from order_service.service_layer.intake import Submission, take_orders
from order_service.service_layer.lifecycle import OrderNotFound, payment_detail, update_payment
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
