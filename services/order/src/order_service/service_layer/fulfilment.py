"""What the order service takes from the warehouse (warehouse.events.v1): its progress moves orders to
released_to_warehouse ... delivered; the channels of graded variants are kept for intake. And from the carriers
(shipping.tracking.v1): an order delivered in full moves from shipped to delivered."""

import logging
from datetime import UTC, datetime

from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.orders import OrderStatus
from ecomops_common.contracts.shipping import TrackingStatus, TrackingUpdated
from ecomops_common.contracts.warehouse import FulfilmentStage, GradedVariantDefined, OrderFulfilmentChanged
from ecomops_common.handlers import Received
from order_service.domain.lifecycle import follow_fulfilment
from order_service.domain.model import GradedVariant
from order_service.service_layer.lifecycle import states_of_locked, status_changed
from order_service.service_layer.unit_of_work import OrderUnitOfWork

log = logging.getLogger(__name__)


async def record_warehouse_events(
        uow: OrderUnitOfWork, events: list[Received[OrderFulfilmentChanged | GradedVariantDefined]]) -> None:
    """A batch of the warehouse's events in one transaction."""
    # The topic is keyed by variant SKU, so a variant's last definition in the batch is its latest.
    variants = {event.message.variant_sku: event.message for event in events
                if isinstance(event.message, GradedVariantDefined)}
    await uow.orders.save_graded_variants([GradedVariant(sku, frozenset(variant.channels), variant.at)
                                           for sku, variant in variants.items()])
    if updates := [event for event in events if isinstance(event.message, OrderFulfilmentChanged)]:
        await _follow_fulfilment_updates(uow, updates)
    await uow.commit()


async def _follow_fulfilment_updates(uow: OrderUnitOfWork, updates: list[Received[OrderFulfilmentChanged]]) -> None:
    """Applies the updates of many orders with a fixed number of statements.

    Each order follows its updates in the order they came. Its latest stage is kept, so an order still waiting for
    its allocation result follows it then; for an order elsewhere (e.g. cancelled) it is only logged.
    An unknown order fails the update, to be dead-lettered and redriven once the order exists.
    """
    now = datetime.now(UTC)
    order_ids = sorted({update.message.order_id for update in updates})
    rows = await uow.orders.lock_orders(order_ids)
    states = await states_of_locked(uow, order_ids, rows)
    # The topic is keyed by order id, so an order's last update in the batch is its latest stage.
    await uow.orders.save_fulfilment_stages({update.message.order_id: update.message.stage.value
                                             for update in updates})

    for update in updates:
        event, state = update.message, states[update.message.order_id]
        first_new = len(state.changes)
        reason = f"{event.shipped}/{event.units} units shipped" if event.stage is FulfilmentStage.shipped else None
        if not follow_fulfilment(state, OrderStatus(event.stage.value), "warehouse", reason, now):
            log.info("order %s is %s: warehouse stage %s leaves it as it is", event.order_id, state.status,
                     event.stage)
        for transition in state.changes[first_new:]:
            uow.emit(status_changed(rows[event.order_id], state, transition, causation_id=update.event_id,
                                    correlation_id=update.correlation_id, traceparent=update.traceparent),
                     ORDER_EVENTS)
    await uow.orders.save_statuses([state for state in states.values() if state.changes], now)


def delivers_an_order(update: TrackingUpdated) -> bool:
    """The tracking events the order service acts on: the delivery of an order's last parcel."""
    return update.status is TrackingStatus.delivered and update.order_delivered and update.order_id is not None


async def record_deliveries(uow: OrderUnitOfWork, updates: list[Received[TrackingUpdated]]) -> None:
    """Shipped orders the carriers delivered in full become delivered, by the carrier; an order delivered already
    stays as it is (a redelivered event), one elsewhere (not shipped yet, say) is only logged. An unknown order
    fails the update, to be dead-lettered and redriven once the order exists."""
    now = datetime.now(UTC)
    order_ids = sorted({update.message.order_id for update in updates})
    rows = await uow.orders.lock_orders(order_ids)
    states = await states_of_locked(uow, order_ids, rows)
    for update in updates:
        event, state = update.message, states[update.message.order_id]
        if state.status is not OrderStatus.shipped:
            if state.status is not OrderStatus.delivered:
                log.info("order %s is %s: delivery of %s leaves it as it is", event.order_id, state.status,
                         event.tracking_number)
            continue
        state.move(OrderStatus.delivered, f"carrier:{event.carrier}",
                   f"{event.carrier} {event.service} {event.tracking_number} delivered", now)
        uow.emit(status_changed(rows[event.order_id], state, state.changes[-1], causation_id=update.event_id,
                                correlation_id=update.correlation_id, traceparent=update.traceparent), ORDER_EVENTS)
    await uow.orders.save_statuses([state for state in states.values() if state.changes], now)
    await uow.commit()
