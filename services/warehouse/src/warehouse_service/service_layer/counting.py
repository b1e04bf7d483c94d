"""Supervisor decisions on count variances beyond the automatic threshold (four-eyes: not the counter)."""

from datetime import UTC, datetime

from ecomops_common.contracts.warehouse import WarehouseExceptionStatus
from ecomops_common.errors import Conflict, NotFound
from ecomops_common.ids import new_id
from warehouse_service.domain.approvals import require_four_eyes
from warehouse_service.domain.ledger import InsufficientStock
from warehouse_service.domain.refusals import ScanRefused
from warehouse_service.domain.scans import count_adjustment
from warehouse_service.domain.tasks import CountTask
from warehouse_service.service_layer.exception_queue import announce_count_variance
from warehouse_service.service_layer.scanning import LockedStock, announce_stock_adjustment
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork


class NotOpen(NotFound):
    """No such undecided variance or open count task."""


class DecisionRefused(Conflict):
    pass


async def decide_count_variance(uow: WarehouseUnitOfWork, scan_id: str, actor: str, approve: bool) -> None:
    now = datetime.now(UTC)
    variance = await uow.warehouse.open_count_variance(scan_id)
    if variance is None:
        raise NotOpen(f"no undecided count variance for scan {scan_id}")
    require_four_eyes(actor, variance.counted_by, f"counted {scan_id}")
    if approve:
        stock = await LockedStock.open(uow, {(variance.sku, variance.place.node)}, now)
        # The books were off by the variance when counted; units moved since then do not change that.
        adjustment = count_adjustment(variance.sku, variance.place, variance.variance, f"count:{scan_id}", actor,
                                      None, now)
        try:
            stock.balances.apply(adjustment)
        except InsufficientStock as short:
            raise DecisionRefused(f"stock moved since the count, recount: {short}") from None
        await stock.save(uow, [adjustment], now)
        # The variance row does not keep the count's task: reference stays None.
        announce_stock_adjustment(uow, adjustment, f"variance:{scan_id}", None)
    decision = WarehouseExceptionStatus.approved if approve else WarehouseExceptionStatus.rejected
    await uow.warehouse.decide_count_variance(scan_id, decision, actor, now)
    announce_count_variance(uow, variance, decision, actor, now)
    await uow.commit()


async def create_count_task(uow: WarehouseUnitOfWork, node: str, location: str | None, sku: str | None,
                            actor: str) -> CountTask:
    task = CountTask(new_id(), node, location, sku)
    await uow.warehouse.add_count_task(task, actor, datetime.now(UTC))
    await uow.commit()
    return task


async def close_count_task(uow: WarehouseUnitOfWork, task_id: str) -> None:
    """A location or SKU count is done when the supervisor says every bin or SKU was counted."""
    task = (await uow.warehouse.count_tasks([task_id])).get(task_id)
    if task is None:
        raise NotOpen(f"no count task {task_id}")
    try:
        task.close()
    except ScanRefused as refused:
        raise DecisionRefused(refused.message) from None
    await uow.warehouse.save_count_tasks([task])
    await uow.commit()
