"""Allocation persistence. Locks are taken in one global order, positions (by sku, node) before orders
(by id), so transactions that share stock wait for each other instead of deadlocking."""

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, tuple_, update

from allocation_service.adapters.orm import (
    AllocationExceptionRecord,
    BackorderPromiseRecord,
    BackorderRecord,
    ChannelRulesRecord,
    FulfilmentRecord,
    InboundSupplyRecord,
    OrderDemandRecord,
    ReleaseBeforePlacementRecord,
    ReservationRecord,
    SoftHoldRecord,
    SoftReservationRecord,
    StockPositionRecord,
    SupplySourceRecord,
)
from allocation_service.domain.book import AllocationBook, OrderAllocation, OrderAllocationStatus
from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.shrinkage import AllocationException
from allocation_service.domain.soft_reservations import SoftHold, SoftReservation, SoftReservationStatus
from allocation_service.domain.sourcing import Allocation, Backorder, OrderDemand
from allocation_service.domain.stock import StockKey, StockPosition
from allocation_service.domain.supply import InboundLine, QueuedBackorder, queued
from ecomops_common.db import SqlRepository

_positions = StockPositionRecord.__table__
_demands = OrderDemandRecord.__table__
_reservations = ReservationRecord.__table__
_backorders = BackorderRecord.__table__
_fulfilments = FulfilmentRecord.__table__
_rules = ChannelRulesRecord.__table__
_exceptions = AllocationExceptionRecord.__table__
_early_releases = ReleaseBeforePlacementRecord.__table__
_promises = BackorderPromiseRecord.__table__
_inbound = InboundSupplyRecord.__table__
_sources = SupplySourceRecord.__table__
_soft = SoftReservationRecord.__table__
_soft_holds = SoftHoldRecord.__table__


