"""Composition root: what the order service is; ecomops_common.service wires it like every other service."""

from functools import partial

from fastapi import FastAPI

from ecomops_common.batching import Coalescer
from ecomops_common.contracts import ORDER_EVENTS, contracts_on
from ecomops_common.service import ServiceDefinition
from order_service.entrypoints import http
from order_service.migrations import MIGRATIONS
from order_service.service_layer.handlers import handlers
from order_service.service_layer.intake import take_orders_in_one_transaction
from order_service.service_layer.unit_of_work import SqlOrderUnitOfWork
from order_service.settings import OrderSettings

PUBLISHES = contracts_on(ORDER_EVENTS, "OrderPlaced", "OrderRejected", "OrderStatusChanged")

ORDER_SERVICE = ServiceDefinition(
    title="Order service", settings=OrderSettings, unit_of_work=SqlOrderUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router, http.rules_router])


def build_app(settings: OrderSettings | None = None) -> FastAPI:
    service = ORDER_SERVICE.build(settings)
    settings = service.settings
    # Concurrent POSTs share a transaction: the commit (and its fsync) is paid once per batch.
    service.app.state.intake = Coalescer(
        partial(take_orders_in_one_transaction, service.unit_of_work, settings.intake_policy),
        max_waiting=settings.intake_queue_limit, max_batch=settings.consumer_max_records)
    return service.app
