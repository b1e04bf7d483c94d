"""`allocation-reconcile`: recomputes reserved quantities from live reservations; exit 1 when any drift."""

from allocation_service.service_layer.reconcile import reconcile
from allocation_service.service_layer.unit_of_work import SqlAllocationUnitOfWork
from allocation_service.settings import AllocationSettings
from ecomops_common.reconcile_cli import run_check


def reconcile_main() -> None:
    run_check(AllocationSettings().database_url, SqlAllocationUnitOfWork, reconcile)