class AllocationRepository(SqlRepository):
    # --- stock positions -------------------------------------------------------------------------------

    async def add_missing_positions(self, keys: Iterable[StockKey], at: datetime) -> None:
        rows = [{"sku": sku, "node": node, "on_hand": 0, "reserved": 0, "safety_stock": 0, "updated_at": at}
                for sku, node in sorted(set(keys))]
        if rows:
            await self.session.execute(self.dialect.insert(_positions).on_conflict_do_nothing(), rows)

    async def lock_positions(self, skus: Iterable[str]) -> tuple[dict[StockKey, StockPosition],
                                                                 dict[StockKey, int | None]]:
        """Every node's position of these SKUs, locked until commit, and the version of the warehouse level
        each on_hand was last set from (None: none yet)."""
        skus = sorted(set(skus))
        if not skus:
            return {}, {}
        statement = (select(_positions).where(_positions.c.sku.in_(skus))
                     .order_by(_positions.c.sku, _positions.c.node).with_for_update())
        positions, versions = {}, {}
        for row in (await self.session.execute(statement)).mappings():
            key = (row["sku"], row["node"])
            positions[key] = _position(row)
            versions[key] = row["level_version"]
        return positions, versions

    async def positions_of(self, skus: Iterable[str]) -> dict[StockKey, StockPosition]:
        statement = select(_positions).where(_positions.c.sku.in_(sorted(set(skus)))).order_by(
            _positions.c.sku, _positions.c.node)
        return {(r["sku"], r["node"]): _position(r) for r in (await self.session.execute(statement)).mappings()}

    async def known_nodes(self) -> set[str]:
        return set((await self.session.execute(select(_positions.c.node).distinct())).scalars())

    # --- orders ----------------------------------------------------------------------------------------

    async def existing_order_ids(self, order_ids: Iterable[str]) -> set[str]:
        ids = list(set(order_ids))
        if not ids:
            return set()
        return set((await self.session.execute(select(_demands.c.order_id).where(_demands.c.order_id.in_(ids))))
                   .scalars())

    async def released_before_placement(self, order_ids: Iterable[str]) -> set[str]:
        ids = list(set(order_ids))
        if not ids:
            return set()
        return set((await self.session.execute(
            select(_early_releases.c.order_id).where(_early_releases.c.order_id.in_(ids)))).scalars())

    async def remember_releases_before_placement(self, reasons: dict[str, str], at: datetime) -> None:
        """order id -> why (cancelled, rejected), for orders not placed yet."""
        if reasons:
            await self.session.execute(self.dialect.insert(_early_releases).on_conflict_do_nothing(), [
                {"order_id": order_id, "reason": reason, "released_at": at} for order_id, reason in reasons.items()])

    async def skus_of_orders(self, order_ids: Iterable[str]) -> set[str]:
        """The SKUs of these orders' lines (read without locks: an order's lines never change)."""
        ids = list(set(order_ids))
        if not ids:
            return set()
        rows = (await self.session.execute(select(_demands.c.demand).where(_demands.c.order_id.in_(ids)))).scalars()
        return {line[1] for demand in rows for line in json.loads(demand)["lines"]}

    async def orders_backordered_on(self, skus: Iterable[str]) -> set[str]:
        skus = list(set(skus))
        if not skus:
            return set()
        return set((await self.session.execute(
            select(_backorders.c.order_id).where(_backorders.c.sku.in_(skus)).distinct())).scalars())

    async def orders_reserved_at(self, keys: Iterable[StockKey]) -> set[str]:
        """Orders holding reservations at these SKU×nodes."""
        keys = list(set(keys))
        if not keys:
            return set()
        return set((await self.session.execute(select(_reservations.c.order_id).where(
            tuple_(_reservations.c.sku, _reservations.c.node).in_(keys)).distinct())).scalars())

    async def load_orders(self, order_ids: Iterable[str], *, lock: bool) -> list[OrderAllocation]:
        """These orders with what they hold; with lock, locked until commit (lock their positions first)."""
        ids = sorted(set(order_ids))
        if not ids:
            return []
        statement = select(_demands).where(_demands.c.order_id.in_(ids)).order_by(_demands.c.order_id)
        demands = (await self.session.execute(statement.with_for_update() if lock else statement)).mappings().all()
        reservations = (await self.session.execute(
            select(_reservations).where(_reservations.c.order_id.in_(ids)))).mappings().all()
        backorders = (await self.session.execute(
            select(_backorders).where(_backorders.c.order_id.in_(ids)))).mappings().all()
        fulfilments = (await self.session.execute(
            select(_fulfilments).where(_fulfilments.c.order_id.in_(ids)))).mappings().all()
        promises = (await self.session.execute(
            select(_promises).where(_promises.c.order_id.in_(ids)))).mappings().all()
        orders = {row["order_id"]: OrderAllocation(demand_from_json(row["order_id"], row["channel"], row["demand"]),
                                                   OrderAllocationStatus(row["status"]), row["revision"])
                  for row in demands}
        for r in reservations:
            orders[r["order_id"]].reservations.append(Allocation(r["line_id"], r["sku"], r["node"], r["qty"]))
        for b in backorders:
            orders[b["order_id"]].backorders.append(Backorder(b["line_id"], b["sku"], b["qty"]))
        for f in fulfilments:
            orders[f["order_id"]].fulfilled.append(Allocation(f["line_id"], f["sku"], f["node"], f["qty"]))
        for p in promises:
            orders[p["order_id"]].promises[p["line_id"]] = p["promised_date"]
        return list(orders.values())

    # --- inbound supply and backorder promises ---------------------------------------------------------

    async def inbound_of(self, skus: Iterable[str]) -> list[InboundLine]:
        """The lines of these SKUs with units still to come."""
        skus = sorted(set(skus))
        if not skus:
            return []
        return _inbound_lines(await self.session.execute(
            select(_inbound).where(_inbound.c.sku.in_(skus), _inbound.c.open > 0)))

    async def inbound_of_sources(self, sources: Iterable[str]) -> list[InboundLine]:
        return _inbound_lines(await self.session.execute(
            select(_inbound).where(_inbound.c.source.in_(sorted(set(sources))))))

    async def supply_versions(self, sources: Iterable[str]) -> dict[str, tuple[int | None, datetime]]:
        """The change applied per source: (revision, changed_at)."""
        rows = await self.session.execute(select(_sources).where(_sources.c.source.in_(sorted(set(sources)))))
        return {row["source"]: (row["revision"], row["changed_at"]) for row in rows.mappings()}

    async def replace_supply(self, source: str, lines: list[InboundLine], revision: int | None,
                             changed_at: datetime) -> None:
        await self.session.execute(delete(_inbound).where(_inbound.c.source == source))
        if lines:
            await self.session.execute(insert(_inbound), [{
                "source": line.source, "line_id": line.line_id, "sku": line.sku, "node": line.node,
                "expected_date": line.expected_date, "ordered": line.ordered, "received": line.received,
                "open": line.open} for line in lines])
        statement = self.dialect.insert(_sources).values(source=source, revision=revision, changed_at=changed_at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["source"], set_={"revision": revision, "changed_at": changed_at}))

    async def backorder_queue(self, skus: Iterable[str]) -> list[tuple[QueuedBackorder, date | None]]:
        """Every backordered line of these SKUs with its place in the queue and its promised date; read under
        the SKUs' position locks, which every change of these lines holds."""
        skus = sorted(set(skus))
        if not skus:
            return []
        statement = (
            select(_backorders.c.order_id, _backorders.c.line_id, _backorders.c.sku, _backorders.c.qty,
                   _demands.c.channel, _demands.c.demand, _promises.c.promised_date)
            .select_from(_backorders.join(_demands, _demands.c.order_id == _backorders.c.order_id)
                         .outerjoin(_promises, (_promises.c.order_id == _backorders.c.order_id)
                                    & (_promises.c.line_id == _backorders.c.line_id)))
            .where(_backorders.c.sku.in_(skus)))
        return [(queued(demand_from_json(r["order_id"], r["channel"], r["demand"]), r["line_id"], r["sku"], r["qty"]),
                 r["promised_date"]) for r in (await self.session.execute(statement)).mappings()]

    async def set_promises(self, promises: dict[tuple[str, str], date | None]) -> None:
        """(order id, line id) -> the line's promised date; None removes it."""
        if not promises:
            return
        await self.session.execute(delete(_promises).where(
            tuple_(_promises.c.order_id, _promises.c.line_id).in_(sorted(promises))))
        rows = [{"order_id": order_id, "line_id": line_id, "promised_date": day}
                for (order_id, line_id), day in sorted(promises.items()) if day is not None]
        if rows:
            await self.session.execute(insert(_promises), rows)

    # --- soft reservations -----------------------------------------------------------------------------

    async def add_soft_reservation(self, reservation: SoftReservation) -> bool:
        """Stores a new soft reservation; False (nothing stored) when its id exists already."""
        added = await self.session.execute(self.dialect.insert(_soft).values(
            reservation_id=reservation.reservation_id, channel=reservation.channel, node=reservation.node,
            lines=json.dumps([list(line) for line in reservation.lines]), status=reservation.status.value,
            expires_at=reservation.expires_at, created_by=reservation.created_by,
            created_at=reservation.created_at).on_conflict_do_nothing())
        if not added.rowcount:
            return False
        await self.session.execute(insert(_soft_holds), [
            {"reservation_id": reservation.reservation_id, "sku": h.sku, "node": h.node, "qty": h.qty}
            for h in reservation.holds])
        return True

    async def soft_reservations(self, reservation_ids: Iterable[str], *, lock: bool) -> list[SoftReservation]:
        """With lock, locked until commit (lock the positions of their SKUs first)."""
        ids = sorted(set(reservation_ids))
        if not ids:
            return []
        statement = select(_soft).where(_soft.c.reservation_id.in_(ids)).order_by(_soft.c.reservation_id)
        rows = (await self.session.execute(statement.with_for_update() if lock else statement)).mappings().all()
        holds: dict[str, list[SoftHold]] = {}
        for h in (await self.session.execute(select(_soft_holds).where(_soft_holds.c.reservation_id.in_(ids))
                                             .order_by(_soft_holds.c.sku, _soft_holds.c.node))).mappings():
            holds.setdefault(h["reservation_id"], []).append(SoftHold(h["sku"], h["node"], h["qty"]))
        return [SoftReservation(
            reservation_id=r["reservation_id"], channel=r["channel"], node=r["node"],
            lines=tuple((sku, qty) for sku, qty in json.loads(r["lines"])),
            holds=tuple(holds.get(r["reservation_id"], ())), status=SoftReservationStatus(r["status"]),
            expires_at=r["expires_at"], created_by=r["created_by"], created_at=r["created_at"],
            ended_by=r["ended_by"], ended_at=r["ended_at"], order_id=r["order_id"]) for r in rows]

    async def end_soft_reservations(self, reservations: Iterable[SoftReservation]) -> None:
        rows = [{"b_id": r.reservation_id, "status": r.status.value, "ended_by": r.ended_by,
                 "ended_at": r.ended_at, "order_id": r.order_id} for r in reservations]
        if rows:
            await self.session.execute(
                update(_soft).where(_soft.c.reservation_id == bindparam("b_id"))
                .values(status=bindparam("status"), ended_by=bindparam("ended_by"), ended_at=bindparam("ended_at"),
                        order_id=bindparam("order_id")), rows)

    async def soft_reservations_due(self, now: datetime, limit: int) -> list[str]:
        """Active soft reservations whose time is up, soonest first."""
        statement = (select(_soft.c.reservation_id)
                     .where(_soft.c.status == SoftReservationStatus.active.value, _soft.c.expires_at <= now)
                     .order_by(_soft.c.expires_at).limit(limit))
        return list((await self.session.execute(statement)).scalars())

    # --- rules -----------------------------------------------------------------------------------------

    async def rules_by_channel(self) -> dict[str, SourcingRules]:
        rows = (await self.session.execute(select(_rules.c.channel, _rules.c.rules))).all()
        return {channel: rules_from_json(rules) for channel, rules in rows}

    async def rules_row(self, channel: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(_rules).where(_rules.c.channel == channel))).mappings().first()
        return dict(row) if row else None

    async def put_rules(self, channel: str, rules: SourcingRules, actor: str, at: datetime) -> None:
        values = {"channel": channel, "rules": rules_to_json(rules), "updated_by": actor, "updated_at": at}
        statement = self.dialect.insert(_rules).values(values)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["channel"], set_={k: statement.excluded[k] for k in ("rules", "updated_by", "updated_at")}))

    # --- saving a book ---------------------------------------------------------------------------------

    async def save(self, book: AllocationBook, new_order_ids: set[str], versions: dict[StockKey, int],
                   at: datetime) -> None:
        """Writes what the book changed: positions (and the versions of the warehouse levels applied), new
        orders, changed orders' whole allocation, exceptions."""
        positions = sorted(book.changed_positions(), key=lambda p: p.key)
        if positions:
            await self.session.execute(
                update(_positions)
                .where(_positions.c.sku == bindparam("b_sku"), _positions.c.node == bindparam("b_node"))
                .values(on_hand=bindparam("on_hand"), reserved=bindparam("reserved"),
                        safety_stock=bindparam("safety_stock"), soft_reserved=bindparam("soft_reserved"),
                        updated_at=at),
                [{"b_sku": p.sku, "b_node": p.node, "on_hand": p.on_hand, "reserved": p.reserved,
                  "safety_stock": p.safety_stock, "soft_reserved": p.soft_reserved} for p in positions])
        if versions:
            await self.session.execute(
                update(_positions)
                .where(_positions.c.sku == bindparam("b_sku"), _positions.c.node == bindparam("b_node"))
                .values(level_version=bindparam("level_version")),
                [{"b_sku": sku, "b_node": node, "level_version": version}
                 for (sku, node), version in sorted(versions.items())])

        new_orders = [book.orders[order_id] for order_id in new_order_ids]
        if new_orders:
            await self.session.execute(insert(_demands), [{
                "order_id": o.order_id, "channel": o.demand.channel, "status": o.status.value,
                "revision": o.revision, "demand": demand_to_json(o.demand), "created_at": at, "updated_at": at,
            } for o in new_orders])
        changed = book.orders_to_save()
        existing = [o for o in changed if o.order_id not in new_order_ids]
        if existing:
            await self.session.execute(
                update(_demands).where(_demands.c.order_id == bindparam("b_order_id"))
                .values(status=bindparam("status"), revision=bindparam("revision"), updated_at=at),
                [{"b_order_id": o.order_id, "status": o.status.value, "revision": o.revision} for o in existing])
            ids = [o.order_id for o in existing]
            await self.session.execute(delete(_reservations).where(_reservations.c.order_id.in_(ids)))
            await self.session.execute(delete(_backorders).where(_backorders.c.order_id.in_(ids)))
            await self.session.execute(delete(_fulfilments).where(_fulfilments.c.order_id.in_(ids)))
            await self.session.execute(delete(_promises).where(_promises.c.order_id.in_(ids)))
        reservations = [{"order_id": o.order_id, "line_id": r.line_id, "node": r.node, "sku": r.sku, "qty": r.qty}
                        for o in changed for r in o.reservations]
        if reservations:
            await self.session.execute(insert(_reservations), reservations)
        backorders = [{"order_id": o.order_id, "line_id": b.line_id, "sku": b.sku, "qty": b.qty}
                      for o in changed for b in o.backorders]
        if backorders:
            await self.session.execute(insert(_backorders), backorders)
        fulfilments = [{"order_id": o.order_id, "line_id": f.line_id, "node": f.node, "sku": f.sku, "qty": f.qty}
                       for o in changed for f in o.fulfilled]
        if fulfilments:
            await self.session.execute(insert(_fulfilments), fulfilments)
        promises = [{"order_id": o.order_id, "line_id": line_id, "promised_date": day}
                    for o in changed for line_id, day in o.promises.items()]
        if promises:
            await self.session.execute(insert(_promises), promises)

    async def add_exception(self, exception_id: str, exception: AllocationException, at: datetime) -> None:
        await self.session.execute(insert(_exceptions).values(
            id=exception_id, sku=exception.sku, node=exception.node, shortfall=exception.shortfall,
            affected_order_ids=json.dumps(list(exception.affected_order_ids)), raised_at=at))

    async def recent_exceptions(self, limit: int) -> list[dict[str, Any]]:
        statement = select(_exceptions).order_by(_exceptions.c.raised_at.desc()).limit(limit)
        return [{**row, "affected_order_ids": json.loads(row["affected_order_ids"])}
                for row in (await self.session.execute(statement)).mappings()]

    # --- reconciliation --------------------------------------------------------------------------------

    async def backorder_totals(self) -> tuple[int, int]:
        """Orders with units on backorder, and those units."""
        orders, units = (await self.session.execute(select(
            func.count(_backorders.c.order_id.distinct()), func.coalesce(func.sum(_backorders.c.qty), 0)))).one()
        return orders, units

    async def reservation_drift(self) -> list[dict[str, Any]]:
        """Positions whose reserved counter differs from the sum of their live reservations, or whose
        soft_reserved counter from the units their active soft reservations hold."""
        reservations = (select(_reservations.c.sku, _reservations.c.node, func.sum(_reservations.c.qty).label("live"))
                        .group_by(_reservations.c.sku, _reservations.c.node).subquery())
        soft_holds = (select(_soft_holds.c.sku, _soft_holds.c.node, func.sum(_soft_holds.c.qty).label("live"))
                      .join(_soft, _soft.c.reservation_id == _soft_holds.c.reservation_id)
                      .where(_soft.c.status == SoftReservationStatus.active.value)
                      .group_by(_soft_holds.c.sku, _soft_holds.c.node).subquery())
        return [*await self._counter_drift("reserved", reservations),
                *await self._counter_drift("soft_reserved", soft_holds)]

    async def _counter_drift(self, counter: str, live) -> list[dict[str, Any]]:
        column = _positions.c[counter]
        statement = (
            select(_positions.c.sku, _positions.c.node, column.label("reserved"),
                   func.coalesce(live.c.live, 0).label("live"))
            .select_from(_positions.outerjoin(live, (live.c.sku == _positions.c.sku)
                                              & (live.c.node == _positions.c.node)))
            .where(column != func.coalesce(live.c.live, 0))
            .order_by(_positions.c.sku, _positions.c.node)
        )
        drift = [{**row, "counter": counter} for row in (await self.session.execute(statement)).mappings()]
        # Units held at a node that has no position row at all are drift too.
        orphans = (select(live.c.sku, live.c.node, live.c.live)
                   .select_from(live.outerjoin(_positions, (live.c.sku == _positions.c.sku)
                                               & (live.c.node == _positions.c.node)))
                   .where(_positions.c.sku.is_(None)))
        return drift + [{**row, "reserved": None, "counter": counter}
                        for row in (await self.session.execute(orphans)).mappings()]


def _position(row) -> StockPosition:
    return StockPosition(row["sku"], row["node"], row["on_hand"], row["reserved"], row["safety_stock"],
                         row["soft_reserved"])


def _inbound_lines(result) -> list[InboundLine]:
    return [InboundLine(r["source"], r["line_id"], r["sku"], r["node"], r["expected_date"], r["ordered"],
                        r["received"], r["open"]) for r in result.mappings()]


def demand_to_json(demand: OrderDemand) -> str:
    return json.dumps({
        "lines": [list(line) for line in demand.lines], "ship_to_country": demand.ship_to_country,
        "service_level": demand.service_level, "customer_tier": demand.customer_tier,
        "placed_at": demand.placed_at.isoformat(),
        "promised_date": demand.promised_date.isoformat() if demand.promised_date else None,
    })


def demand_from_json(order_id: str, channel: str, document: str) -> OrderDemand:
    d = json.loads(document)
    return OrderDemand(
        order_id=order_id, channel=channel, lines=[tuple(line) for line in d["lines"]],
        ship_to_country=d["ship_to_country"], service_level=d["service_level"], customer_tier=d["customer_tier"],
        placed_at=datetime.fromisoformat(d["placed_at"]),
        promised_date=date.fromisoformat(d["promised_date"]) if d["promised_date"] else None,
    )


def rules_to_json(rules: SourcingRules) -> str:
    return json.dumps({
        "allow_split": rules.allow_split, "short_stock": rules.short_stock,
        "protected_quantity": rules.protected_quantity,
        "node_priority": {country: list(nodes) for country, nodes in rules.node_priority.items()},
        "node_cost": {node: str(cost) for node, cost in rules.node_cost.items()},
    })


def rules_from_json(document: str) -> SourcingRules:
    d = json.loads(document)
    return SourcingRules(allow_split=d["allow_split"], short_stock=d["short_stock"],
                         protected_quantity=d["protected_quantity"], node_priority=d["node_priority"],
                         node_cost={node: Decimal(cost) for node, cost in d["node_cost"].items()})
