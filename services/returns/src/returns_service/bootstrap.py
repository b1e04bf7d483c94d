"""Composition root: wires settings, database, topics, consumers, relay and HTTP into one service."""

from functools import partial

from fastapi import FastAPI

from ecomops_common.contracts import (
    CHANNEL_ORDERS,
    CHANNEL_RETURNS,
    FINANCE_EVENTS,
    ORDER_EVENTS,
    RETURNS_EVENTS,
    WAREHOUSE_EVENTS,
    contracts_on,
)
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.topics import TopicSpec
from returns_service.entrypoints import http
from returns_service.entrypoints.kafka import (
    finance_events_consumer,
    order_events_consumer,
    return_requests_consumer,
    warehouse_events_consumer,
)
from returns_service.migrations import MIGRATIONS
from returns_service.service_layer.unit_of_work import ReturnsUnitOfWork
from returns_service.settings import ReturnsSettings

# What this service publishes: its unit of work refuses anything else; docs/asyncapi.yaml describes it.
PUBLISHES = (
    *contracts_on(RETURNS_EVENTS, "ReturnAuthorized", "ReturnRefused", "ReturnStatusChanged",
                  "ReturnDispositionDecided", "RefundApproved"),
    *contracts_on(CHANNEL_ORDERS, "ChannelOrder"),  # an exchange's replacement order, placed like a channel's
)


def build_app(settings: ReturnsSettings | None = None) -> FastAPI:
    settings = settings or ReturnsSettings()
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    runtime.topics = [
        TopicSpec(CHANNEL_RETURNS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(ORDER_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(WAREHOUSE_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(FINANCE_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(RETURNS_EVENTS, settings.topic_partitions),
        TopicSpec(CHANNEL_ORDERS, settings.topic_partitions, with_dead_letters=True),
    ]
    unit_of_work = partial(ReturnsUnitOfWork, runtime.database, topic_prefix=settings.topic_prefix,
                           on_commit=runtime.relay.wake, publishes=PUBLISHES)
    for consumer in (return_requests_consumer, order_events_consumer, warehouse_events_consumer,
                     finance_events_consumer):
        runtime.consume(consumer(settings, unit_of_work))
    app = create_app(runtime, title="Returns service", routers=[http.router])
    app.state.unit_of_work = unit_of_work
    return app
