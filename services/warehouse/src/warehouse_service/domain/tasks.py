"""Pick tasks: what allocation reserved at a node, to be picked line by line. Plain Python: no I/O."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ecomops_common.contracts.warehouse import FulfilmentStage
from ecomops_common.errors import FieldProblem, Invalid
from warehouse_service.domain.catalog import is_expired
from warehouse_service.domain.ledger import Place
from warehouse_service.domain.refusals import ScanRefused


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


@dataclass
class PickTask:
    id: str
    order_id: str
    line_id: str
    node: str
    sku: str
    quantity: int
    picked: int = 0
    status: TaskStatus = TaskStatus.open
    suggested_bin: str | None = None
    packed: int = 0
    shipped: int = 0
    wave_id: str | None = None
    suggested_lot: str | None = None  # with its expiry: the first-expiring lot, for an expiry-controlled SKU
    suggested_expiry: date | None = None

    @property
    def remaining(self) -> int:
        return self.quantity - self.picked

    def pick(self, quantity: int) -> None:
        if self.status is not TaskStatus.open:
            raise ScanRefused("task_not_open", f"pick task {self.id} is {self.status}")
        if quantity > self.remaining:
            raise ScanRefused("over_pick", f"pick task {self.id} has {self.remaining} left to pick, {quantity} scanned")
        self.picked += quantity
        if not self.remaining:
            self.status = TaskStatus.done

    def pack(self, quantity: int) -> None:
        if quantity > self.picked - self.packed:
            raise ScanRefused("over_pack", f"pick task {self.id} has {self.picked - self.packed} picked units "
                                           f"to pack, {quantity} scanned")
        self.packed += quantity

    def ship(self, quantity: int) -> None:
        if quantity > self.packed - self.shipped:
            raise ScanRefused("over_ship", f"pick task {self.id} has {self.packed - self.shipped} packed units "
                                           f"to ship, {quantity} scanned")
        self.shipped += quantity

    @property
    def finished(self) -> bool:
        """Everything this task is for has left the building (a cancelled task never had anything)."""
        return self.status is TaskStatus.cancelled or (self.status is TaskStatus.done and self.shipped == self.quantity)

    def reallocate(self, quantity: int) -> None:
        """Allocation now wants `quantity` units of this line here (0: none). Units picked stay picked; a task
        cancelled before any pick keeps the quantity it was for."""
        if quantity > self.picked:
            self.quantity, self.status = quantity, TaskStatus.open
        elif self.picked:
            self.quantity, self.status = self.picked, TaskStatus.done
        else:
            self.status = TaskStatus.cancelled


@dataclass(frozen=True)
class ShortPick:
    """A picker found fewer units in a bin than the books show, more than may be written off without a
    supervisor: the write-off waits until a supervisor other than the picker approves it."""

    id: str
    task_id: str
    sku: str
    place: Place  # the bin, sellable
    held: int  # what the books showed when reported
    found: int
    reported_by: str

    @property
    def missing(self) -> int:
        return self.held - self.found


def pick_order(places: Iterable[tuple[Place, int]], expiry_controlled: bool, on: date) -> list[Place]:
    """Where a SKU's sellable units at a node are picked from, first first; expired units never. An
    expiry-controlled SKU goes first-expiry-first-out (the fullest place first among lots expiring the same
    day); any other SKU from the fullest place."""
    usable = [(place, units) for place, units in places if units > 0 and not is_expired(place.expiry, on)]
    if expiry_controlled:
        usable.sort(key=lambda held: (held[0].expiry or date.max, -held[1], held[0].location, held[0].lot or ""))
    else:
        usable.sort(key=lambda held: (-held[1], held[0].location, held[0].lot or ""))
    return [place for place, _ in usable]


def sync_tasks(existing: list[PickTask], wanted: dict[tuple[str, str], tuple[str, int]], new_task) -> list[PickTask]:
    """Brings an order's tasks in line with its allocation: `wanted` maps (line id, node) to (sku, units).
    `new_task(line_id, node, sku, units)` makes a task for a line newly allocated at a node. Returns the
    tasks that changed or are new."""
    touched = []
    by_key = {(task.line_id, task.node): task for task in existing}
    for key, task in by_key.items():
        before = (task.quantity, task.status)
        task.reallocate(wanted.get(key, (task.sku, 0))[1])
        if (task.quantity, task.status) != before:
            touched.append(task)
    for (line_id, node), (sku, units) in wanted.items():
        if (line_id, node) not in by_key:
            touched.append(new_task(line_id, node, sku, units))
    return touched


def fulfilment_stage(tasks: list[PickTask], backordered_units: int) -> FulfilmentStage | None:
    """How far the warehouse is with an order, from its tasks; None while it has no task to work on."""
    live = [task for task in tasks if task.status is not TaskStatus.cancelled]
    if not live:
        return None
    if all(task.shipped == task.quantity for task in live) and not backordered_units:
        return FulfilmentStage.shipped
    if all(task.packed == task.quantity for task in live) and not backordered_units:
        return FulfilmentStage.packed
    if any(task.picked for task in live):
        return FulfilmentStage.picking
    return FulfilmentStage.released_to_warehouse


class NothingToCount(Invalid):
    def __init__(self) -> None:
        super().__init__([FieldProblem("location", "give a location, a sku or both")])


@dataclass
class CountTask:
    """Count a location, a SKU everywhere at the node, or one SKU at one location."""

    id: str
    node: str
    location: str | None
    sku: str | None
    status: TaskStatus = TaskStatus.open
    counts: int = 0

    def __post_init__(self) -> None:
        if self.location is None and self.sku is None:
            raise NothingToCount()

    def record(self, node: str, location: str, sku: str) -> None:
        """A count scan made for this task; one for a SKU at a location finishes it."""
        if self.status is not TaskStatus.open:
            raise ScanRefused("task_not_open", f"count task {self.id} is {self.status}")
        if node != self.node or (self.location and location != self.location) or (self.sku and sku != self.sku):
            raise ScanRefused("wrong_item", f"count task {self.id} is for {self.sku or 'any SKU'} at "
                                            f"{self.location or 'any location'} of {self.node}")
        self.counts += 1
        if self.location and self.sku:
            self.status = TaskStatus.done

    def close(self) -> None:
        if self.status is not TaskStatus.open:
            raise ScanRefused("task_not_open", f"count task {self.id} is {self.status}")
        self.status = TaskStatus.done
