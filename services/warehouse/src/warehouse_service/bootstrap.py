"""Composition root: wires settings, database, topics, consumers, relay and HTTP into one service."""

from functools import partial

from fastapi import FastAPI

from ecomops_common import metrics
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    INVENTORY_STOCK,
    RETURNS_EVENTS,
    WAREHOUSE_EVENTS,
    WAREHOUSE_SCANS,
    contracts_on,
)
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.topics import TopicSpec
from warehouse_service.entrypoints import http
from warehouse_service.entrypoints.kafka import allocations_consumer, returns_consumer, scans_consumer
from warehouse_service.migrations import MIGRATIONS
from warehouse_service.service_layer import tasks
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork
from warehouse_service.settings import WarehouseSettings

# What this service publishes: its unit of work refuses anything else; docs/asyncapi.yaml describes it.
PUBLISHES = (
    *contracts_on(WAREHOUSE_EVENTS, "OrderFulfilmentChanged", "ShipmentDispatched", "ReturnReceived", "ReturnInspected",
                  "ReturnDispositionApplied", "StockAdjusted"),
    *contracts_on(INVENTORY_STOCK, "StockLevelChanged"),
)


def build_app(settings: WarehouseSettings | None = None) -> FastAPI:
    settings = settings or WarehouseSettings()
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    runtime.topics = [
        TopicSpec(WAREHOUSE_SCANS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(INVENTORY_STOCK, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(ALLOCATION_EVENTS, settings.topic_partitions, with_dead_letters=True),
        TopicSpec(WAREHOUSE_EVENTS, settings.topic_partitions),
        TopicSpec(RETURNS_EVENTS, settings.topic_partitions, with_dead_letters=True),
    ]
    unit_of_work = partial(WarehouseUnitOfWork, runtime.database, topic_prefix=settings.topic_prefix,
                           on_commit=runtime.relay.wake, publishes=PUBLISHES)
    runtime.consume(scans_consumer(settings, unit_of_work))
    runtime.consume(allocations_consumer(settings, unit_of_work))
    runtime.consume(returns_consumer(settings, unit_of_work))

    async def release_due_waves() -> None:
        async with unit_of_work() as uow:
            await tasks.release_due_waves(uow, settings.wave_rules)

    async def reconcile_ledger() -> None:
        async with unit_of_work() as uow:
            drift = await uow.warehouse.ledger_drift()
        metrics.RECONCILIATION_DRIFT.labels(check="warehouse_ledger").set(len(drift))

    runtime.every("wave release", settings.wave_check_interval_s, release_due_waves)
    runtime.every("reconciliation", settings.reconcile_interval_s, reconcile_ledger)
    app = create_app(runtime, title="Warehouse service", routers=[http.router])
    app.state.unit_of_work = unit_of_work
    return app
