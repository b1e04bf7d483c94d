"""In-memory adapters for service-layer unit tests: the repository keeps rows in dicts (copies in, copies out, like
a database), the unit of work is ecomops_common's fake. No locks: a test runs one transaction at a time. What a test
does not seed is simply absent."""

from collections.abc import Iterable
from copy import deepcopy
from datetime import datetime
from decimal import Decimal
from typing import Any

from ecomops_common.testing.fakes import FakeUnitOfWork
from warehouse_service.adapters.repository import SkuNode
from warehouse_service.domain.catalog import SkuRules
from warehouse_service.domain.layout import Location
from warehouse_service.domain.ledger import BalanceKey, Balances, Movement, Place, StockStatus
from warehouse_service.domain.parcels import Label
from warehouse_service.domain.recovery import GradedVariant, QaItem, VendorReturn, WriteOff
from warehouse_service.domain.scans import CountVariance, ExpectedReceipt
from warehouse_service.domain.tasks import CountTask, PickTask, ShortPick
from warehouse_service.domain.waves import Wave, WaveStatus


class FakeWarehouse:
    def __init__(self) -> None:
        self.locations: dict[tuple[str, str], Location] = {}
        self.balances: dict[BalanceKey, int] = {}
        self.levels: dict[SkuNode, tuple[int, int]] = {}  # (sellable, version)
        self.movements: list[Movement] = []
        self.expected_receipts: dict[str, ExpectedReceipt] = {}
        self.exceptions: dict[str, dict[str, Any]] = {}
        self.variances: dict[str, CountVariance] = {}
        self.decisions: dict[str, tuple[str, str]] = {}  # scan id -> (decision, actor)
        self.orders: dict[str, dict[str, Any]] = {}  # order id -> revision, backordered, stage
        self.pick_tasks: dict[str, PickTask] = {}
        self.waves: dict[str, Wave] = {}
        self.count_tasks_by_id: dict[str, CountTask] = {}
        self.short_picks: dict[str, ShortPick] = {}
        self.short_pick_decisions: dict[str, tuple[str, str]] = {}  # id -> (decision, actor)
        self.shipments: dict[tuple[str, str], dict[str, Any]] = {}  # (order id, tracking number) -> row
        self.costs: dict[str, tuple[Decimal, str, datetime]] = {}
        self.hazards: dict[SkuNode, str | None] = {}  # -> category
        self.qa_items: dict[str, QaItem] = {}  # in the order raised
        self.variants: dict[str, GradedVariant] = {}
        self.rtvs: dict[str, VendorReturn] = {}
        self.write_offs: dict[str, WriteOff] = {}
        self.write_off_decisions: dict[str, tuple[str, str, str | None]] = {}  # id -> (status, actor, reason)
        self.actions: list[dict[str, Any]] = []
        self.skus: dict[str, SkuRules] = {}
        self.parcels: dict[str, dict[str, Any]] = {}  # parcel id -> row

    async def put_locations(self, locations: list[Location]) -> None:
        self.locations.update({(loc.node, loc.code): loc for loc in locations})

    async def locations_of(self, nodes: Iterable[str]) -> dict[tuple[str, str], Location]:
        nodes = set(nodes)
        return {key: loc for key, loc in self.locations.items() if loc.node in nodes}

    async def lock_levels(self, keys: Iterable[SkuNode], at: datetime) -> dict[SkuNode, int]:
        return {key: self.levels.setdefault(key, (0, 0))[1] for key in keys}

    async def balances_of(self, keys: Iterable[SkuNode]) -> Balances:
        keys = set(keys)
        return Balances({(sku, place): units for (sku, place), units in self.balances.items()
                         if (sku, place.node) in keys})

    async def save_balances(self, before: dict[BalanceKey, int], after: dict[BalanceKey, int]) -> None:
        for key in before.keys() - after.keys():
            del self.balances[key]
        self.balances.update(after)

    async def save_levels(self, levels: dict[SkuNode, tuple[int, int]], at: datetime) -> None:
        self.levels.update(levels)

    async def add_movements(self, movements: list[Movement]) -> None:
        self.movements += movements

    async def add_receipt(self, receipt: ExpectedReceipt, at: datetime) -> bool:
        if receipt.reference in self.expected_receipts:
            return False
        self.expected_receipts[receipt.reference] = deepcopy(receipt)
        return True

    async def receipts(self, references: Iterable[str], *, lock: bool) -> dict[str, ExpectedReceipt]:
        return {ref: deepcopy(self.expected_receipts[ref]) for ref in references if ref in self.expected_receipts}

    async def save_receipts(self, receipts: Iterable[ExpectedReceipt]) -> None:
        self.expected_receipts.update({receipt.reference: deepcopy(receipt) for receipt in receipts})

    async def add_scan_exceptions(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.exceptions.setdefault(row["scan_id"], dict(row, decision=None, resolved_by=None))

    async def open_scan_exception(self, scan_id: str) -> dict[str, Any] | None:
        row = self.exceptions.get(scan_id)
        return dict(row) if row is not None and row["resolved_by"] is None else None

    async def resolve_scan_exception(self, scan_id: str, decision: str, actor: str, resolution: str,
                                     at: datetime) -> bool:
        if await self.open_scan_exception(scan_id) is None:
            return False
        self.exceptions[scan_id].update(decision=decision, resolved_by=actor, resolution=resolution, resolved_at=at)
        return True

    async def add_count_variances(self, variances: list[CountVariance], at: datetime) -> None:
        for variance in variances:
            self.variances.setdefault(variance.scan_id, variance)

    async def open_count_variance(self, scan_id: str) -> CountVariance | None:
        return None if scan_id in self.decisions else self.variances.get(scan_id)

    async def decide_count_variance(self, scan_id: str, decision: str, actor: str, at: datetime) -> None:
        self.decisions[scan_id] = (decision, actor)

    async def add_short_pick(self, short_pick: ShortPick, at: datetime) -> None:
        self.short_picks[short_pick.id] = short_pick

    async def open_short_pick(self, *, short_pick_id: str | None = None, task_id: str | None = None,
                              location: str | None = None, lock: bool) -> ShortPick | None:
        return next((pick for pick in self.short_picks.values() if pick.id not in self.short_pick_decisions
                     and short_pick_id in (None, pick.id) and task_id in (None, pick.task_id)
                     and location in (None, pick.place.location)), None)

    async def decide_short_pick(self, short_pick_id: str, decision: str, actor: str, at: datetime) -> None:
        self.short_pick_decisions[short_pick_id] = (decision, actor)

    async def add_shipments(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.shipments.setdefault((row["order_id"], row["tracking_number"]), dict(row))

    async def shipment_carriers(self, order_id: str) -> set[str]:
        return {row["carrier"] for (order, _), row in self.shipments.items() if order == order_id and row["carrier"]}

    async def lock_order_revisions(self, order_ids: Iterable[str]) -> dict[str, int]:
        return {order_id: self._order(order_id)["revision"] for order_id in order_ids}

    async def save_order_revisions(self, revisions: dict[str, tuple[int, int]]) -> None:
        for order_id, (revision, backordered) in revisions.items():
            self._order(order_id).update(revision=revision, backordered=backordered)

    async def lock_orders_of_tasks(self, task_ids: Iterable[str]) -> None:
        pass

    async def order_stages(self, order_ids: Iterable[str]) -> dict[str, tuple[str | None, int]]:
        return {order_id: (self.orders[order_id]["stage"], self.orders[order_id]["backordered"])
                for order_id in order_ids if order_id in self.orders}

    async def save_order_stages(self, stages: dict[str, str]) -> None:
        for order_id, stage in stages.items():
            self.orders[order_id]["stage"] = stage

    async def tasks(self, *, ids: Iterable[str] = (), order_ids: Iterable[str] = (), lock: bool) -> list[PickTask]:
        ids, order_ids = set(ids), set(order_ids)
        return [deepcopy(task) for task_id, task in sorted(self.pick_tasks.items())
                if task_id in ids or task.order_id in order_ids]

    async def save_tasks(self, tasks: Iterable[PickTask], at: datetime) -> None:
        self.pick_tasks.update({task.id: deepcopy(task) for task in tasks})

    async def planned_waves(self, *, keys: Iterable[tuple[str, str, datetime]] = (),
                            every: bool = False) -> list[Wave]:
        keys = set(keys)
        return [deepcopy(wave) for wave in self.waves.values() if wave.status is WaveStatus.planned
                and (every or (wave.node, wave.service_level, wave.cutoff) in keys)]

    async def wave(self, wave_id: str, *, lock: bool) -> Wave | None:
        return deepcopy(self.waves.get(wave_id))

    async def wave_statuses(self, wave_ids: Iterable[str | None]) -> dict[str, WaveStatus]:
        return {wave_id: self.waves[wave_id].status for wave_id in wave_ids if wave_id in self.waves}

    async def save_waves(self, waves: Iterable[Wave]) -> None:
        self.waves.update({wave.id: deepcopy(wave) for wave in waves})

    async def add_count_task(self, task: CountTask, actor: str, at: datetime) -> None:
        self.count_tasks_by_id[task.id] = deepcopy(task)

    async def count_tasks(self, ids: Iterable[str]) -> dict[str, CountTask]:
        return {task_id: deepcopy(self.count_tasks_by_id[task_id]) for task_id in ids
                if task_id in self.count_tasks_by_id}

    async def save_count_tasks(self, tasks: Iterable[CountTask]) -> None:
        self.count_tasks_by_id.update({task.id: deepcopy(task) for task in tasks})

    async def sellable_places(self, keys: Iterable[SkuNode]) -> dict[SkuNode, list[tuple[Place, int]]]:
        keys, places = set(keys), {}
        for (sku, place), units in self.balances.items():
            if (sku, place.node) in keys and place.status is StockStatus.sellable:
                places.setdefault((sku, place.node), []).append((place, units))
        return places

    async def put_unit_cost(self, sku: str, amount: Decimal, currency: str, at: datetime) -> None:
        if sku not in self.costs or self.costs[sku][2] < at:
            self.costs[sku] = (amount, currency, at)

    async def unit_costs(self, skus: Iterable[str]) -> dict[str, tuple[Decimal, str]]:
        return {sku: self.costs[sku][:2] for sku in skus if sku in self.costs}

    async def remember_hazard(self, sku: str, node: str, category: str | None, rma_id: str, at: datetime) -> None:
        self.hazards[sku, node] = category

    async def hazardous(self, keys: Iterable[SkuNode]) -> set[SkuNode]:
        keys = set(keys)
        return keys & self.hazards.keys() | {(sku, node) for sku, node in keys
                                             if sku in self.skus and self.skus[sku].hazmat_class}

    async def open_qa_item(self, item: QaItem, location: str, rma_id: str, at: datetime) -> None:
        known = self.qa_items.get(item.id)
        waiting = known.remaining if known else 0
        self.qa_items[item.id] = QaItem(item.id, item.node, item.sku, item.remaining + waiting)

    async def open_qa_items(self, sku: str, node: str) -> list[QaItem]:
        return [deepcopy(item) for item in self.qa_items.values()
                if (item.sku, item.node) == (sku, node) and item.remaining]

    async def save_qa_items(self, items: Iterable[QaItem], actor: str, at: datetime) -> None:
        self.qa_items.update({item.id: deepcopy(item) for item in items})

    async def put_graded_variant(self, variant: GradedVariant, actor: str, at: datetime) -> None:
        self.variants[variant.variant_sku] = deepcopy(variant)

    async def graded_variant(self, variant_sku: str) -> GradedVariant | None:
        return deepcopy(self.variants.get(variant_sku))

    async def add_vendor_return(self, rtv: VendorReturn) -> bool:
        if rtv.rtv_id in self.rtvs:
            return False
        self.rtvs[rtv.rtv_id] = deepcopy(rtv)
        return True

    async def vendor_returns(self, ids: Iterable[str], *, lock: bool) -> dict[str, VendorReturn]:
        return {rtv_id: deepcopy(self.rtvs[rtv_id]) for rtv_id in ids if rtv_id in self.rtvs}

    async def save_vendor_returns(self, rtvs: Iterable[VendorReturn]) -> None:
        self.rtvs.update({rtv.rtv_id: deepcopy(rtv) for rtv in rtvs})

    async def add_write_off(self, write_off: WriteOff) -> None:
        self.write_offs[write_off.id] = deepcopy(write_off)

    async def write_off(self, write_off_id: str, *, lock: bool) -> WriteOff | None:
        return deepcopy(self.write_offs.get(write_off_id))

    async def decide_write_off(self, write_off_id: str, status: str, actor: str, at: datetime,
                               reason: str | None) -> None:
        self.write_offs[write_off_id].status = status
        self.write_off_decisions[write_off_id] = (status, actor, reason)

    async def reference_used(self, action: str, reference: str) -> bool:
        return any(row["action"] == action and row["reference"] == reference for row in self.actions) or any(
            w.moves[0].action == action and w.moves[0].reference == reference and w.status != "rejected"
            for w in self.write_offs.values())

    async def add_recovery_actions(self, rows: list[dict[str, Any]]) -> None:
        self.actions += deepcopy(rows)

    async def put_sku_rules(self, rules: SkuRules, at: datetime) -> bool:
        known = self.skus.get(rules.sku)
        if known is not None and known.revision >= rules.revision:
            return False
        self.skus[rules.sku] = rules
        return True

    async def sku_rules(self, skus: Iterable[str]) -> dict[str, SkuRules]:
        return {sku: self.skus[sku] for sku in skus if sku in self.skus}

    async def barcode_skus(self, codes: Iterable[str]) -> dict[str, str]:
        codes = set(codes)
        return {code: rules.sku for rules in self.skus.values() for code in rules.barcodes if code in codes}

    async def add_parcel(self, parcel_id: str, order_id: str, node: str, lines: dict[str, int],
                         at: datetime) -> bool:
        if parcel_id in self.parcels:
            return False
        self.parcels[parcel_id] = {"parcel_id": parcel_id, "order_id": order_id, "node": node, "lines": dict(lines),
                                   "packed_at": at, "tracking_number": None, "cost_charged": False}
        return True

    async def put_label(self, parcel_id: str, label: dict[str, Any]) -> bool:
        if parcel_id not in self.parcels:
            return False
        self.parcels[parcel_id].update(label)
        return True

    async def labels(self, parcel_ids: Iterable[str]) -> dict[str, Label]:
        return {pid: Label(pid, row["carrier"], row["tracking_number"], row["cost"], row["currency"],
                           row["cost_charged"])
                for pid in parcel_ids if (row := self.parcels.get(pid)) and row["tracking_number"]}

    async def charge_label_costs(self, parcel_ids: Iterable[str]) -> None:
        for pid in parcel_ids:
            self.parcels[pid]["cost_charged"] = True

    async def parcels_of(self, order_id: str, node: str | None) -> list[dict[str, Any]]:
        return [dict(row) for _, row in sorted(self.parcels.items())
                if row["order_id"] == order_id and node in (None, row["node"])]

    def _order(self, order_id: str) -> dict[str, Any]:
        return self.orders.setdefault(order_id, {"revision": 0, "backordered": 0, "stage": None})


class FakeWarehouseUnitOfWork(FakeUnitOfWork):
    def __init__(self, warehouse: FakeWarehouse | None = None) -> None:
        super().__init__()
        self.warehouse = warehouse or FakeWarehouse()

    async def claim_new_events(self, consumer: str, event_ids: Iterable[str]) -> set[str]:
        new = {event_id for event_id in event_ids if (consumer, event_id) not in self.claimed}
        self.claimed |= {(consumer, event_id) for event_id in new}
        return new
