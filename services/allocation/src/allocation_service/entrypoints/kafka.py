"""Consumers: order events (allocate, release) and stock levels; each batch is one transaction, inbox included."""

from collections.abc import Callable

from allocation_service.domain.sourcing import OrderDemand
from allocation_service.service_layer.allocation import (
    Cause,
    OrderEvents,
    StockLevel,
    process_order_events,
    set_stock_levels,
)
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import INVENTORY_STOCK, ORDER_EVENTS
from ecomops_common.contracts.inventory import StockLevelChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderStatus, OrderStatusChanged
from ecomops_common.messaging import BatchConsumer, Delivery, envelope_decoder

ORDER_EVENTS_CONSUMER = "allocation-service.order-events"
STOCK_LEVELS_CONSUMER = "allocation-service.stock-levels"
RELEASING_STATUSES = {OrderStatus.cancelled, OrderStatus.rejected}


def demand_of(order: OrderPlaced) -> OrderDemand:
    return OrderDemand(
        order_id=order.order_id, channel=order.channel,
        lines=[(line.line_id, line.sku, line.quantity) for line in order.lines],
        ship_to_country=order.ship_to.country or "", service_level=order.service_level.value,
        customer_tier=order.customer.tier.value, placed_at=order.placed_at, promised_date=order.promised_date,
    )


def order_events_of(deliveries: list[Delivery]) -> OrderEvents:
    events = OrderEvents()
    for delivery in deliveries:
        message = delivery.message
        if isinstance(message, OrderPlaced):
            events.placed.append((demand_of(message), message.status is not OrderStatus.awaiting_allocation))
        elif message.to_status is OrderStatus.awaiting_allocation:
            events.to_allocate.add(message.order_id)
        elif message.to_status in RELEASING_STATUSES:
            events.to_release[message.order_id] = message.to_status.value
        else:
            continue
        events.causes[message.order_id] = Cause(delivery.event_id, delivery.correlation_id, delivery.traceparent)
    return events


def order_events_consumer(settings: AllocationSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(ORDER_EVENTS_CONSUMER)

    async def handle(deliveries: list[Delivery]) -> None:
        async with unit_of_work() as uow:
            await process_order_events(uow, order_events_of(await uow.claim_new_deliveries(name, deliveries)))

    return BatchConsumer(
        name=name, topic=settings.topic(ORDER_EVENTS),
        decode=envelope_decoder(1, {"OrderPlaced": OrderPlaced, "OrderStatusChanged": OrderStatusChanged}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


def _line_units(units) -> tuple[tuple[str, str, int], ...]:
    return tuple((u.order_id, u.line_id, u.quantity) for u in units)


def stock_levels_consumer(settings: AllocationSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(STOCK_LEVELS_CONSUMER)

    async def handle(deliveries: list[Delivery[StockLevelChanged]]) -> None:
        async with unit_of_work() as uow:
            levels = [StockLevel(d.message.sku, d.message.node, on_hand=d.message.sellable_on_hand,
                                 version=d.message.version, cause=Cause(d.event_id, d.correlation_id, d.traceparent),
                                 fulfilled=_line_units(d.message.fulfilled),
                                 short_picked=_line_units(d.message.short_picked))
                      for d in await uow.claim_new_deliveries(name, deliveries)]
            await set_stock_levels(uow, levels)

    return BatchConsumer(
        name=name, topic=settings.topic(INVENTORY_STOCK),
        decode=envelope_decoder(1, {"StockLevelChanged": StockLevelChanged}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )
