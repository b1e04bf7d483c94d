"""Composition root: wires settings, database, topics, consumers, relay and HTTP into one service."""

from functools import partial

from fastapi import FastAPI

from ecomops_common.batching import Coalescer
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    CHANNEL_ORDERS,
    CHANNEL_PAYMENTS,
    ORDER_EVENTS,
    RETURNS_EVENTS,
    WAREHOUSE_EVENTS,
    contracts_on,
)
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.topics import TopicSpec
from order_service.entrypoints import http
from order_service.entrypoints.kafka import (
    allocation_events_consumer,
    channel_orders_consumer,
    channel_payments_consumer,
    returns_events_consumer,
    warehouse_events_consumer,
)
from order_service.migrations import MIGRATIONS
from order_service.service_layer.intake import IntakeResult, Submission, take_orders
from order_service.service_layer.unit_of_work import OrderUnitOfWork
from order_service.settings import OrderSettings

# What this service publishes: its unit of work refuses anything else; docs/asyncapi.yaml describes it.
PUBLISHES = contracts_on(ORDER_EVENTS, "OrderPlaced", "OrderRejected", "OrderStatusChanged")


def build_app(settings: OrderSettings | None = None) -> FastAPI:
    settings = settings or OrderSettings()
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    runtime.topics = [
        TopicSpec(CHANNEL_ORDERS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(CHANNEL_PAYMENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(ORDER_EVENTS, settings.topic_partitions),
        # Created here too, so the consumers can start before the other services ever have.
        TopicSpec(ALLOCATION_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(WAREHOUSE_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(RETURNS_EVENTS, settings.topic_partitions, with_dead_letters=True),
    ]
    unit_of_work = partial(OrderUnitOfWork, runtime.database, topic_prefix=settings.topic_prefix,
                           on_commit=runtime.relay.wake, publishes=PUBLISHES)
    runtime.consume(channel_orders_consumer(settings, unit_of_work))
    runtime.consume(channel_payments_consumer(settings, unit_of_work))
    runtime.consume(allocation_events_consumer(settings, unit_of_work))
    runtime.consume(warehouse_events_consumer(settings, unit_of_work))
    runtime.consume(returns_events_consumer(settings, unit_of_work))

    async def take_in_one_transaction(submissions: list[Submission]) -> list[IntakeResult]:
        async with unit_of_work() as uow:
            return await take_orders(uow, submissions, settings.intake_policy)

    app = create_app(runtime, title="Order service", routers=[http.router])
    app.state.unit_of_work = unit_of_work
    # Concurrent POSTs share a transaction: the commit (and its fsync) is paid once per batch.
    app.state.intake = Coalescer(take_in_one_transaction, max_waiting=settings.intake_queue_limit,
                                 max_batch=settings.consumer_max_records)
    return app
