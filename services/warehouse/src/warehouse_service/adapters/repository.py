"""Warehouse persistence. Every change of a SKU×node first locks its stock_levels row (sorted), so scans of one
SKU from many devices apply one after the other and balances cannot race below zero."""

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, text, tuple_, update

from ecomops_common.contracts.warehouse import RecoveryAction
from ecomops_common.db import SqlRepository
from warehouse_service.adapters.orm import (
    BarcodeRecord,
    CountTaskRecord,
    CountVarianceRecord,
    ExpectedReceiptRecord,
    GradedVariantRecord,
    HazardousStockRecord,
    LocationRecord,
    MovementRecord,
    ParcelRecord,
    PickTaskRecord,
    QaQueueRecord,
    RecoveryActionRecord,
    ScanExceptionRecord,
    ShipmentRecord,
    ShortPickRecord,
    SkuRulesRecord,
    StockBalanceRecord,
    StockLevelRecord,
    UnitCostRecord,
    VendorReturnRecord,
    WarehouseOrderRecord,
    WaveRecord,
    WriteOffRecord,
)
from warehouse_service.domain.catalog import SkuRules
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import BalanceKey, Balances, Movement, Place, StockStatus
from warehouse_service.domain.parcels import Label
from warehouse_service.domain.recovery import GradedVariant, QaItem, RecoveryMove, RtvLine, VendorReturn, WriteOff
from warehouse_service.domain.scans import CountVariance, ExpectedReceipt, InboundTerms
from warehouse_service.domain.tasks import CountTask, PickTask, ShortPick, TaskStatus
from warehouse_service.domain.waves import Wave, WaveStatus

_locations = LocationRecord.__table__
_levels = StockLevelRecord.__table__
_balances = StockBalanceRecord.__table__
_movements = MovementRecord.__table__
_receipts = ExpectedReceiptRecord.__table__
_exceptions = ScanExceptionRecord.__table__
_variances = CountVarianceRecord.__table__
_tasks = PickTaskRecord.__table__
_orders = WarehouseOrderRecord.__table__
_waves = WaveRecord.__table__
_count_tasks = CountTaskRecord.__table__
_short_picks = ShortPickRecord.__table__
_shipments = ShipmentRecord.__table__
_unit_costs = UnitCostRecord.__table__
_hazards = HazardousStockRecord.__table__
_qa_queue = QaQueueRecord.__table__
_variants = GradedVariantRecord.__table__
_vendor_returns = VendorReturnRecord.__table__
_write_offs = WriteOffRecord.__table__
_recovery_actions = RecoveryActionRecord.__table__
_skus = SkuRulesRecord.__table__
_barcodes = BarcodeRecord.__table__
_parcels = ParcelRecord.__table__

SkuNode = tuple[str, str]


class WarehouseRepository(SqlRepository):
    # --- layout ----------------------------------------------------------------------------------------

    async def put_locations(self, locations: list[Location]) -> None:
        statement = self.dialect.insert(_locations)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["node", "code"], set_={"kind": statement.excluded.kind}),
            [{"node": loc.node, "code": loc.code, "kind": loc.kind.value} for loc in locations])

    async def locations_of(self, nodes: Iterable[str]) -> dict[tuple[str, str], Location]:
        rows = await self.session.execute(select(_locations).where(_locations.c.node.in_(sorted(set(nodes)))))
        return {(r.node, r.code): Location(r.node, r.code, LocationKind(r.kind)) for r in rows}

    # --- stock -----------------------------------------------------------------------------------------

    async def lock_levels(self, keys: Iterable[SkuNode], at: datetime) -> dict[SkuNode, int]:
        """The version of each SKU×node's last published level, each row locked until commit (created at 0 when
        new)."""
        keys = sorted(set(keys))
        if not keys:
            return {}
        await self.session.execute(self.dialect.insert(_levels).on_conflict_do_nothing(), [
            {"sku": sku, "node": node, "sellable": 0, "version": 0, "updated_at": at} for sku, node in keys])
        statement = (select(_levels.c.sku, _levels.c.node, _levels.c.version)
                     .where(tuple_(_levels.c.sku, _levels.c.node).in_(keys))
                     .order_by(_levels.c.sku, _levels.c.node).with_for_update())
        return {(r.sku, r.node): r.version for r in await self.session.execute(statement)}

    async def balances_of(self, keys: Iterable[SkuNode]) -> Balances:
        keys = sorted(set(keys))
        if not keys:
            return Balances()
        rows = await self.session.execute(select(_balances).where(tuple_(_balances.c.sku, _balances.c.node).in_(keys)))
        return Balances({(r.sku, _place_of(r._mapping)): r.units for r in rows})

    async def save_balances(self, before: dict[BalanceKey, int], after: dict[BalanceKey, int]) -> None:
        changed = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
        gone = [_balance_row(*key) for key in changed if key not in after]
        if gone:
            await self.session.execute(delete(_balances).where(
                _balances.c.sku == bindparam("b_sku"), _balances.c.node == bindparam("b_node"),
                _balances.c.location == bindparam("b_location"), _balances.c.status == bindparam("b_status"),
                _balances.c.lot == bindparam("b_lot"), _balances.c.serial == bindparam("b_serial"),
                _balances.c.expiry == bindparam("b_expiry")),
                [{f"b_{k}": v for k, v in row.items() if k != "units"} for row in gone])
        kept = [_balance_row(*key, after[key]) for key in sorted(changed, key=str) if key in after]
        if kept:
            statement = self.dialect.insert(_balances)
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["sku", "node", "location", "status", "lot", "serial", "expiry"],
                set_={"units": statement.excluded.units}),
                kept)

    async def save_levels(self, levels: dict[SkuNode, tuple[int, int]], at: datetime) -> None:
        """(sku, node) -> (sellable units, version) of locked rows."""
        if levels:
            await self.session.execute(
                update(_levels).where(_levels.c.sku == bindparam("b_sku"), _levels.c.node == bindparam("b_node"))
                .values(sellable=bindparam("sellable"), version=bindparam("version"), updated_at=at),
                [{"b_sku": sku, "b_node": node, "sellable": units, "version": version}
                 for (sku, node), (units, version) in sorted(levels.items())])

    async def add_movements(self, movements: list[Movement]) -> None:
        if movements:
            await self.session.execute(insert(_movements), [_movement_row(m) for m in movements])

    async def stock(self, *, sku: str | None, node: str | None, location: str | None,
                    status: str | None, limit: int) -> list[dict[str, Any]]:
        return await self._listing(_balances, (_balances.c.sku, _balances.c.node, _balances.c.location,
                                               _balances.c.status, _balances.c.lot), limit,
                                   sku=sku, node=node, location=location, status=status)

    async def movements_of(self, sku: str, limit: int, before_id: int | None) -> list[dict[str, Any]]:
        statement = select(_movements).where(_movements.c.sku == sku).order_by(_movements.c.id.desc()).limit(limit)
        if before_id is not None:
            statement = statement.where(_movements.c.id < before_id)
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    async def ledger_drift(self) -> list[dict[str, Any]]:
        """Balances that differ from the sum of the ledger's movements (none, unless something is broken)."""
        statement = text("""
            WITH flows AS (
                SELECT sku, to_node AS node, to_location AS location, to_status AS status,
                       coalesce(to_lot, '') AS lot, coalesce(to_serial, '') AS serial,
                       coalesce(to_expiry, '') AS expiry, quantity AS units FROM movements WHERE to_node IS NOT NULL
                UNION ALL
                SELECT sku, from_node, from_location, from_status, coalesce(from_lot, ''), coalesce(from_serial, ''),
                       coalesce(from_expiry, ''), -quantity
                FROM movements WHERE from_node IS NOT NULL),
            ledger AS (SELECT sku, node, location, status, lot, serial, expiry, sum(units) AS units FROM flows
                       GROUP BY sku, node, location, status, lot, serial, expiry)
            SELECT coalesce(l.sku, b.sku) AS sku, coalesce(l.node, b.node) AS node,
                   coalesce(l.location, b.location) AS location, coalesce(l.status, b.status) AS status,
                   coalesce(l.lot, b.lot) AS lot, coalesce(l.serial, b.serial) AS serial,
                   coalesce(l.expiry, b.expiry) AS expiry, coalesce(l.units, 0) AS ledger,
                   coalesce(b.units, 0) AS balance
            FROM ledger l FULL OUTER JOIN stock_balances b
              ON l.sku = b.sku AND l.node = b.node AND l.location = b.location AND l.status = b.status
             AND l.lot = b.lot AND l.serial = b.serial AND l.expiry = b.expiry
            WHERE coalesce(l.units, 0) <> coalesce(b.units, 0)""")
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    # --- receipts --------------------------------------------------------------------------------------

    async def add_receipt(self, receipt: ExpectedReceipt, at: datetime) -> bool:
        """False when a receipt with this reference exists already."""
        result = await self.session.execute(self.dialect.insert(_receipts).on_conflict_do_nothing().values(
            reference=receipt.reference, node=receipt.node, expected=json.dumps(receipt.expected),
            received="{}", damaged="{}", transfer_from=receipt.transfer_from, is_return=receipt.is_return,
            conditions="{}", created_at=at, created_by=receipt.created_by, expected_date=receipt.expected_date,
            po_id=receipt.po_id, currency=receipt.currency, terms=json.dumps({
                sku: {"unit_cost": str(terms.unit_cost), "lot": terms.lot,
                      "expiry": terms.expiry and terms.expiry.isoformat()} for sku, terms in receipt.terms.items()}))
            .returning(_receipts.c.reference))
        return result.scalar() is not None

    async def receipts(self, references: Iterable[str], *, lock: bool) -> dict[str, ExpectedReceipt]:
        references = sorted(set(references))
        if not references:
            return {}
        statement = select(_receipts).where(_receipts.c.reference.in_(references)).order_by(_receipts.c.reference)
        rows = await self.session.execute(statement.with_for_update() if lock else statement)
        return {r.reference: ExpectedReceipt(r.reference, r.node, json.loads(r.expected), json.loads(r.received),
                                             json.loads(r.damaged), r.transfer_from, r.is_return,
                                             json.loads(r.conditions), r.created_by, r.expected_date, r.po_id,
                                             r.currency, _terms_of(r.terms)) for r in rows}

    async def save_receipts(self, receipts: Iterable[ExpectedReceipt]) -> None:
        rows = [{"b_reference": r.reference, "received": json.dumps(r.received), "damaged": json.dumps(r.damaged),
                 "conditions": json.dumps(r.conditions)} for r in receipts]
        if rows:
            await self.session.execute(
                update(_receipts).where(_receipts.c.reference == bindparam("b_reference"))
                .values(received=bindparam("received"), damaged=bindparam("damaged"),
                        conditions=bindparam("conditions")), rows)

    # --- scan exceptions -------------------------------------------------------------------------------

    async def add_scan_exceptions(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(self.dialect.insert(_exceptions).on_conflict_do_nothing(), rows)

    async def scan_exceptions(self, *, open_only: bool, limit: int) -> list[dict[str, Any]]:
        statement = select(_exceptions).order_by(_exceptions.c.created_at.desc()).limit(limit)
        if open_only:
            statement = statement.where(_exceptions.c.resolved_at.is_(None))
        return [{**row, "scan": json.loads(row["scan"])} for row in (await self.session.execute(statement)).mappings()]

    async def open_scan_exception(self, scan_id: str) -> dict[str, Any] | None:
        """The unresolved exception, locked until commit so it is decided once."""
        statement = select(_exceptions).where(_exceptions.c.scan_id == scan_id, _exceptions.c.resolved_at.is_(None))
        row = (await self.session.execute(statement.with_for_update())).mappings().first()
        return dict(row) if row else None

    async def resolve_scan_exception(self, scan_id: str, decision: str, actor: str, resolution: str,
                                     at: datetime) -> bool:
        result = await self.session.execute(
            update(_exceptions).where(and_(_exceptions.c.scan_id == scan_id, _exceptions.c.resolved_at.is_(None)))
            .values(decision=decision, resolved_by=actor, resolution=resolution, resolved_at=at)
            .returning(_exceptions.c.scan_id))
        return result.scalar() is not None

    # --- count variances -------------------------------------------------------------------------------

    async def add_count_variances(self, variances: list[CountVariance], at: datetime) -> None:
        if variances:
            await self.session.execute(self.dialect.insert(_variances).on_conflict_do_nothing(), [{
                **{key: value for key, value in _balance_row(v.sku, v.place).items() if key != "units"},
                "scan_id": v.scan_id, "expected": v.expected, "counted": v.counted, "counted_by": v.counted_by,
                "counted_at": at} for v in variances])

    async def count_variances(self, *, open_only: bool, limit: int) -> list[dict[str, Any]]:
        statement = select(_variances).order_by(_variances.c.counted_at.desc()).limit(limit)
        if open_only:
            statement = statement.where(_variances.c.decision.is_(None))
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    async def open_count_variance(self, scan_id: str) -> CountVariance | None:
        """The undecided variance, locked until commit so it is decided once."""
        row = (await self.session.execute(select(_variances).where(
            _variances.c.scan_id == scan_id, _variances.c.decision.is_(None)).with_for_update())).mappings().first()
        if row is None:
            return None
        return CountVariance(row["scan_id"], row["sku"], _place_of(row), row["expected"], row["counted"],
                             row["counted_by"])

    async def decide_count_variance(self, scan_id: str, decision: str, actor: str, at: datetime) -> None:
        await self.session.execute(update(_variances).where(_variances.c.scan_id == scan_id).values(
            decision=decision, decided_by=actor, decided_at=at))

    # --- short picks waiting for a supervisor ----------------------------------------------------------

    async def add_short_pick(self, short_pick: ShortPick, at: datetime) -> None:
        place = short_pick.place
        await self.session.execute(insert(_short_picks).values(
            id=short_pick.id, task_id=short_pick.task_id, sku=short_pick.sku, node=place.node,
            location=place.location, held=short_pick.held, found=short_pick.found,
            reported_by=short_pick.reported_by, reported_at=at))

    async def open_short_pick(self, *, short_pick_id: str | None = None, task_id: str | None = None,
                              location: str | None = None, lock: bool) -> ShortPick | None:
        """The undecided short pick by id, or of a task's bin; a decision locks it until commit, so it is decided
        once."""
        statement = select(_short_picks).where(_short_picks.c.decision.is_(None))
        for column, value in (("id", short_pick_id), ("task_id", task_id), ("location", location)):
            if value is not None:
                statement = statement.where(_short_picks.c[column] == value)
        row = (await self.session.execute(statement.with_for_update() if lock else statement)).mappings().first()
        if row is None:
            return None
        return ShortPick(row["id"], row["task_id"], row["sku"], Place(row["node"], row["location"],
                                                                      StockStatus.sellable),
                         row["held"], row["found"], row["reported_by"])

    async def decide_short_pick(self, short_pick_id: str, decision: str, actor: str, at: datetime) -> None:
        await self.session.execute(update(_short_picks).where(_short_picks.c.id == short_pick_id).values(
            decision=decision, decided_by=actor, decided_at=at))

    async def short_pick_list(self, *, open_only: bool, limit: int) -> list[dict[str, Any]]:
        statement = select(_short_picks).order_by(_short_picks.c.reported_at.desc()).limit(limit)
        if open_only:
            statement = statement.where(_short_picks.c.decision.is_(None))
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    # --- shipments -------------------------------------------------------------------------------------

    async def add_shipments(self, rows: list[dict[str, Any]]) -> None:
        """(order_id, tracking_number, carrier, node, shipped_at); a parcel scanned again is kept once."""
        if rows:
            await self.session.execute(self.dialect.insert(_shipments).on_conflict_do_nothing(), rows)

    async def shipment_carriers(self, order_id: str) -> set[str]:
        rows = await self.session.execute(select(_shipments.c.carrier).where(
            _shipments.c.order_id == order_id, _shipments.c.carrier.is_not(None)))
        return {row.carrier for row in rows}

    # --- pick tasks ------------------------------------------------------------------------------------

    async def lock_order_revisions(self, order_ids: Iterable[str]) -> dict[str, int]:
        """The allocation revision followed per order (0 if none yet), locked in id order until commit."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        await self.session.execute(self.dialect.insert(_orders).on_conflict_do_nothing(),
                                   [{"order_id": order_id, "revision": 0, "backordered": 0} for order_id in ids])
        rows = await self.session.execute(select(_orders).where(_orders.c.order_id.in_(ids))
                                          .order_by(_orders.c.order_id).with_for_update())
        return {row.order_id: row.revision for row in rows}

    async def save_order_revisions(self, revisions: dict[str, tuple[int, int]]) -> None:
        """order id -> (revision followed, units still backordered)."""
        if revisions:
            await self.session.execute(
                update(_orders).where(_orders.c.order_id == bindparam("b_order_id"))
                .values(revision=bindparam("revision"), backordered=bindparam("backordered")),
                [{"b_order_id": order_id, "revision": revision, "backordered": backordered}
                 for order_id, (revision, backordered) in sorted(revisions.items())])

    async def lock_orders_of_tasks(self, task_ids: Iterable[str]) -> None:
        """Locks the rows of these pick tasks' orders, in id order, until commit."""
        ids = sorted(set(task_ids))
        if ids:
            await self.session.execute(
                select(_orders.c.order_id).where(_orders.c.order_id.in_(
                    select(_tasks.c.order_id).where(_tasks.c.id.in_(ids)))).order_by(_orders.c.order_id)
                .with_for_update())

    async def order_stages(self, order_ids: Iterable[str]) -> dict[str, tuple[str | None, int]]:
        """order id -> (stage last announced, units still backordered), locked in id order until commit."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        rows = await self.session.execute(select(_orders).where(_orders.c.order_id.in_(ids))
                                          .order_by(_orders.c.order_id).with_for_update())
        return {row.order_id: (row.stage, row.backordered) for row in rows}

    async def save_order_stages(self, stages: dict[str, str]) -> None:
        if stages:
            await self.session.execute(
                update(_orders).where(_orders.c.order_id == bindparam("b_order_id")).values(stage=bindparam("stage")),
                [{"b_order_id": order_id, "stage": stage} for order_id, stage in sorted(stages.items())])

    async def tasks(self, *, ids: Iterable[str] = (), order_ids: Iterable[str] = (), lock: bool) -> list[PickTask]:
        ids, order_ids = sorted(set(ids)), sorted(set(order_ids))
        if not ids and not order_ids:
            return []
        statement = select(_tasks).where(or_(_tasks.c.id.in_(ids), _tasks.c.order_id.in_(order_ids))).order_by(
            _tasks.c.id)
        rows = await self.session.execute(statement.with_for_update() if lock else statement)
        return [PickTask(r.id, r.order_id, r.line_id, r.node, r.sku, r.quantity, r.picked, TaskStatus(r.status),
                         r.suggested_bin, r.packed, r.shipped, r.wave_id, r.suggested_lot, r.suggested_expiry)
                for r in rows]

    async def save_tasks(self, tasks: Iterable[PickTask], at: datetime) -> None:
        rows = [{"id": t.id, "order_id": t.order_id, "line_id": t.line_id, "node": t.node, "sku": t.sku,
                 "quantity": t.quantity, "picked": t.picked, "packed": t.packed, "shipped": t.shipped,
                 "status": t.status.value, "suggested_bin": t.suggested_bin, "wave_id": t.wave_id,
                 "suggested_lot": t.suggested_lot, "suggested_expiry": t.suggested_expiry,
                 "created_at": at, "updated_at": at}
                for t in {task.id: task for task in tasks}.values()]
        if rows:
            statement = self.dialect.insert(_tasks)
            await self.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={
                name: statement.excluded[name]
                for name in ("quantity", "picked", "packed", "shipped", "status", "updated_at")}), rows)

    async def planned_waves(self, *, keys: Iterable[tuple[str, str, datetime]] = (),
                            every: bool = False) -> list[Wave]:
        """Planned waves for (node, service level, cut-off) keys, or all of them; locked until commit."""
        keys = sorted(set(keys))
        if not keys and not every:
            return []
        statement = select(_waves).where(_waves.c.status == WaveStatus.planned.value).order_by(_waves.c.id)
        if not every:
            statement = statement.where(tuple_(_waves.c.node, _waves.c.service_level, _waves.c.cutoff).in_(keys))
        return [_wave(row) for row in await self.session.execute(statement.with_for_update())]

    async def wave(self, wave_id: str, *, lock: bool) -> Wave | None:
        statement = select(_waves).where(_waves.c.id == wave_id)
        row = (await self.session.execute(statement.with_for_update() if lock else statement)).first()
        return _wave(row) if row else None

    async def wave_statuses(self, wave_ids: Iterable[str | None]) -> dict[str, WaveStatus]:
        ids = sorted({wave_id for wave_id in wave_ids if wave_id})
        if not ids:
            return {}
        rows = await self.session.execute(select(_waves.c.id, _waves.c.status).where(_waves.c.id.in_(ids)))
        return {row.id: WaveStatus(row.status) for row in rows}

    async def save_waves(self, waves: Iterable[Wave]) -> None:
        rows = [{"id": w.id, "node": w.node, "service_level": w.service_level, "cutoff": w.cutoff,
                 "status": w.status.value, "tasks": w.tasks, "released_by": w.released_by,
                 "released_at": w.released_at} for w in {wave.id: wave for wave in waves}.values()]
        if rows:
            statement = self.dialect.insert(_waves)
            await self.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={
                name: statement.excluded[name] for name in ("status", "tasks", "released_by", "released_at")}), rows)

    async def wave_list(self, *, node: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        return await self._listing(_waves, (_waves.c.cutoff, _waves.c.id), limit, node=node, status=status)

    async def add_count_task(self, task: CountTask, actor: str, at: datetime) -> None:
        await self.session.execute(insert(_count_tasks).values(
            id=task.id, node=task.node, location=task.location, sku=task.sku, status=task.status.value,
            counts=task.counts, created_by=actor, created_at=at))

    async def count_tasks(self, ids: Iterable[str]) -> dict[str, CountTask]:
        """These count tasks, locked until commit."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        rows = await self.session.execute(select(_count_tasks).where(_count_tasks.c.id.in_(ids))
                                          .order_by(_count_tasks.c.id).with_for_update())
        return {r.id: CountTask(r.id, r.node, r.location, r.sku, TaskStatus(r.status), r.counts) for r in rows}

    async def save_count_tasks(self, tasks: Iterable[CountTask]) -> None:
        rows = [{"b_id": t.id, "status": t.status.value, "counts": t.counts} for t in tasks]
        if rows:
            await self.session.execute(update(_count_tasks).where(_count_tasks.c.id == bindparam("b_id")).values(
                status=bindparam("status"), counts=bindparam("counts")), rows)

    async def count_task_list(self, *, node: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        return await self._listing(_count_tasks, (_count_tasks.c.created_at, _count_tasks.c.id), limit, node=node,
                                   status=status)

    async def sellable_places(self, keys: Iterable[SkuNode]) -> dict[SkuNode, list[tuple[Place, int]]]:
        """Per SKU×node, the places (bins, lots) holding sellable units: where new pick tasks suggest to pick."""
        keys = sorted(set(keys))
        if not keys:
            return {}
        rows = await self.session.execute(select(_balances).where(
            tuple_(_balances.c.sku, _balances.c.node).in_(keys), _balances.c.status == StockStatus.sellable.value))
        places: dict[SkuNode, list[tuple[Place, int]]] = {}
        for row in rows.mappings():
            places.setdefault((row["sku"], row["node"]), []).append((_place_of(row), row["units"]))
        return places

    async def task_list(self, *, node: str | None, order_id: str | None, status: str | None,
                        limit: int) -> list[dict[str, Any]]:
        return await self._listing(_tasks, (_tasks.c.created_at, _tasks.c.id), limit, node=node, order_id=order_id,
                                   status=status)

    # --- recovery: unit costs, hazards, the QA queue, graded variants, vendor returns, write-offs, actions ---

    async def put_unit_cost(self, sku: str, amount: Decimal, currency: str, at: datetime) -> None:
        """Keeps the newest cost per SKU: an older change arriving late changes nothing."""
        statement = self.dialect.insert(_unit_costs).values(sku=sku, amount=amount, currency=currency, at=at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={"amount": statement.excluded.amount, "currency": statement.excluded.currency,
                                          "at": statement.excluded.at},
            where=_unit_costs.c.at < statement.excluded.at))

    async def unit_costs(self, skus: Iterable[str]) -> dict[str, tuple[Decimal, str]]:
        rows = await self.session.execute(select(_unit_costs).where(_unit_costs.c.sku.in_(sorted(set(skus)))))
        return {row.sku: (row.amount, row.currency) for row in rows}

    async def unit_cost_list(self, *, sku: str | None, limit: int) -> list[dict[str, Any]]:
        return await self._listing(_unit_costs, (_unit_costs.c.sku,), limit, sku=sku)

    async def remember_hazard(self, sku: str, node: str, category: str | None, rma_id: str, at: datetime) -> None:
        statement = self.dialect.insert(_hazards).values(sku=sku, node=node, category=category, rma_id=rma_id, at=at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku", "node"], set_={"category": statement.excluded.category,
                                                  "rma_id": statement.excluded.rma_id, "at": statement.excluded.at}))

    async def hazardous(self, keys: Iterable[SkuNode]) -> set[SkuNode]:
        """Those a disposition called hazardous at their node, and those of a SKU the catalog gives a hazmat
        class."""
        keys = sorted(set(keys))
        if not keys:
            return set()
        rows = await self.session.execute(select(_hazards.c.sku, _hazards.c.node).where(
            tuple_(_hazards.c.sku, _hazards.c.node).in_(keys)))
        classed = await self.session.execute(select(_skus.c.sku).where(
            _skus.c.sku.in_(sorted({sku for sku, _ in keys})), _skus.c.hazmat_class.is_not(None)))
        classed_skus = set(classed.scalars())
        return {(row.sku, row.node) for row in rows} | {key for key in keys if key[0] in classed_skus}

    # --- the catalog's SKU rules and barcodes ----------------------------------------------------------

    async def put_sku_rules(self, rules: SkuRules, at: datetime) -> bool:
        """Keeps the newest revision per SKU, and its barcodes; False (nothing changed) for an older or repeated
        one."""
        values = {"sku": rules.sku, "revision": rules.revision, "lot_controlled": rules.lot_controlled,
                  "serial_controlled": rules.serial_controlled, "expiry_controlled": rules.expiry_controlled,
                  "shelf_life_days": rules.shelf_life_days, "hazmat_class": rules.hazmat_class,
                  "barcodes": json.dumps(list(rules.barcodes)), "is_bundle": rules.is_bundle, "changed_at": at}
        statement = self.dialect.insert(_skus).values(**values)
        result = await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in values if name != "sku"},
            where=_skus.c.revision < statement.excluded.revision).returning(_skus.c.sku))
        if result.scalar() is None:
            return False
        await self.session.execute(delete(_barcodes).where(_barcodes.c.sku == rules.sku))
        # A scan's sku holds 64 characters at most: a longer barcode is never scanned as one.
        scannable = sorted({code for code in rules.barcodes if len(code) <= 64})
        if scannable:
            statement = self.dialect.insert(_barcodes)
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["barcode"], set_={"sku": statement.excluded.sku}),
                [{"barcode": code, "sku": rules.sku} for code in scannable])
        return True

    async def sku_rules(self, skus: Iterable[str]) -> dict[str, SkuRules]:
        skus = sorted(set(skus))
        if not skus:
            return {}
        rows = await self.session.execute(select(_skus).where(_skus.c.sku.in_(skus)))
        return {r.sku: SkuRules(r.sku, r.revision, r.lot_controlled, r.serial_controlled, r.expiry_controlled,
                                r.shelf_life_days, r.hazmat_class, tuple(json.loads(r.barcodes)), r.is_bundle)
                for r in rows}

    async def barcode_skus(self, codes: Iterable[str]) -> dict[str, str]:
        """barcode -> the SKU it names, of these codes."""
        codes = sorted(set(codes))
        if not codes:
            return {}
        rows = await self.session.execute(select(_barcodes).where(_barcodes.c.barcode.in_(codes)))
        return {row.barcode: row.sku for row in rows}

    # --- parcels and their labels ----------------------------------------------------------------------

    async def add_parcel(self, parcel_id: str, order_id: str, node: str, lines: dict[str, int], at: datetime) -> bool:
        """False when the parcel was packed (and announced) before."""
        result = await self.session.execute(self.dialect.insert(_parcels).on_conflict_do_nothing().values(
            parcel_id=parcel_id, order_id=order_id, node=node, lines=json.dumps(lines), packed_at=at)
            .returning(_parcels.c.parcel_id))
        return result.scalar() is not None

    async def put_label(self, parcel_id: str, label: dict[str, Any]) -> bool:
        """Stores the label of a packed parcel; False when no such parcel was packed here."""
        result = await self.session.execute(update(_parcels).where(_parcels.c.parcel_id == parcel_id)
                                            .values(**label).returning(_parcels.c.parcel_id))
        return result.scalar() is not None

    async def labels(self, parcel_ids: Iterable[str]) -> dict[str, Label]:
        """The labels of these parcels, of those labelled."""
        ids = sorted(set(parcel_ids))
        if not ids:
            return {}
        rows = await self.session.execute(select(_parcels).where(
            _parcels.c.parcel_id.in_(ids), _parcels.c.tracking_number.is_not(None)))
        return {r.parcel_id: Label(r.parcel_id, r.carrier, r.tracking_number, r.cost, r.currency, r.cost_charged)
                for r in rows}

    async def charge_label_costs(self, parcel_ids: Iterable[str]) -> None:
        ids = sorted(set(parcel_ids))
        if ids:
            await self.session.execute(update(_parcels).where(_parcels.c.parcel_id.in_(ids))
                                       .values(cost_charged=True))

    async def parcels_of(self, order_id: str, node: str | None) -> list[dict[str, Any]]:
        statement = select(_parcels).where(_parcels.c.order_id == order_id).order_by(_parcels.c.parcel_id)
        if node is not None:
            statement = statement.where(_parcels.c.node == node)
        rows = (await self.session.execute(statement)).mappings()
        return [{**row, "lines": json.loads(row["lines"])} for row in rows]

    async def open_qa_item(self, item: QaItem, location: str, rma_id: str, at: datetime) -> None:
        """Raises the item, or adds the units to it (open again) when the RMA quarantines more of the SKU."""
        statement = self.dialect.insert(_qa_queue).values(
            id=item.id, node=item.node, sku=item.sku, location=location, rma_id=rma_id, remaining=item.remaining,
            status="open", opened_at=at)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={
            "remaining": _qa_queue.c.remaining + statement.excluded.remaining, "status": "open",
            "resolved_by": None, "resolved_at": None}))

    async def open_qa_items(self, sku: str, node: str) -> list[QaItem]:
        """The open items of a SKU×node, oldest first, locked until commit."""
        rows = await self.session.execute(
            select(_qa_queue).where(_qa_queue.c.sku == sku, _qa_queue.c.node == node, _qa_queue.c.status == "open")
            .order_by(_qa_queue.c.opened_at, _qa_queue.c.id).with_for_update())
        return [QaItem(row.id, row.node, row.sku, row.remaining) for row in rows]

    async def save_qa_items(self, items: Iterable[QaItem], actor: str, at: datetime) -> None:
        """Items with no units left are resolved by `actor`."""
        for item in items:
            values = {"remaining": item.remaining}
            if not item.remaining:
                values |= {"status": "resolved", "resolved_by": actor, "resolved_at": at}
            await self.session.execute(update(_qa_queue).where(_qa_queue.c.id == item.id).values(**values))

    async def qa_queue(self, *, status: str | None, limit: int) -> list[dict[str, Any]]:
        return await self._listing(_qa_queue, (_qa_queue.c.opened_at, _qa_queue.c.id), limit, status=status)

    async def put_graded_variant(self, variant: GradedVariant, actor: str, at: datetime) -> None:
        statement = self.dialect.insert(_variants).values(
            variant_sku=variant.variant_sku, base_sku=variant.base_sku, grade=variant.grade,
            list_price=variant.list_price, currency=variant.currency, channels=json.dumps(variant.channels),
            defined_by=actor, defined_at=at)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["variant_sku"], set_={
            name: statement.excluded[name]
            for name in ("base_sku", "grade", "list_price", "currency", "channels", "defined_by", "defined_at")}))

    async def graded_variant(self, variant_sku: str) -> GradedVariant | None:
        row = (await self.session.execute(select(_variants).where(_variants.c.variant_sku == variant_sku))).first()
        return None if row is None else GradedVariant(row.variant_sku, row.base_sku, row.grade, row.list_price,
                                                      row.currency, json.loads(row.channels))

    async def graded_variant_list(self, *, base_sku: str | None, limit: int) -> list[dict[str, Any]]:
        return [{**row, "channels": json.loads(row["channels"])} for row in await self._listing(
            _variants, (_variants.c.variant_sku,), limit, base_sku=base_sku)]

    async def add_vendor_return(self, rtv: VendorReturn) -> bool:
        """False when an authorization with this id exists already."""
        result = await self.session.execute(self.dialect.insert(_vendor_returns).on_conflict_do_nothing().values(
            rtv_id=rtv.rtv_id, vendor_id=rtv.vendor_id, node=rtv.node, claim_id=rtv.claim_id,
            lines=_rtv_lines_json(rtv), created_by=rtv.created_by, created_at=rtv.created_at)
            .returning(_vendor_returns.c.rtv_id))
        return result.scalar() is not None

    async def vendor_returns(self, ids: Iterable[str], *, lock: bool) -> dict[str, VendorReturn]:
        ids = sorted(set(ids))
        if not ids:
            return {}
        statement = select(_vendor_returns).where(_vendor_returns.c.rtv_id.in_(ids)).order_by(
            _vendor_returns.c.rtv_id)
        rows = await self.session.execute(statement.with_for_update() if lock else statement)
        return {row.rtv_id: VendorReturn(row.rtv_id, row.vendor_id, row.node,
                                         {sku: RtvLine(**line) for sku, line in json.loads(row.lines).items()},
                                         row.claim_id, row.created_by, row.created_at) for row in rows}

    async def save_vendor_returns(self, rtvs: Iterable[VendorReturn]) -> None:
        rows = [{"b_rtv_id": rtv.rtv_id, "lines": _rtv_lines_json(rtv)} for rtv in rtvs]
        if rows:
            await self.session.execute(update(_vendor_returns).where(
                _vendor_returns.c.rtv_id == bindparam("b_rtv_id")).values(lines=bindparam("lines")), rows)

    async def add_write_off(self, write_off: WriteOff) -> None:
        first = write_off.moves[0]
        await self.session.execute(insert(_write_offs).values(
            id=write_off.id, node=write_off.node, action=first.action.value, reference=first.reference,
            moves=json.dumps([_move_json(move) for move in write_off.moves]),
            value=write_off.value and write_off.value[0], currency=write_off.value and write_off.value[1],
            status=write_off.status, requested_by=write_off.requested_by, requested_at=write_off.requested_at))

    async def write_off(self, write_off_id: str, *, lock: bool) -> WriteOff | None:
        statement = select(_write_offs).where(_write_offs.c.id == write_off_id)
        row = (await self.session.execute(statement.with_for_update() if lock else statement)).first()
        if row is None:
            return None
        return WriteOff(row.id, row.node, [_move_of(move) for move in json.loads(row.moves)],
                        None if row.value is None else (row.value, row.currency), row.requested_by, row.requested_at,
                        row.status)

    async def decide_write_off(self, write_off_id: str, status: str, actor: str, at: datetime,
                               reason: str | None) -> None:
        await self.session.execute(update(_write_offs).where(_write_offs.c.id == write_off_id).values(
            status=status, decided_by=actor, decided_at=at, reason=reason))

    async def write_off_list(self, *, status: str | None, limit: int) -> list[dict[str, Any]]:
        return [{**row, "moves": json.loads(row["moves"])} for row in await self._listing(
            _write_offs, (_write_offs.c.requested_at, _write_offs.c.id), limit, status=status)]

    async def reference_used(self, action: str, reference: str) -> bool:
        """Whether an action with this reference (e.g. a liquidation lot) was applied or waits for approval."""
        statement = select(_recovery_actions.c.action_id).where(
            _recovery_actions.c.action == action, _recovery_actions.c.reference == reference).union_all(
            select(_write_offs.c.id).where(_write_offs.c.action == action, _write_offs.c.reference == reference,
                                           _write_offs.c.status != "rejected"))
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def add_recovery_actions(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(_recovery_actions), [
                {**row, "disposal": row["disposal"] and json.dumps(row["disposal"])} for row in rows])

    async def recovery_actions(self, *, sku: str | None, node: str | None, limit: int) -> list[dict[str, Any]]:
        return [{**row, "disposal": row["disposal"] and json.loads(row["disposal"])} for row in await self._listing(
            _recovery_actions, (_recovery_actions.c.at, _recovery_actions.c.action_id), limit, sku=sku, node=node)]

    async def _listing(self, table, order_by, limit: int, **filters) -> list[dict[str, Any]]:
        """Rows of a table for the read models, filtered by the columns given (None: any)."""
        statement = select(table).order_by(*order_by).limit(limit)
        for column, value in filters.items():
            if value is not None:
                statement = statement.where(table.c[column] == value)
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]


