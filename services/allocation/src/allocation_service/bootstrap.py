"""Composition root: wires settings, database, topics, consumers, relay and HTTP into one service."""

from functools import partial

from fastapi import FastAPI

from allocation_service.adapters.orm import TABLES
from allocation_service.entrypoints import http
from allocation_service.entrypoints.kafka import order_events_consumer, stock_levels_consumer
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import ALLOCATION_EVENTS, INVENTORY_AVAILABILITY, INVENTORY_STOCK, ORDER_EVENTS
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.topics import TopicSpec


def build_app(settings: AllocationSettings | None = None) -> FastAPI:
    settings = settings or AllocationSettings()
    runtime = ServiceRuntime(settings, tables=TABLES)
    runtime.topics = [
        TopicSpec(ORDER_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(INVENTORY_STOCK, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(ALLOCATION_EVENTS, settings.topic_partitions),
        TopicSpec(INVENTORY_AVAILABILITY, settings.topic_partitions),
    ]
    unit_of_work = partial(AllocationUnitOfWork, runtime.database, topic_prefix=settings.topic_prefix,
                           on_commit=runtime.relay.wake)
    runtime.consume(order_events_consumer(settings, unit_of_work))
    runtime.consume(stock_levels_consumer(settings, unit_of_work))
    app = create_app(runtime, title="Allocation service", routers=[http.router])
    app.state.unit_of_work = unit_of_work
    return app
