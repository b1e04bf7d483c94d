"""Shipping persistence: orders and SKUs as shipping follows them, carrier services and channel rules, parcels
(locked while labelled or handed over; other replicas skip them), carrier tracking events (each stored once) and
the tracking feed's cursor."""

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime, time
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql

from ecomops_common.db import SqlRepository
from shipping_service.adapters.orm import (
    CarrierServiceRecord,
    ChannelRuleRecord,
    OrderRecord,
    ParcelRecord,
    SkuRecord,
    TrackingCursorRecord,
    TrackingEventRecord,
)
from shipping_service.domain.parcels import Parcel, ParcelKind, ParcelStatus, SkuHandling
from shipping_service.domain.performance import Delivery
from shipping_service.domain.rates import CarrierService, ChannelRule

_orders = OrderRecord.__table__
_skus = SkuRecord.__table__
_services = CarrierServiceRecord.__table__
_rules = ChannelRuleRecord.__table__
_parcels = ParcelRecord.__table__
_events = TrackingEventRecord.__table__
_cursors = TrackingCursorRecord.__table__
PARCEL_FIELDS = tuple(f.name for f in fields(Parcel))
CHANGING = tuple(name for name in PARCEL_FIELDS if name not in ("parcel_id", "kind", "node", "lines", "created_at",
                                                                "order_id", "rma_id"))


class ShippingRepository(SqlRepository):
    def _lock(self, statement, skip_locked: bool = False):
        return statement.with_for_update(skip_locked=skip_locked) if self.dialect is postgresql else statement

    # --- orders and SKUs --------------------------------------------------------------------------------

    async def upsert_orders(self, orders: list[dict[str, Any]]) -> None:
        statement = self.dialect.insert(_orders)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["order_id"], set_={
            name: statement.excluded[name] for name in orders[0] if name != "order_id"}), orders)

    async def orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        rows = await self.session.execute(select(_orders).where(_orders.c.order_id.in_(set(order_ids))))
        return {row.order_id: dict(row._mapping) for row in rows}

    async def upsert_skus(self, skus: list[dict[str, Any]]) -> None:
        """The newest revision of each SKU wins, whatever order the changes arrive in."""
        statement = self.dialect.insert(_skus)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in skus[0] if name != "sku"},
            where=statement.excluded.revision > _skus.c.revision), skus)

    async def skus(self, skus: Iterable[str]) -> dict[str, SkuHandling]:
        rows = await self.session.execute(select(_skus).where(_skus.c.sku.in_(set(skus))))
        return {row.sku: SkuHandling(row.weight_kg, row.hazmat_class is not None) for row in rows}

    # --- carrier services and channel rules ----------------------------------------------------------

    async def carrier_services(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(select(_services).order_by(_services.c.carrier, _services.c.service))
        return [dict(row._mapping) for row in rows]

    async def put_carrier_service(self, service: CarrierService, actor: str, at: datetime) -> None:
        row = {"carrier": service.carrier, "service": service.service, "transit_days": service.transit_days,
               "cutoff": service.cutoff.strftime("%H:%M"), "hazmat_allowed": service.hazmat_allowed,
               "max_weight_kg": service.max_weight_kg, "active": service.active, "updated_by": actor,
               "updated_at": at}
        statement = self.dialect.insert(_services)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["carrier", "service"],
            set_={name: statement.excluded[name] for name in row if name not in ("carrier", "service")}), [row])

    async def channel_rules(self, channels: Iterable[str]) -> dict[str, dict[str, Any]]:
        rows = await self.session.execute(select(_rules).where(_rules.c.channel.in_(set(channels))))
        return {row.channel: {**row._mapping, "document": json.loads(row.document)} for row in rows}

    async def put_channel_rule(self, channel: str, document: dict[str, Any], actor: str, at: datetime) -> None:
        statement = self.dialect.insert(_rules)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["channel"], set_={"document": statement.excluded.document,
                                              "updated_by": statement.excluded.updated_by,
                                              "updated_at": statement.excluded.updated_at}),
            [{"channel": channel, "document": json.dumps(document), "updated_by": actor, "updated_at": at}])

    # --- parcels ---------------------------------------------------------------------------------------

    async def add_parcels(self, parcels: list[Parcel]) -> None:
        """New parcels; one announced again is left as it is (its label is bought once)."""
        if parcels:
            statement = self.dialect.insert(_parcels).on_conflict_do_nothing(index_elements=["parcel_id"])
            await self.session.execute(statement, [_row(parcel) for parcel in parcels])

    async def due_parcels(self, now: datetime, limit: int, *, planned: bool) -> list[Parcel]:
        """Pending parcels due for an attempt, with or without their plan, locked until commit."""
        plan = _parcels.c.carrier.is_not(None) if planned else _parcels.c.carrier.is_(None)
        statement = select(_parcels).where(
            _parcels.c.status == ParcelStatus.pending, plan,
            (_parcels.c.next_attempt_at.is_(None)) | (_parcels.c.next_attempt_at <= now),
        ).order_by(_parcels.c.created_at).limit(limit)
        return [_parcel(row) for row in await self.session.execute(self._lock(statement, skip_locked=True))]

    async def parcel(self, parcel_id: str, *, lock: bool = False) -> Parcel | None:
        statement = select(_parcels).where(_parcels.c.parcel_id == parcel_id)
        row = (await self.session.execute(self._lock(statement) if lock else statement)).first()
        return _parcel(row) if row else None

    async def parcels_by_tracking(self, tracking_numbers: Iterable[str], *, lock: bool = False) -> dict[str, Parcel]:
        statement = select(_parcels).where(_parcels.c.tracking_number.in_(set(tracking_numbers)))
        rows = await self.session.execute(self._lock(statement) if lock else statement)
        return {row.tracking_number: _parcel(row) for row in rows}

    async def parcels_of_orders(self, order_ids: Iterable[str]) -> list[Parcel]:
        rows = await self.session.execute(select(_parcels).where(_parcels.c.order_id.in_(set(order_ids))))
        return [_parcel(row) for row in rows]

    async def parcels(self, status: str | None, order_id: str | None, limit: int) -> list[Parcel]:
        statement = select(_parcels).order_by(_parcels.c.created_at.desc()).limit(limit)
        if status is not None:
            statement = statement.where(_parcels.c.status == status)
        if order_id is not None:
            statement = statement.where(_parcels.c.order_id == order_id)
        return [_parcel(row) for row in await self.session.execute(statement)]

    async def parcels_to_hand_over(self, limit: int) -> list[Parcel]:
        statement = select(_parcels).where(_parcels.c.dispatched_at.is_not(None), _parcels.c.handed_over_at.is_(None),
                                           _parcels.c.tracking_number.is_not(None)
                                           ).order_by(_parcels.c.dispatched_at).limit(limit)
        return [_parcel(row) for row in await self.session.execute(self._lock(statement, skip_locked=True))]

    async def save_parcels(self, parcels: Iterable[Parcel]) -> None:
        rows = [{"key": parcel.parcel_id, **{name: getattr(parcel, name) for name in CHANGING}} for parcel in parcels]
        if rows:
            await self.session.execute(update(_parcels).where(_parcels.c.parcel_id == bindparam("key")).values(
                {name: bindparam(name) for name in CHANGING}), rows)

    # --- tracking ------------------------------------------------------------------------------------

    async def cursor(self, feed: str) -> int:
        """The feed's position, locked until commit (one poller at a time)."""
        await self.session.execute(self.dialect.insert(_cursors).on_conflict_do_nothing(index_elements=["feed"]),
                                   [{"feed": feed, "position": 0}])
        statement = select(_cursors.c.position).where(_cursors.c.feed == feed)
        return (await self.session.execute(self._lock(statement))).scalar_one()

    async def save_cursor(self, feed: str, position: int) -> None:
        await self.session.execute(update(_cursors).where(_cursors.c.feed == feed).values(position=position))

    async def add_tracking_events(self, events: list[dict[str, Any]]) -> set[str]:
        """The ids of the events not stored before."""
        if not events:
            return set()
        statement = self.dialect.insert(_events).on_conflict_do_nothing(index_elements=["event_id"]).returning(
            _events.c.event_id)
        new: set[str] = set()
        for event in events:  # one by one: RETURNING of an executemany is not portable
            new.update((await self.session.execute(statement, event)).scalars())
        return new

    async def tracking_events(self, tracking_number: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(select(_events).where(_events.c.tracking_number == tracking_number)
                                          .order_by(_events.c.occurred_at))
        return [dict(row._mapping) for row in rows]

    async def deliveries(self, carrier: str | None, service: str | None, since: datetime | None,
                         until: datetime | None) -> list[Delivery]:
        statement = select(_parcels.c.carrier, _parcels.c.service, _parcels.c.delivered_at, _parcels.c.promised_date,
                           _parcels.c.estimated_delivery).where(_parcels.c.delivered_at.is_not(None),
                                                                _parcels.c.kind == ParcelKind.outbound)
        if carrier is not None:
            statement = statement.where(_parcels.c.carrier == carrier)
        if service is not None:
            statement = statement.where(_parcels.c.service == service)
        if since is not None:
            statement = statement.where(_parcels.c.delivered_at >= since)
        if until is not None:
            statement = statement.where(_parcels.c.delivered_at < until)
        return [Delivery(row.carrier, row.service, row.delivered_at.date(), row.promised_date, row.estimated_delivery)
                for row in await self.session.execute(statement)]


def carrier_service(row: dict[str, Any]) -> CarrierService:
    return CarrierService(row["carrier"], row["service"], row["transit_days"], time.fromisoformat(row["cutoff"]),
                          row["hazmat_allowed"], row["max_weight_kg"], row["active"])


def channel_rule(document: dict[str, Any]) -> ChannelRule:
    carriers, services = document.get("carriers"), document.get("services")
    return ChannelRule(None if carriers is None else frozenset(carriers),
                       None if services is None else frozenset(services))


def _row(parcel: Parcel) -> dict[str, Any]:
    return {**{name: getattr(parcel, name) for name in PARCEL_FIELDS}, "lines": json.dumps(parcel.lines)}


def _parcel(row) -> Parcel:
    values = {name: getattr(row, name) for name in PARCEL_FIELDS}
    values["kind"], values["status"] = ParcelKind(row.kind), ParcelStatus(row.status)
    values["lines"] = [(sku, units) for sku, units in json.loads(row.lines)]
    return Parcel(**values)

