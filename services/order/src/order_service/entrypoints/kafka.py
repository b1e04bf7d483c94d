"""Orders that channel connectors publish to channel.orders.v1 (key `<channel>:<external_order_id>`)."""

from collections.abc import Callable

from ecomops_common.contracts import CHANNEL_ORDERS
from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.messaging import BatchConsumer, Delivery, bare_decoder
from ecomops_common.settings import ServiceSettings
from order_service.service_layer.intake import Submission, take_orders

CONSUMER_NAME = "order-service.channel-orders"


def channel_orders_consumer(settings: ServiceSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[ChannelOrder]]) -> None:
        # Idempotency comes from the (channel, external_order_id) key, so no inbox row is needed.
        submissions = [Submission(d.message, d.correlation_id or d.message.idempotency_key, d.traceparent)
                       for d in deliveries]
        async with unit_of_work() as uow:
            await take_orders(uow, submissions)

    return BatchConsumer(
        name=settings.consumer_group(CONSUMER_NAME), topic=settings.topic(CHANNEL_ORDERS),
        decode=bare_decoder(ChannelOrder, 1), handle=handle, max_records=settings.consumer_max_records,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )
