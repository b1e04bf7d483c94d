"""The SKU master (catalog.skus.v1) as intake needs it, and the orders it frees: an order on inventory hold loses the
hold once the catalog knows every SKU of it, active. Channels' unknown-SKU rules are set here too."""

import logging
from datetime import UTC, datetime

from ecomops_common.auth import Principal
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.catalog import SkuChanged, SkuStatus
from ecomops_common.handlers import Received
from order_service.domain.catalog import CatalogSku, Component, UnknownSkuAction, newest, placed_as_sent
from order_service.service_layer.lifecycle import states_of_locked, status_changed
from order_service.service_layer.unit_of_work import OrderUnitOfWork

log = logging.getLogger(__name__)
CATALOG_ACTOR = "catalog"  # the release follows the SKU master's news, no person's decision


def catalog_sku_of(change: SkuChanged) -> CatalogSku:
    return CatalogSku(change.sku, change.revision, change.status is SkuStatus.active, change.category,
                      change.final_sale, change.unit_cost,
                      tuple(Component(part.sku, part.quantity) for part in change.components))


async def record_sku_changes(uow: OrderUnitOfWork, changes: list[Received[SkuChanged]]) -> None:
    """A batch of SKU changes in one transaction: the newest revision of each SKU wins over what is stored, then
    the orders awaiting a SKU that became known and active are released where every SKU they await is."""
    now = datetime.now(UTC)
    entries = {entry.sku: entry for entry in newest(catalog_sku_of(change.message) for change in changes)}
    changed = await uow.orders.save_catalog_entries(list(entries.values()), now)
    awaited = await uow.orders.orders_awaiting([sku for sku in changed if entries[sku].active])
    catalog = await uow.orders.catalog_entries({sku for skus in awaited.values() for sku in skus})
    ready = sorted(order_id for order_id, skus in awaited.items()
                   if all(placed_as_sent(sku, catalog) for sku in skus))
    if ready:
        rows = await uow.orders.lock_orders(ready)
        states = await states_of_locked(uow, ready, rows)
        for order_id in ready:
            state = states[order_id]
            note = "the catalog knows " + ", ".join(sorted(awaited[order_id]))
            if not state.catalog_caught_up(CATALOG_ACTOR, note, now):
                continue
            for transition in state.changes:
                uow.emit(status_changed(rows[order_id], state, transition), ORDER_EVENTS)
            await uow.orders.save_state(state, now)
        log.info("released the inventory hold of %d orders", len(ready))
    await uow.commit()


async def set_unknown_sku_rule(uow: OrderUnitOfWork, channel: str, action: UnknownSkuAction, by: Principal) -> None:
    """From now on the channel's orders with SKUs the catalog does not know (or discontinued) are held or rejected;
    orders placed before keep what they got."""
    await uow.orders.set_unknown_sku_rule(channel, action, by.subject, datetime.now(UTC))
    await uow.commit()
