"""What other services tell the supply service: the catalog's purchasing terms, allocation's stock per node, and
the warehouse's shipments, sellable returns and receipts. Demand is counted per SKU×node per day: units shipped,
and units returned sellable (restocked) that net demand subtracts."""

from datetime import UTC, date, datetime

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.inventory import AvailabilityChanged
from ecomops_common.contracts.warehouse import GoodsReceived, ReturnDispositionApplied, ShipmentDispatched
from ecomops_common.handlers import Received
from supply_service.service_layer.purchase_orders import receive_goods
from supply_service.service_layer.unit_of_work import SupplyUnitOfWork

RESTOCK = "restock"  # the one disposition that puts returned units back on the shelf
WarehouseEvent = ShipmentDispatched | ReturnDispositionApplied | GoodsReceived


def counts_for_supply(message: WarehouseEvent) -> bool:
    """Returned units moved anywhere but back to stock are no demand the supply service nets: skipped before any
    transaction or inbox row."""
    return not isinstance(message, ReturnDispositionApplied) or message.disposition == RESTOCK


async def record_skus(uow: SupplyUnitOfWork, received: list[Received[SkuChanged]]) -> None:
    """Each SKU's newest revision; the store keeps a higher one, so a redelivery changes nothing (no inbox)."""
    latest: dict[str, SkuChanged] = {}
    for change in (r.message for r in received):
        if change.sku not in latest or change.revision > latest[change.sku].revision:
            latest[change.sku] = change
    await uow.supply.put_skus([
        {"sku": c.sku, "revision": c.revision, "status": c.status.value, "name": c.name, "vendor_id": c.vendor_id,
         "vendor_sku": c.vendor_sku, "lead_time_days": c.lead_time_days, "min_order_quantity": c.min_order_quantity,
         "case_pack": c.case_pack, "unit_cost": c.unit_cost, "currency": c.currency, "is_bundle": c.is_bundle}
        for c in latest.values()])
    await uow.commit()


async def record_availability(uow: SupplyUnitOfWork, received: list[Received[AvailabilityChanged]]) -> None:
    """On hand and reserved per SKU×node, the newest kept (no inbox: an older or repeated one changes nothing)."""
    latest: dict[str, AvailabilityChanged] = {}
    for change in (r.message for r in received):
        if change.sku not in latest or change.as_of >= latest[change.sku].as_of:
            latest[change.sku] = change
    rows = [{"sku": c.sku, "node": n.node, "on_hand": n.on_hand, "reserved": n.reserved, "as_of": c.as_of}
            for c in latest.values() for n in c.nodes]
    if rows:
        await uow.supply.put_stock(rows)
    await uow.commit()


async def follow_warehouse(uow: SupplyUnitOfWork, received: list[Received[WarehouseEvent]]) -> None:
    """Shipped and restocked units added to their day's demand, receipts to their purchase orders; in one
    transaction with the inbox (adding twice would count twice)."""
    days: dict[tuple[str, str, date], dict] = {}

    def day_of(sku: str, node: str, at: datetime) -> dict:
        day = at.astimezone(UTC).date()
        return days.setdefault((sku, node, day), {"sku": sku, "node": node, "day": day, "shipped": 0,
                                                  "restocked": 0})

    messages = [r.message for r in received]
    for message in messages:
        if isinstance(message, ShipmentDispatched):
            for line in message.lines:
                day_of(line.sku, message.node, message.shipped_at)["shipped"] += line.quantity
        elif isinstance(message, ReturnDispositionApplied):
            day_of(message.sku, message.node, message.applied_at)["restocked"] += message.quantity
    if days:
        await uow.supply.add_demand(list(days.values()))
    await receive_goods(uow, [m for m in messages if isinstance(m, GoodsReceived)])
    await uow.commit()
