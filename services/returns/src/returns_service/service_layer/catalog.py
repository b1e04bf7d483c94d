"""The catalog's SKUs (catalog.skus.v1): the rules returns are decided by (returnability, final sale, the SKU's own
window, category, hazmat class) and the SKU's vendor, which vendor claims go to. A change of vendor is published
(SkuVendorAssigned) in the transaction that stores it, as made by whoever changed the catalog."""

from datetime import datetime

from ecomops_common.contracts import RETURNS_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.returns import SkuVendorAssigned
from ecomops_common.envelope import new_event
from ecomops_common.handlers import Received
from returns_service.domain.vendor_claims import VendorOf, vendor_change
from returns_service.service_layer.unit_of_work import SOURCE, ReturnsUnitOfWork


async def follow_catalog(uow: ReturnsUnitOfWork, changes: list[Received[SkuChanged]]) -> None:
    """Each SKU's newest revision; one not above the revision stored changes nothing, so a redelivery (or an older
    revision arriving late) publishes nothing twice and no inbox row is needed."""
    newest: dict[str, SkuChanged] = {}
    for change in (received.message for received in changes):
        if change.sku not in newest or change.revision > newest[change.sku].revision:
            newest[change.sku] = change
    applied = await uow.returns.catalog_revisions(newest)
    fresh = [change for change in newest.values() if change.revision > applied.get(change.sku, 0)]
    if not fresh:
        await uow.commit()
        return
    await uow.returns.put_catalog_skus([{
        "sku": c.sku, "revision": c.revision, "returnable": c.returnable, "final_sale": c.final_sale,
        "return_window_days": c.return_window_days, "category": c.category, "hazmat_class": c.hazmat_class,
        "changed_at": c.changed_at} for c in fresh])
    held = {sku: VendorOf(row["vendor_id"], row["vendor_sku"])
            for sku, row in (await uow.returns.sku_vendors([c.sku for c in fresh])).items()}
    assigned, removed = [], []
    for change in fresh:
        catalog = VendorOf(change.vendor_id, change.vendor_sku) if change.vendor_id else None
        match vendor_change(held.get(change.sku), catalog):
            case "assigned":
                assigned.append(change)
                _vendor_assigned(uow, change.sku, catalog, change.changed_by, change.changed_at)
            case "removed":
                removed.append(change.sku)
    if assigned:
        await uow.returns.put_vendors([{"sku": c.sku, "vendor_id": c.vendor_id, "vendor_sku": c.vendor_sku,
                                        "assigned_by": c.changed_by, "assigned_at": c.changed_at} for c in assigned])
    if removed:  # claims drafted already keep their vendor; new defects of the SKU are claimed from nobody
        await uow.returns.remove_vendors(removed)
    await uow.commit()


def _vendor_assigned(uow: ReturnsUnitOfWork, sku: str, vendor: VendorOf, actor: str, at: datetime) -> None:
    uow.emit(new_event("SkuVendorAssigned", 1, SOURCE, "sku", sku, SkuVendorAssigned(
        sku=sku, vendor_id=vendor.vendor_id, vendor_sku=vendor.vendor_sku, assigned_by=actor, at=at)), RETURNS_EVENTS)
