"""Scans that scanners publish to warehouse.scans.v1 (key: device id): one transaction per batch."""

from collections.abc import Callable

from ecomops_common.contracts import ALLOCATION_EVENTS, RETURNS_EVENTS, WAREHOUSE_SCANS
from ecomops_common.contracts.allocation import AllocationReleased, OrderAllocated, OrderBackordered
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.messaging import BatchConsumer, Delivery, bare_decoder, envelope_decoder
from warehouse_service.domain.scans import ScanCommand
from warehouse_service.service_layer.returns import follow_returns
from warehouse_service.service_layer.scanning import apply_scans
from warehouse_service.service_layer.tasks import follow_allocations
from warehouse_service.settings import WarehouseSettings

SCANS_CONSUMER = "warehouse-service.scans"
ALLOCATIONS_CONSUMER = "warehouse-service.allocations"
RETURNS_CONSUMER = "warehouse-service.returns"


def to_command(scan: Scan) -> ScanCommand:
    return ScanCommand(
        scan_id=scan.scan_id, device_id=scan.device_id, operator_id=scan.operator_id, node=scan.warehouse_id,
        scanned_at=scan.scanned_at, kind=scan.kind.value, sku=scan.sku, quantity=scan.quantity,
        location=scan.location, to_location=scan.to_location, reference=scan.reference,
        condition=scan.condition.value if scan.condition else None, lot=scan.lot, serial=scan.serial,
        expiry=scan.expiry,
        tracking_number=scan.tracking_number, carrier=scan.carrier, shipping_cost=scan.shipping_cost,
        currency=scan.currency)


def scans_consumer(settings: WarehouseSettings, unit_of_work: Callable) -> BatchConsumer:
    async def handle(deliveries: list[Delivery[Scan]]) -> None:
        # A refused scan goes to the exception queue, not the dead letters: it is well-formed, just not applicable.
        async with unit_of_work() as uow:
            await apply_scans(uow, [(to_command(d.message), d.record.value.decode()) for d in deliveries],
                              settings.count_auto_adjust_units)

    return BatchConsumer(
        name=settings.consumer_group(SCANS_CONSUMER), topic=settings.topic(WAREHOUSE_SCANS),
        decode=bare_decoder(Scan, 1), handle=handle, max_records=settings.consumer_max_records,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


def allocations_consumer(settings: WarehouseSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(ALLOCATIONS_CONSUMER)

    async def handle(deliveries: list[Delivery]) -> None:
        async with unit_of_work() as uow:
            await follow_allocations(uow, [d.message for d in await uow.claim_new_deliveries(name, deliveries)],
                                     settings.wave_rules)

    return BatchConsumer(
        name=name, topic=settings.topic(ALLOCATION_EVENTS),
        decode=envelope_decoder(1, {"OrderAllocated": OrderAllocated, "OrderBackordered": OrderBackordered,
                                    "AllocationReleased": AllocationReleased}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )


def returns_consumer(settings: WarehouseSettings, unit_of_work: Callable) -> BatchConsumer:
    name = settings.consumer_group(RETURNS_CONSUMER)

    async def handle(deliveries: list[Delivery]) -> None:
        async with unit_of_work() as uow:
            await follow_returns(uow, [d.message for d in await uow.claim_new_deliveries(name, deliveries)])

    return BatchConsumer(
        name=name, topic=settings.topic(RETURNS_EVENTS),
        decode=envelope_decoder(1, {"ReturnAuthorized": ReturnAuthorized,
                                    "ReturnDispositionDecided": ReturnDispositionDecided}),
        handle=handle, max_records=settings.consumer_max_records, batch_timeout_ms=settings.consumer_batch_timeout_ms,
    )
