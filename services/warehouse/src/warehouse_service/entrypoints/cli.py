"""`warehouse-reconcile`: balances against the sum of the movement ledger; exit 1 when any drift."""

from ecomops_common.reconcile_cli import run_check
from warehouse_service.service_layer.unit_of_work import SqlWarehouseUnitOfWork, WarehouseUnitOfWork
from warehouse_service.settings import WarehouseSettings


async def ledger_drift(uow: WarehouseUnitOfWork) -> list[dict]:
    return await uow.warehouse.ledger_drift()


def reconcile_main() -> None:
    run_check(WarehouseSettings().database_url, SqlWarehouseUnitOfWork, ledger_drift)