def _wave(row) -> Wave:
    return Wave(row.id, row.node, row.service_level, row.cutoff, WaveStatus(row.status), row.tasks, row.released_by,
                row.released_at)


def _place_of(row) -> Place:
    """A place from a row's node, location, status, lot, serial and expiry columns ('' meaning none)."""
    return Place(row["node"], row["location"], StockStatus(row["status"]), row["lot"] or None,
                 row["serial"] or None, date.fromisoformat(row["expiry"]) if row["expiry"] else None)


def _balance_row(sku: str, place: Place, units: int = 0) -> dict[str, Any]:
    return {"sku": sku, "node": place.node, "location": place.location, "status": place.status.value,
            "lot": place.lot or "", "serial": place.serial or "",
            "expiry": place.expiry.isoformat() if place.expiry else "", "units": units}


def _movement_row(m: Movement) -> dict[str, Any]:
    row = {"sku": m.sku, "quantity": m.quantity, "reason": m.reason.value, "reference": m.reference,
           "actor": m.actor, "scan_id": m.scan_id, "at": m.at}
    for side, place in (("from", m.source), ("to", m.target)):
        row.update({f"{side}_node": place and place.node, f"{side}_location": place and place.location,
                    f"{side}_status": place and place.status.value, f"{side}_lot": place and place.lot,
                    f"{side}_serial": place and place.serial,
                    f"{side}_expiry": place and place.expiry and place.expiry.isoformat()})
    return row


def _terms_of(document: str) -> dict[str, InboundTerms]:
    return {sku: InboundTerms(Decimal(terms["unit_cost"]), terms["lot"],
                              date.fromisoformat(terms["expiry"]) if terms["expiry"] else None)
            for sku, terms in json.loads(document).items()}


def _rtv_lines_json(rtv: VendorReturn) -> str:
    return json.dumps({sku: asdict(line) for sku, line in rtv.lines.items()})


def _move_json(move: RecoveryMove) -> dict[str, Any]:
    return {**asdict(move), "proceeds": move.proceeds and str(move.proceeds)}


def _move_of(row: dict[str, Any]) -> RecoveryMove:
    return RecoveryMove(**{**row, "action": RecoveryAction(row["action"]),
                           "from_status": StockStatus(row["from_status"]),
                           "to_status": row["to_status"] and StockStatus(row["to_status"]),
                           "proceeds": row["proceeds"] and Decimal(row["proceeds"])})
