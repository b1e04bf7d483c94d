"""Reconciliation: the reserved counters must equal the sum of live reservations, the soft_reserved counters the units
active soft reservations hold, and nothing may be negative."""

from dataclasses import dataclass

from prometheus_client import Gauge

from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common import metrics

BACKORDERED_ORDERS = Gauge("ecomops_backordered_orders", "Orders with units on backorder, at the last reconciliation")
BACKORDERED_UNITS = Gauge("ecomops_backordered_units", "Units on backorder, at the last reconciliation")


@dataclass(frozen=True)
class Drift:
    sku: str
    node: str
    reserved: int | None  # the counter; None when there is no position row at all
    live: int  # units held by reservation records (of active soft reservations, for soft_reserved)
    counter: str = "reserved"  # or soft_reserved


async def reconcile(uow: AllocationUnitOfWork) -> list[Drift]:
    """Positions whose counters disagree with their reservations; empty when all is well."""
    return [Drift(**row) for row in await uow.allocation.reservation_drift()]


async def observe(uow: AllocationUnitOfWork) -> None:
    """For the metrics, every reconcile interval: the drift found and what waits on backorder. Reads only."""
    metrics.RECONCILIATION_DRIFT.labels(check="allocation_reservations").set(len(await reconcile(uow)))
    orders, units = await uow.allocation.backorder_totals()
    BACKORDERED_ORDERS.set(orders)
    BACKORDERED_UNITS.set(units)
