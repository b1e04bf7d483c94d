"""Announcing how far the warehouse is with orders (OrderFulfilmentChanged), when that changes."""

from ecomops_common.auth import Principal
from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.warehouse import FulfilmentStage, OrderFulfilmentChanged
from ecomops_common.envelope import new_event
from ecomops_common.errors import Conflict
from warehouse_service.domain.tasks import PickTask, fulfilment_stage
from warehouse_service.service_layer.callers import check_carrier
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

SOURCE = "warehouse"


async def announce_progress(uow: WarehouseUnitOfWork, order_ids: set[str]) -> None:
    """Emits OrderFulfilmentChanged for each order whose stage moved; call before the commit.

    The orders' rows are locked before their tasks are read, so when two transactions finish an order's last
    lines at once, the later reads the earlier's tasks and announces. A caller that locks tasks locks their
    orders first (warehouse_orders before pick_tasks), or two such transactions could deadlock."""
    if not order_ids:
        return
    stages = await uow.warehouse.order_stages(order_ids)
    tasks_by_order: dict[str, list[PickTask]] = {order_id: [] for order_id in order_ids}
    for task in await uow.warehouse.tasks(order_ids=order_ids, lock=False):
        tasks_by_order[task.order_id].append(task)
    moved = {}
    for order_id, tasks in sorted(tasks_by_order.items()):
        announced, backordered = stages.get(order_id, (None, 0))
        stage = fulfilment_stage(tasks, backordered)
        if stage is None or stage == announced or announced == FulfilmentStage.delivered:
            continue
        moved[order_id] = stage.value
        _emit(uow, order_id, stage, tasks)
    await uow.warehouse.save_order_stages(moved)


class NotShipped(Conflict):
    pass


async def confirm_delivery(uow: WarehouseUnitOfWork, order_id: str, by: Principal) -> None:
    """The carrier delivered the order's shipments: the order becomes delivered. A carrier client confirms only
    orders whose parcels it took (when the ship scans named their carrier)."""
    check_carrier(by, await uow.warehouse.shipment_carriers(order_id))
    announced, _ = (await uow.warehouse.order_stages([order_id])).get(order_id, (None, 0))
    if announced != FulfilmentStage.shipped:
        raise NotShipped(f"order {order_id} is {announced or 'unknown to the warehouse'}, not shipped")
    _emit(uow, order_id, FulfilmentStage.delivered, await uow.warehouse.tasks(order_ids=[order_id], lock=False))
    await uow.warehouse.save_order_stages({order_id: FulfilmentStage.delivered.value})
    await uow.commit()


def _emit(uow: WarehouseUnitOfWork, order_id: str, stage: FulfilmentStage, tasks: list[PickTask]) -> None:
    live = [task for task in tasks if task.status.value != "cancelled"]
    uow.emit(new_event("OrderFulfilmentChanged", 1, SOURCE, "order", order_id, OrderFulfilmentChanged(
        order_id=order_id, stage=stage, units=sum(t.quantity for t in live), picked=sum(t.picked for t in live),
        packed=sum(t.packed for t in live), shipped=sum(t.shipped for t in live))), WAREHOUSE_EVENTS)
