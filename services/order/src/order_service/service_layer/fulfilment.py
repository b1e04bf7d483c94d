"""The warehouse's progress (warehouse.events.v1) moves orders to released_to_warehouse ... delivered."""

import logging

from ecomops_common.contracts.orders import OrderStatus
from ecomops_common.contracts.warehouse import OrderFulfilmentChanged
from ecomops_common.handlers import Received
from order_service.domain.lifecycle import follow_fulfilment
from order_service.service_layer.lifecycle import apply_to_order
from order_service.service_layer.unit_of_work import OrderUnitOfWork

log = logging.getLogger(__name__)


async def record_fulfilment(uow: OrderUnitOfWork, updates: list[Received[OrderFulfilmentChanged]]) -> None:
    """All updates of a batch in one transaction. The stage is kept, so an order still waiting for its
    allocation result follows it then; for an order elsewhere (e.g. cancelled) it is only logged."""
    for update in updates:
        event = update.message
        await uow.orders.save_fulfilment_stage(event.order_id, event.stage.value)

        def advance(state, at, event=event) -> None:
            reason = f"{event.shipped}/{event.units} units shipped" if event.stage == "shipped" else None
            if not follow_fulfilment(state, OrderStatus(event.stage.value), "warehouse", reason, at):
                log.info("order %s is %s: warehouse stage %s leaves it as it is", event.order_id, state.status,
                         event.stage)

        await apply_to_order(uow, event.order_id, advance, causation_id=update.event_id,
                             correlation_id=update.correlation_id, traceparent=update.traceparent)
    await uow.commit()
