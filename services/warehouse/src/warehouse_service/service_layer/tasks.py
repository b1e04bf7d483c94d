"""Pick tasks follow allocation results (allocation.events.v1): one task per order line and node."""

from collections import defaultdict
from datetime import UTC, datetime

from ecomops_common.contracts.allocation import OrderAllocationChanged
from ecomops_common.ids import new_id
from warehouse_service.domain.tasks import PickTask, sync_tasks
from warehouse_service.service_layer.progress import announce_progress


async def follow_allocations(uow, results: list[OrderAllocationChanged]) -> None:
    """Creates, resizes and cancels tasks; a result not newer than the one followed changes nothing."""
    if not results:
        await uow.commit()  # the caller's inbox rows
        return
    now = datetime.now(UTC)
    order_ids = {result.order_id for result in results}
    revisions = await uow.warehouse.lock_order_revisions(order_ids)
    tasks_by_order: dict[str, list[PickTask]] = defaultdict(list)
    for task in await uow.warehouse.tasks(order_ids=order_ids, lock=True):
        tasks_by_order[task.order_id].append(task)
    bins = await uow.warehouse.fullest_bins({(line.sku, line.node) for result in results for line in result.lines})

    touched: list[PickTask] = []
    followed: dict[str, tuple[int, int]] = {}
    for result in sorted(results, key=lambda r: r.revision):
        if result.revision <= revisions[result.order_id]:
            continue
        revisions[result.order_id] = result.revision
        followed[result.order_id] = (result.revision, sum(line.quantity for line in result.backordered))
        wanted: dict[tuple[str, str], tuple[str, int]] = {}
        for line in result.lines:
            _, units = wanted.get((line.line_id, line.node), (line.sku, 0))
            wanted[line.line_id, line.node] = (line.sku, units + line.quantity)

        def new_task(line_id, node, sku, units, order_id=result.order_id) -> PickTask:
            task = PickTask(new_id(), order_id, line_id, node, sku, units, suggested_bin=bins.get((sku, node)))
            tasks_by_order[order_id].append(task)
            return task

        touched += sync_tasks(list(tasks_by_order[result.order_id]), wanted, new_task)
    await uow.warehouse.save_tasks(touched, now)
    await uow.warehouse.save_order_revisions(followed)
    await announce_progress(uow, set(followed))
    await uow.commit()
