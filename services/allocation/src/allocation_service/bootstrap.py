"""Composition root: wires settings, database, topics, consumers, relay and HTTP into one service."""

from functools import partial

from fastapi import FastAPI

from allocation_service.entrypoints import http
from allocation_service.entrypoints.kafka import order_events_consumer, stock_levels_consumer
from allocation_service.migrations import MIGRATIONS
from allocation_service.service_layer import reconcile
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    INVENTORY_AVAILABILITY,
    INVENTORY_STOCK,
    ORDER_EVENTS,
    contracts_on,
)
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.topics import TopicSpec

# What this service publishes: its unit of work refuses anything else; docs/asyncapi.yaml describes it.
PUBLISHES = (
    *contracts_on(ALLOCATION_EVENTS, "OrderAllocated", "OrderBackordered", "AllocationReleased",
                  "AllocationExceptionRaised"),
    *contracts_on(INVENTORY_AVAILABILITY, "AvailabilityChanged"),
)


def build_app(settings: AllocationSettings | None = None) -> FastAPI:
    settings = settings or AllocationSettings()
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    runtime.topics = [
        TopicSpec(ORDER_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(INVENTORY_STOCK, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(ALLOCATION_EVENTS, settings.topic_partitions),
        TopicSpec(INVENTORY_AVAILABILITY, settings.topic_partitions),
    ]
    unit_of_work = partial(AllocationUnitOfWork, runtime.database, topic_prefix=settings.topic_prefix,
                           on_commit=runtime.relay.wake, publishes=PUBLISHES)
    runtime.consume(order_events_consumer(settings, unit_of_work))
    runtime.consume(stock_levels_consumer(settings, unit_of_work))

    async def observe() -> None:
        async with unit_of_work() as uow:
            await reconcile.observe(uow)

    runtime.every("reconciliation", settings.reconcile_interval_s, observe)
    app = create_app(runtime, title="Allocation service", routers=[http.router])
    app.state.unit_of_work = unit_of_work
    return app
