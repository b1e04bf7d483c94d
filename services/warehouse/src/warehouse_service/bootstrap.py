"""Composition root: what the warehouse service is; ecomops_common.service wires it like every other service."""

from functools import partial

from fastapi import FastAPI

from ecomops_common import metrics
from ecomops_common.contracts import INVENTORY_STOCK, WAREHOUSE_EVENTS, contracts_on
from ecomops_common.service import ServiceDefinition
from warehouse_service.entrypoints import http
from warehouse_service.migrations import MIGRATIONS
from warehouse_service.service_layer import tasks
from warehouse_service.service_layer.handlers import handlers
from warehouse_service.service_layer.unit_of_work import SqlWarehouseUnitOfWork, WarehouseUnitOfWork
from warehouse_service.settings import WarehouseSettings

PUBLISHES = (
    *contracts_on(WAREHOUSE_EVENTS, "OrderFulfilmentChanged", "ShipmentDispatched", "ReturnReceived", "ReturnInspected",
                  "ReturnDispositionApplied", "StockAdjusted", "WarehouseExceptionChanged", "CountRecorded",
                  "RecoveryStockMoved", "GradedVariantDefined", "ParcelPacked", "GoodsReceived", "TransferChanged"),
    *contracts_on(INVENTORY_STOCK, "StockLevelChanged"),
)

WAREHOUSE_SERVICE = ServiceDefinition(
    title="Warehouse service", settings=WarehouseSettings, unit_of_work=SqlWarehouseUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router])


async def reconcile_ledger(uow: WarehouseUnitOfWork) -> None:
    metrics.RECONCILIATION_DRIFT.labels(check="warehouse_ledger").set(len(await uow.warehouse.ledger_drift()))


def build_app(settings: WarehouseSettings | None = None) -> FastAPI:
    service = WAREHOUSE_SERVICE.build(settings)
    settings = service.settings
    service.every("wave release", settings.wave_check_interval_s,
                  partial(tasks.release_due_waves, rules=settings.wave_rules))
    service.every("reconciliation", settings.reconcile_interval_s, reconcile_ledger)
    return service.app
