"""Composition root: what the allocation service is; ecomops_common.service wires it like every other service."""

from fastapi import FastAPI

from allocation_service.entrypoints import http
from allocation_service.migrations import MIGRATIONS
from allocation_service.service_layer import reconcile, soft_reservations
from allocation_service.service_layer.handlers import handlers
from allocation_service.service_layer.unit_of_work import SqlAllocationUnitOfWork
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import ALLOCATION_EVENTS, INVENTORY_AVAILABILITY, contracts_on
from ecomops_common.service import ServiceDefinition

PUBLISHES = (
    *contracts_on(ALLOCATION_EVENTS, "OrderAllocated", "OrderBackordered", "AllocationReleased",
                  "AllocationExceptionRaised", "BackorderPromiseChanged"),
    *contracts_on(INVENTORY_AVAILABILITY, "AvailabilityChanged"),
)

ALLOCATION_SERVICE = ServiceDefinition(
    title="Allocation service", settings=AllocationSettings, unit_of_work=SqlAllocationUnitOfWork,
    migrations=MIGRATIONS, publishes=PUBLISHES, handlers=handlers, routers=[http.router])


def build_app(settings: AllocationSettings | None = None) -> FastAPI:
    service = ALLOCATION_SERVICE.build(settings)
    service.every("reconciliation", service.settings.reconcile_interval_s, reconcile.observe)
    service.every("soft-reservation-expiry", service.settings.soft_reservation_sweep_interval_s,
                  soft_reservations.expire_due)
    return service.app
