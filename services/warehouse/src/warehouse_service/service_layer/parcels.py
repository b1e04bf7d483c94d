"""Parcels: once every unit of an order allocated to a node is packed, ParcelPacked asks the shipping service
for a label (once per parcel); the label it bought (shipping.events.v1 LabelPurchased) is kept for the parcel's
ship scans and shown to staff."""

import logging
from collections.abc import Iterable
from datetime import datetime

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.shipping import LabelPurchased
from ecomops_common.contracts.warehouse import PackedLine, ParcelPacked
from ecomops_common.envelope import new_event
from ecomops_common.handlers import Received
from warehouse_service.domain.parcels import packed_lines, parcel_id
from warehouse_service.domain.tasks import PickTask
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

log = logging.getLogger(__name__)
SOURCE = "warehouse"


async def announce_parcels(uow: WarehouseUnitOfWork, packed: Iterable[tuple[str, str]], at: datetime) -> None:
    """Emits ParcelPacked for each (order id, node) whose allocated units are all packed now, the first time
    only. Call with the orders' rows locked (pack scans lock them) and their tasks saved."""
    packed = set(packed)
    if not packed:
        return
    tasks: dict[tuple[str, str], list[PickTask]] = {key: [] for key in packed}
    for task in await uow.warehouse.tasks(order_ids={order_id for order_id, _ in packed}, lock=False):
        if (task.order_id, task.node) in tasks:
            tasks[task.order_id, task.node].append(task)
    for (order_id, node), parcel_tasks in sorted(tasks.items()):
        lines = packed_lines(parcel_tasks)
        parcel = parcel_id(order_id, node)
        if lines is None or not await uow.warehouse.add_parcel(parcel, order_id, node, lines, at):
            continue
        uow.emit(new_event("ParcelPacked", 1, SOURCE, "order", order_id, ParcelPacked(
            parcel_id=parcel, order_id=order_id, node=node, packed_at=at,
            lines=[PackedLine(sku=sku, quantity=units) for sku, units in sorted(lines.items())])), WAREHOUSE_EVENTS)


async def follow_labels(uow: WarehouseUnitOfWork, events: list[Received[LabelPurchased]]) -> None:
    """Stores each label on its parcel (a redelivery stores the same again); a label for a parcel not packed
    here is logged and skipped."""
    for label in (received.message for received in events):
        stored = await uow.warehouse.put_label(label.parcel_id, {
            "carrier": label.carrier, "service": label.service, "tracking_number": label.tracking_number,
            "label_url": label.label_url, "cost": label.cost, "currency": label.currency,
            "estimated_delivery": label.estimated_delivery, "label_purchased_at": label.purchased_at})
        if not stored:
            log.warning("label %s for parcel %s, which was not packed here", label.tracking_number, label.parcel_id)
    await uow.commit()
