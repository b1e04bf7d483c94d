"""Pick tasks follow allocation results (allocation.events.v1): one task per order line and node."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from ecomops_common.auth import Principal
from ecomops_common.contracts.allocation import OrderAllocationChanged
from ecomops_common.contracts.warehouse import WarehouseExceptionStatus
from ecomops_common.errors import Conflict, NotFound
from ecomops_common.handlers import Received
from ecomops_common.ids import new_id
from warehouse_service.domain.approvals import require_four_eyes
from warehouse_service.domain.ledger import InsufficientStock, Place, StockStatus
from warehouse_service.domain.scans import count_adjustment
from warehouse_service.domain.tasks import PickTask, ShortPick, TaskStatus, pick_order, sync_tasks
from warehouse_service.domain.waves import Wave, WaveRules
from warehouse_service.service_layer.callers import check_node
from warehouse_service.service_layer.exception_queue import announce_short_pick
from warehouse_service.service_layer.progress import announce_progress
from warehouse_service.service_layer.scanning import LockedStock
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork


async def follow_allocations(uow: WarehouseUnitOfWork, allocations: list[Received[OrderAllocationChanged]],
                             rules: WaveRules) -> None:
    """allocation.events.v1: creates, resizes and cancels tasks; a result not newer than the one followed changes
    nothing. New tasks join the planned wave of their node, service level and next carrier cut-off, suggesting
    the place to pick first (first-expiry-first-out for an expiry-controlled SKU, else the fullest bin)."""
    results = [allocation.message for allocation in allocations]
    now = datetime.now(UTC)
    order_ids = {result.order_id for result in results}
    revisions = await uow.warehouse.lock_order_revisions(order_ids)
    tasks_by_order: dict[str, list[PickTask]] = defaultdict(list)
    for task in await uow.warehouse.tasks(order_ids=order_ids, lock=True):
        tasks_by_order[task.order_id].append(task)
    places = await uow.warehouse.sellable_places({(line.sku, line.node) for result in results for line in result.lines})
    sku_rules = await uow.warehouse.sku_rules({line.sku for result in results for line in result.lines})

    touched: list[PickTask] = []
    new_tasks: list[tuple[PickTask, str]] = []  # with the order's service level
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

        def new_task(line_id, node, sku, units, order_id=result.order_id,
                     service_level=result.service_level or "standard") -> PickTask:
            handling = sku_rules.get(sku)
            first = next(iter(pick_order(places.get((sku, node), ()), bool(handling and handling.expiry_controlled),
                                         now.date())), None)
            task = PickTask(new_id(), order_id, line_id, node, sku, units, suggested_bin=first and first.location,
                            suggested_lot=first and first.lot, suggested_expiry=first and first.expiry)
            tasks_by_order[order_id].append(task)
            new_tasks.append((task, service_level))
            return task

        touched += sync_tasks(list(tasks_by_order[result.order_id]), wanted, new_task)
    await _assign_waves(uow, new_tasks, rules, now)
    await uow.warehouse.save_tasks(touched, now)
    await uow.warehouse.save_order_revisions(followed)
    await announce_progress(uow, set(followed))
    await uow.commit()


class ShortPickRefused(Conflict):
    pass


@dataclass(frozen=True)
class ShortPickOutcome:
    short: int  # units reported short to allocation: none while the write-off waits
    waiting: str | None = None  # the short pick waiting for a supervisor


async def report_short_pick(uow: WarehouseUnitOfWork, task_id: str, location: str, found: int, by: Principal,
                            approval_units: int) -> ShortPickOutcome:
    """A picker (a scanner: of the task's node only) found fewer units in a bin than the books say. Up to
    `approval_units` missing, the bin is written down to what was found at once, and allocation is told which
    order line came up short, so that line is re-sourced first; beyond, the write-off waits for a supervisor
    other than the reporter (decide_short_pick)."""
    now = datetime.now(UTC)
    known = await uow.warehouse.tasks(ids=[task_id], lock=False)
    if not known:
        raise ShortPickRefused(f"no pick task {task_id}")
    check_node(by, known[0].node)
    # Stock rows first, then the task. The stock row also queues reports of one task's bin one after the other.
    stock = await LockedStock.open(uow, {(known[0].sku, known[0].node)}, now)
    task, = await uow.warehouse.tasks(ids=[task_id], lock=True)
    if task.status is not TaskStatus.open:
        raise ShortPickRefused(f"pick task {task_id} is {task.status}")
    place = Place(task.node, location, StockStatus.sellable)
    held = stock.balances.held(task.sku, place)
    if found >= held:
        raise ShortPickRefused(f"the books show {held} at {location}, {found} found: nothing is missing there; "
                               f"pick from another bin")
    if held - found <= approval_units:
        short = await _write_off(uow, stock, task, place, held - found, by.subject, now)
        await uow.commit()
        return ShortPickOutcome(short)
    if await uow.warehouse.open_short_pick(task_id=task_id, location=location, lock=False):
        raise ShortPickRefused(f"a short pick of {location} for task {task_id} waits for a supervisor already")
    waiting = ShortPick(new_id(), task_id, task.sku, place, held, found, by.subject)
    await uow.warehouse.add_short_pick(waiting, now)
    announce_short_pick(uow, waiting, WarehouseExceptionStatus.open, by.subject, now)
    await uow.commit()
    return ShortPickOutcome(0, waiting.id)


class ShortPickNotOpen(NotFound):
    pass


async def decide_short_pick(uow: WarehouseUnitOfWork, short_pick_id: str, actor: str, approve: bool) -> int:
    """A supervisor other than the reporter approves the write-off (the units missing when reported leave the
    books, whatever moved since) or rejects it (the books stay). Returns the units reported short."""
    now = datetime.now(UTC)
    waiting = await uow.warehouse.open_short_pick(short_pick_id=short_pick_id, lock=True)
    if waiting is None:
        raise ShortPickNotOpen(f"no undecided short pick {short_pick_id}")
    require_four_eyes(actor, waiting.reported_by, f"reported short pick {short_pick_id}")
    short = 0
    if approve:
        stock = await LockedStock.open(uow, {(waiting.sku, waiting.place.node)}, now)
        task, = await uow.warehouse.tasks(ids=[waiting.task_id], lock=True)
        try:
            short = await _write_off(uow, stock, task, waiting.place, waiting.missing, actor, now)
        except InsufficientStock as moved:
            raise ShortPickRefused(f"stock moved since the short pick, report it again: {moved}") from None
    decision = WarehouseExceptionStatus.approved if approve else WarehouseExceptionStatus.rejected
    await uow.warehouse.decide_short_pick(short_pick_id, decision, actor, now)
    announce_short_pick(uow, waiting, decision, actor, now)
    await uow.commit()
    return short


async def _write_off(uow: WarehouseUnitOfWork, stock: LockedStock, task: PickTask, place: Place, missing: int,
                     actor: str, now: datetime) -> int:
    """Takes the missing units off the books at the bin; allocation hears the task's line came up short by them
    (by what it still needs at most). Returns the units reported short."""
    adjustment = count_adjustment(task.sku, place, -missing, f"short-pick:{task.id}", actor, None, now)
    stock.balances.apply(adjustment)
    short = min(task.remaining, missing) if task.status is TaskStatus.open else 0
    await stock.save(uow, [adjustment], now, short_picked={
        (task.sku, task.node): [(task.order_id, task.line_id, short)]} if short else None)
    return short


async def _assign_waves(uow: WarehouseUnitOfWork, new_tasks: list[tuple[PickTask, str]], rules: WaveRules,
                        now: datetime) -> None:
    """Each new task joins its planned wave (made when missing); a wave that is due is released at once."""
    keys = {(task.node, level, rules.cutoff_after(level, now)) for task, level in new_tasks}
    waves = {(w.node, w.service_level, w.cutoff): w for w in await uow.warehouse.planned_waves(keys=keys)}
    for task, level in new_tasks:
        key = (task.node, level, rules.cutoff_after(level, now))
        wave = waves.get(key) or waves.setdefault(key, Wave(new_id(), task.node, level, key[2]))
        wave.tasks += 1
        task.wave_id = wave.id
    for wave in waves.values():
        if rules.due(wave, now):
            wave.release("rule", now)
    await uow.warehouse.save_waves(waves.values())


async def release_due_waves(uow: WarehouseUnitOfWork, rules: WaveRules) -> None:
    """The time rule: waves whose carrier cut-off is near are released however full they are."""
    now = datetime.now(UTC)
    due = [wave for wave in await uow.warehouse.planned_waves(every=True) if rules.due(wave, now)]
    for wave in due:
        wave.release("rule", now)
    await uow.warehouse.save_waves(due)
    await uow.commit()


class WaveNotFound(NotFound):
    pass


async def release_wave(uow: WarehouseUnitOfWork, wave_id: str, actor: str) -> None:
    """A supervisor releases a wave before its rule does. Raises WaveAlreadyReleased if it was."""
    wave = await uow.warehouse.wave(wave_id, lock=True)
    if wave is None:
        raise WaveNotFound(f"no wave {wave_id}")
    wave.release(actor, datetime.now(UTC))
    await uow.warehouse.save_waves([wave])
    await uow.commit()
