"""The SKU master (catalog.skus.v1): each SKU's handling rules and barcodes at the newest revision, and what a
scan's `sku` names (a SKU or one of its barcodes)."""

from dataclasses import replace

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.handlers import Received
from warehouse_service.domain.catalog import SkuRules, resolve_sku
from warehouse_service.domain.scans import ScanCommand
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork


async def follow_skus(uow: WarehouseUnitOfWork, events: list[Received[SkuChanged]]) -> None:
    """An older or repeated revision of a SKU changes nothing (so a redelivery needs no inbox row)."""
    for event in (received.message for received in events):
        await uow.warehouse.put_sku_rules(SkuRules(
            event.sku, event.revision, event.lot_controlled, event.serial_controlled, event.expiry_controlled,
            event.shelf_life_days, event.hazmat_class, tuple(event.barcodes), event.is_bundle), event.changed_at)
    await uow.commit()


async def named_skus(uow: WarehouseUnitOfWork, scans: list[ScanCommand]
                     ) -> tuple[list[ScanCommand], dict[str, SkuRules]]:
    """The scans with a scanned barcode replaced by its SKU, and the catalog's rules of their SKUs."""
    scanned = {scan.sku for scan in scans}
    rules = await uow.warehouse.sku_rules(scanned)
    barcodes = await uow.warehouse.barcode_skus(scanned - rules.keys())
    rules |= await uow.warehouse.sku_rules(set(barcodes.values()) - rules.keys())
    return [replace(scan, sku=resolve_sku(scan.sku, rules.keys(), barcodes)) for scan in scans], rules
