"""Consumers: return requests from channels, placed orders, the warehouse's shipments and return handling, and
finance's payouts. Each batch is one transaction; offsets are committed after it."""

from collections.abc import Callable

from ecomops_common.contracts import CHANNEL_RETURNS, FINANCE_EVENTS, ORDER_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import RefundIssued
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import ReturnRequest
from ecomops_common.contracts.warehouse import (
    FulfilmentStage,
    OrderFulfilmentChanged,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
)
from ecomops_common.messaging import BatchConsumer, Delivery, bare_decoder, envelope_decoder
from returns_service.service_layer.handling import follow_finance, follow_warehouse
from returns_service.service_layer.intake import follow_orders, request_returns
from returns_service.settings import ReturnsSettings

REQUESTS_CONSUMER = "returns-service.channel-returns"
ORDERS_CONSUMER = "returns-service.order-events"
WAREHOUSE_CONSUMER = "returns-service.warehouse-events"
FINANCE_CONSUMER = "returns-service.finance-events"


def _consumer(settings: ReturnsSettings, name: str, topic: str, decode, handle) -> BatchConsumer:
    return BatchConsumer(name=settings.consumer_group(name), topic=settings.topic(topic), decode=decode,
                         handle=handle, max_records=settings.consumer_max_records,
                         batch_timeout_ms=settings.consumer_batch_timeout_ms)


def return_requests_consumer(settings: ReturnsSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[ReturnRequest]]) -> None:
        # Idempotent by (channel, request_id); a refusal is published as ReturnRefused, not dead-lettered.
        async with unit_of_work() as uow:
            await request_returns(uow, [d.message for d in deliveries], settings.default_node)

    return _consumer(settings, REQUESTS_CONSUMER, CHANNEL_RETURNS, bare_decoder(ReturnRequest, 1), handle)


def order_events_consumer(settings: ReturnsSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[OrderPlaced]]) -> None:
        async with unit_of_work() as uow:  # an upsert: a redelivered order changes nothing, so no inbox
            await follow_orders(uow, [d.message for d in deliveries])

    return _consumer(settings, ORDERS_CONSUMER, ORDER_EVENTS, envelope_decoder(1, {"OrderPlaced": OrderPlaced}),
                     handle)


def warehouse_events_consumer(settings: ReturnsSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(WAREHOUSE_CONSUMER)

    async def handle(deliveries: list[Delivery]) -> None:
        async with unit_of_work() as uow:
            new = await uow.claim_new_deliveries(name, deliveries)
            delivered = {d.message.order_id: d.envelope.occurred_at for d in new
                         if isinstance(d.message, OrderFulfilmentChanged)
                         and d.message.stage is FulfilmentStage.delivered}
            await follow_warehouse(uow, [d.message for d in new if isinstance(d.message, ShipmentDispatched)],
                                   delivered, [d.message for d in new if isinstance(
                                       d.message, ReturnReceived | ReturnInspected | ReturnDispositionApplied)])

    return _consumer(settings, WAREHOUSE_CONSUMER, WAREHOUSE_EVENTS, envelope_decoder(1, {
        "ShipmentDispatched": ShipmentDispatched, "OrderFulfilmentChanged": OrderFulfilmentChanged,
        "ReturnReceived": ReturnReceived, "ReturnInspected": ReturnInspected,
        "ReturnDispositionApplied": ReturnDispositionApplied}), handle)


def finance_events_consumer(settings: ReturnsSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[RefundIssued]]) -> None:
        async with unit_of_work() as uow:  # issuing twice is a no-op in the domain, so no inbox
            await follow_finance(uow, [d.message for d in deliveries])

    return _consumer(settings, FINANCE_CONSUMER, FINANCE_EVENTS, envelope_decoder(1, {"RefundIssued": RefundIssued}),
                     handle)
