"""Warehouse persistence. Every change of a SKU×node first locks its stock_levels row (sorted), so scans of one
SKU from many devices apply one after the other and balances cannot race below zero."""

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, text, tuple_, update

from ecomops_common.db import SqlRepository
from warehouse_service.adapters.orm import (
    CountTaskRecord,
    CountVarianceRecord,
    ExpectedReceiptRecord,
    LocationRecord,
    MovementRecord,
    PickTaskRecord,
    ScanExceptionRecord,
    ShipmentRecord,
    ShortPickRecord,
    StockBalanceRecord,
    StockLevelRecord,
    WarehouseOrderRecord,
    WaveRecord,
)
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import BalanceKey, Balances, Movement, Place, StockStatus
from warehouse_service.domain.scans import CountVariance, ExpectedReceipt
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
            conditions="{}", created_at=at, created_by=receipt.created_by)
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
                                             json.loads(r.conditions), r.created_by) for r in rows}

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
                         r.suggested_bin, r.packed, r.shipped, r.wave_id) for r in rows]

    async def save_tasks(self, tasks: Iterable[PickTask], at: datetime) -> None:
        rows = [{"id": t.id, "order_id": t.order_id, "line_id": t.line_id, "node": t.node, "sku": t.sku,
                 "quantity": t.quantity, "picked": t.picked, "packed": t.packed, "shipped": t.shipped,
                 "status": t.status.value, "suggested_bin": t.suggested_bin, "wave_id": t.wave_id,
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

    async def fullest_bins(self, keys: Iterable[SkuNode]) -> dict[SkuNode, str]:
        """Per SKU×node, the bin holding the most sellable units: where a new pick task suggests to pick."""
        keys = sorted(set(keys))
        if not keys:
            return {}
        rows = await self.session.execute(
            select(_balances.c.sku, _balances.c.node, _balances.c.location, _balances.c.units)
            .where(tuple_(_balances.c.sku, _balances.c.node).in_(keys),
                   _balances.c.status == StockStatus.sellable.value)
            .order_by(_balances.c.units))
        return {(r.sku, r.node): r.location for r in rows}  # ascending: the fullest bin is written last

    async def task_list(self, *, node: str | None, order_id: str | None, status: str | None,
                        limit: int) -> list[dict[str, Any]]:
        return await self._listing(_tasks, (_tasks.c.created_at, _tasks.c.id), limit, node=node, order_id=order_id,
                                   status=status)

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


