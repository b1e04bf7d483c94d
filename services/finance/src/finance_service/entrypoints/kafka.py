"""Consumers: placed orders, the warehouse's shipments, return handling and count adjustments, and the returns
service's authorizations and approved refunds. Each batch is one transaction with its inbox marks; offsets are
committed after it, so a redelivered event is recognised and posts nothing twice."""

from collections.abc import Callable

from ecomops_common.contracts import ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import RefundApproved, ReturnAuthorized
from ecomops_common.contracts.warehouse import (
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
    StockAdjusted,
)
from ecomops_common.messaging import BatchConsumer, Delivery, envelope_decoder
from finance_service.service_layer.posting import Fact, record_facts
from finance_service.settings import FinanceSettings

FOLLOWED = {
    ORDER_EVENTS: ("finance-service.order-events", (OrderPlaced,)),
    WAREHOUSE_EVENTS: ("finance-service.warehouse-events", (
        ShipmentDispatched, ReturnReceived, ReturnInspected, ReturnDispositionApplied, StockAdjusted)),
    RETURNS_EVENTS: ("finance-service.returns-events", (ReturnAuthorized, RefundApproved)),
}


def consumers(settings: FinanceSettings, unit_of_work: Callable) -> list[BatchConsumer]:
    return [_consumer(settings, unit_of_work, topic, name, models) for topic, (name, models) in FOLLOWED.items()]


def _consumer(settings: FinanceSettings, unit_of_work: Callable, topic: str, name: str, models) -> BatchConsumer:
    group = settings.consumer_group(name)

    async def handle(deliveries: list[Delivery]) -> None:
        async with unit_of_work() as uow:
            new = await uow.claim_new_deliveries(group, deliveries)
            await record_facts(uow, [Fact(d.event_id, d.message) for d in new])
            await uow.commit()

    return BatchConsumer(name=group, topic=settings.topic(topic),
                         decode=envelope_decoder(1, {model.__name__: model for model in models}), handle=handle,
                         max_records=settings.consumer_max_records,
                         batch_timeout_ms=settings.consumer_batch_timeout_ms)
