"""Order persistence. Inserts are set-based so a consumed batch costs one statement."""

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, any_, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql

from ecomops_common.contracts.orders import HoldReason
from ecomops_common.contracts.returns import ReturnResolution, ReturnStatus
from ecomops_common.db import SqlRepository
from order_service.adapters.orm import (
    OrderAllocationRevisionRecord,
    OrderAwaitedSkuRecord,
    OrderCatalogComponentRecord,
    OrderCatalogSkuRecord,
    OrderFulfilmentStageRecord,
    OrderGradedVariantRecord,
    OrderHoldRecord,
    OrderLineAllocationRecord,
    OrderRecord,
    OrderReturnStepRecord,
    OrderTransitionRecord,
    OrderUnknownSkuRuleRecord,
)
from order_service.domain.allocation import ReportedAllocation
from order_service.domain.catalog import CatalogSku, Component, UnknownSkuAction
from order_service.domain.model import GradedVariant
from order_service.domain.returns import Authorization, ReturnedLine, ReturnStep

_orders = OrderRecord.__table__
_transitions = OrderTransitionRecord.__table__
_holds = OrderHoldRecord.__table__
_allocation_revisions = OrderAllocationRevisionRecord.__table__
_line_allocations = OrderLineAllocationRecord.__table__
_stages = OrderFulfilmentStageRecord.__table__
_return_steps = OrderReturnStepRecord.__table__
_graded_variants = OrderGradedVariantRecord.__table__
_catalog = OrderCatalogSkuRecord.__table__
_components = OrderCatalogComponentRecord.__table__
_awaited = OrderAwaitedSkuRecord.__table__
_unknown_sku_rules = OrderUnknownSkuRuleRecord.__table__
_CATALOG_COLUMNS = ("sku", "revision", "active", "category", "final_sale", "unit_cost")


class OrderRepository(SqlRepository):
    def __init__(self, session) -> None:
        super().__init__(session)
        self.entered: Counter[str] = Counter()  # status -> orders this transaction moves into it (for the metric)

    async def add_new(self, rows: list[dict[str, Any]]) -> set[str]:
        """Inserts the rows whose (channel, external_order_id) is new; returns the ids inserted."""
        if not rows:
            return set()
        # executemany form: compiled once and cached, sent as multi-row batches by SQLAlchemy
        statement = (
            self.dialect.insert(_orders)
            .on_conflict_do_nothing(index_elements=["channel", "external_order_id"])
            .returning(_orders.c.id)
        )
        return set((await self.session.execute(statement, rows)).scalars().all())

    async def get(self, order_id: str) -> OrderRecord | None:
        return await self.session.get(OrderRecord, order_id)

    async def get_by_channel_ids(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored rows (as column dicts) of these (channel, external_order_id) keys."""
        if not keys:
            return {}
        statement = select(_orders).where(tuple_(_orders.c.channel, _orders.c.external_order_id).in_(keys))
        rows = (await self.session.execute(statement)).mappings().all()
        return {(row["channel"], row["external_order_id"]): dict(row) for row in rows}

    async def page(self, *, channel: str | None, status: str | None, limit: int, after_id: str | None,
                   channels: frozenset[str] | None = None) -> list[OrderRecord]:
        """`channels`: only orders of these channels (None: of every channel)."""
        statement = select(OrderRecord).order_by(OrderRecord.id).limit(limit)
        if channel:
            statement = statement.where(OrderRecord.channel == channel)
        if channels is not None:
            statement = statement.where(OrderRecord.channel.in_(channels))
        if status:
            statement = statement.where(OrderRecord.status == status)
        if after_id:
            statement = statement.where(OrderRecord.id > after_id)
        return list((await self.session.execute(statement)).scalars().all())

    async def get_for_update(self, order_id: str) -> dict[str, Any] | None:
        """The order's row, locked until commit so concurrent commands on one order apply one by one."""
        row = (await self.session.execute(
            select(_orders).where(_orders.c.id == order_id).with_for_update())).mappings().first()
        return dict(row) if row else None

    async def find_id(self, channel: str, external_order_id: str) -> str | None:
        return (await self.session.execute(select(_orders.c.id).where(
            _orders.c.channel == channel, _orders.c.external_order_id == external_order_id))).scalar()

    async def holds_of(self, order_id: str) -> set[str]:
        return set((await self.session.execute(select(_holds.c.reason).where(_holds.c.order_id == order_id))).scalars())

    async def history_of(self, order_id: str) -> list[dict[str, Any]]:
        statement = select(_transitions).where(_transitions.c.order_id == order_id).order_by(_transitions.c.id)
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]

    async def add_states(self, states) -> None:
        """New orders' transitions and holds, in two set-based statements."""
        await self._add_transitions(states)
        holds = [{"order_id": state.order_id, "reason": hold} for state in states for hold in state.holds]
        if holds:
            await self.session.execute(insert(_holds), holds)

    async def save_state(self, state, at) -> None:
        """An existing order's new status, holds and transitions (and, without its inventory hold, no SKUs
        awaited any more)."""
        await self.session.execute(delete(_holds).where(_holds.c.order_id == state.order_id))
        if HoldReason.inventory_hold not in state.holds:
            await self.session.execute(delete(_awaited).where(_awaited.c.order_id == state.order_id))
        await self.add_states([state])
        await self.session.execute(update(_orders).where(_orders.c.id == state.order_id)
                                   .values(status=state.status.value, updated_at=at))

    async def save_statuses(self, states, at) -> None:
        """Existing orders' new statuses and transitions, holds unchanged: two set-based statements."""
        if not states:
            return
        await self.session.execute(
            update(_orders).where(_orders.c.id == bindparam("order_id"))
            .values(status=bindparam("new_status"), updated_at=bindparam("changed_at")),
            [{"order_id": state.order_id, "new_status": state.status.value, "changed_at": at} for state in states])
        await self._add_transitions(states)

    async def _add_transitions(self, states) -> None:
        transitions = [{"order_id": state.order_id, "from_status": t.from_status, "to_status": t.to_status,
                        "actor": t.actor, "reason": t.reason, "at": t.at} for state in states for t in state.changes]
        if transitions:
            await self.session.execute(insert(_transitions), transitions)
        # A repeated status is for the audit trail only, not a move.
        self.entered.update(str(t["to_status"]) for t in transitions if t["to_status"] != t["from_status"])

    async def lock_with_allocation_revisions(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The orders' rows with their allocation revision (None: none yet), locked until commit.

        Locked in id order, so transactions locking several orders cannot deadlock each other.
        """
        statement = (
            select(_orders.c.id, _orders.c.channel, _orders.c.external_order_id, _orders.c.status,
                   _allocation_revisions.c.revision.label("allocation_revision"))
            .select_from(_orders.outerjoin(_allocation_revisions, _allocation_revisions.c.order_id == _orders.c.id))
            .where(_orders.c.id.in_(order_ids)).order_by(_orders.c.id).with_for_update(of=_orders)
        )
        return {row["id"]: dict(row) for row in (await self.session.execute(statement)).mappings()}

    async def lock_orders(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The orders' rows (id, channel, external id, status), locked until commit in id order, as
        lock_with_allocation_revisions locks them."""
        statement = (
            select(_orders.c.id, _orders.c.channel, _orders.c.external_order_id, _orders.c.status)
            .where(_orders.c.id.in_(order_ids)).order_by(_orders.c.id).with_for_update()
        )
        return {row["id"]: dict(row) for row in (await self.session.execute(statement)).mappings()}

    async def fulfilment_stages(self, order_ids: list[str]) -> dict[str, str]:
        """The furthest stage the warehouse reported, per order that has one."""
        if not order_ids:
            return {}
        statement = select(_stages.c.order_id, _stages.c.stage).where(_stages.c.order_id.in_(order_ids))
        return dict((await self.session.execute(statement)).all())

    async def save_fulfilment_stages(self, stages: dict[str, str]) -> None:
        """Each order's stage (order id -> stage), inserted or replaced: one multi-row statement."""
        if not stages:
            return
        statement = self.dialect.insert(_stages).values(
            [{"order_id": order_id, "stage": stage} for order_id, stage in sorted(stages.items())])
        await self.session.execute(statement.on_conflict_do_update(index_elements=["order_id"],
                                                                   set_={"stage": statement.excluded.stage}))

    async def holds_of_orders(self, order_ids: list[str]) -> dict[str, set[str]]:
        holds: dict[str, set[str]] = {}
        statement = select(_holds.c.order_id, _holds.c.reason).where(_holds.c.order_id.in_(order_ids))
        for order_id, reason in await self.session.execute(statement):
            holds.setdefault(order_id, set()).add(reason)
        return holds

    async def replace_allocations(self, allocations: list[ReportedAllocation], at) -> None:
        """Each order's allocation replaced whole, and its revision: three set-based statements."""
        if not allocations:
            return
        await self.session.execute(delete(_line_allocations).where(
            _line_allocations.c.order_id.in_([allocation.order_id for allocation in allocations])))
        lines = [{"order_id": allocation.order_id, "line_id": quantity.line_id, "sku": quantity.sku,
                  "node": quantity.node, "quantity": quantity.quantity, "promised_date": quantity.promised_date}
                 for allocation in allocations for quantity in allocation.quantities]
        if lines:
            await self.session.execute(insert(_line_allocations), lines)
        upsert = self.dialect.insert(_allocation_revisions)
        upsert = upsert.on_conflict_do_update(index_elements=["order_id"], set_={
            "revision": upsert.excluded.revision, "updated_at": upsert.excluded.updated_at})
        await self.session.execute(upsert, [{"order_id": allocation.order_id, "revision": allocation.revision,
                                             "updated_at": at} for allocation in allocations])

    async def allocation_of(self, order_id: str) -> tuple[int | None, list[dict[str, Any]]]:
        """The order's allocation revision (None: nothing reported yet) and its quantities per line and node."""
        revision = (await self.session.execute(select(_allocation_revisions.c.revision).where(
            _allocation_revisions.c.order_id == order_id))).scalar()
        lines = await self.session.execute(
            select(_line_allocations.c.line_id, _line_allocations.c.sku, _line_allocations.c.node,
                   _line_allocations.c.quantity, _line_allocations.c.promised_date)
            .where(_line_allocations.c.order_id == order_id).order_by(_line_allocations.c.id))
        return revision, [dict(row) for row in lines.mappings()]

    async def set_promised_dates(self, promises: list[tuple[str, str, date | None]]) -> None:
        """(order id, line id, date): the date the line's backordered units are promised for now."""
        if promises:
            await self.session.execute(
                update(_line_allocations).where(
                    _line_allocations.c.order_id == bindparam("promise_order_id"),
                    _line_allocations.c.line_id == bindparam("promise_line_id"), _line_allocations.c.node.is_(None))
                .values(promised_date=bindparam("promise_date")),
                [{"promise_order_id": order_id, "promise_line_id": line_id, "promise_date": promised}
                 for order_id, line_id, promised in promises])

    async def add_return_steps(self, steps: list[ReturnStep]) -> None:
        if steps:
            await self.session.execute(insert(_return_steps), [_return_step_row(step) for step in steps])

    async def return_steps_of(self, order_id: str) -> list[ReturnStep]:
        """The order's return steps, of all its RMAs, in the order recorded."""
        statement = select(_return_steps).where(_return_steps.c.order_id == order_id).order_by(_return_steps.c.id)
        return [_return_step(row) for row in (await self.session.execute(statement)).mappings()]

    async def graded_variants(self, skus: set[str]) -> dict[str, GradedVariant]:
        """The graded variants among these SKUs, by SKU: one statement for a whole intake batch."""
        if not skus:
            return {}
        rows = await self.session.execute(select(_graded_variants).where(self._among(_graded_variants.c.variant_sku,
                                                                                     skus)))
        return {row["variant_sku"]: GradedVariant(row["variant_sku"], frozenset(json.loads(row["channels"])),
                                                  row["defined_at"]) for row in rows.mappings()}

    async def save_graded_variants(self, variants: list[GradedVariant]) -> None:
        """Each variant (one per SKU) inserted or replaced, unless a later definition is stored already."""
        if not variants:
            return
        statement = self.dialect.insert(_graded_variants).values(
            [{"variant_sku": variant.sku, "channels": json.dumps(sorted(variant.channels)),
              "defined_at": variant.defined_at} for variant in sorted(variants, key=lambda v: v.sku)])
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["variant_sku"],
            set_={"channels": statement.excluded.channels, "defined_at": statement.excluded.defined_at},
            where=_graded_variants.c.defined_at <= statement.excluded.defined_at))

    async def catalog_entries(self, skus: set[str]) -> dict[str, CatalogSku]:
        """The catalog's entries of these SKUs and of the components of the bundles among them, by SKU: one
        statement for a whole intake batch (a plain SKU's row joins no component)."""
        if not skus:
            return {}
        part = _components.alias("part")
        component = _catalog.alias("component")
        statement = (
            select(*(_catalog.c[name] for name in _CATALOG_COLUMNS), part.c.component_sku.label("part_sku"),
                   part.c.quantity.label("part_quantity"),
                   *(component.c[name].label(f"component_{name}") for name in _CATALOG_COLUMNS))
            .select_from(_catalog.outerjoin(part, part.c.bundle_sku == _catalog.c.sku)
                         .outerjoin(component, component.c.sku == part.c.component_sku))
            .where(self._among(_catalog.c.sku, skus)).order_by(_catalog.c.sku, part.c.position))
        entries: dict[str, CatalogSku] = {}
        components: dict[str, list[Component]] = {}
        for row in (await self.session.execute(statement)).mappings():
            entries.setdefault(row["sku"], _catalog_sku(row, ""))
            if row["part_sku"] is not None:
                components.setdefault(row["sku"], []).append(Component(row["part_sku"], row["part_quantity"]))
                if row["component_sku"] is not None:  # a component the catalog has told of
                    entries.setdefault(row["component_sku"], _catalog_sku(row, "component_"))
        for sku, parts in components.items():
            entries[sku] = CatalogSku(**{**vars(entries[sku]), "components": tuple(parts)})
        return entries

    async def save_catalog_entries(self, entries: list[CatalogSku], at: datetime) -> list[str]:
        """Each entry (one per SKU) inserted or replaced with its components, unless the revision stored is as new;
        the SKUs that changed."""
        if not entries:
            return []
        statement = self.dialect.insert(_catalog).values(
            [{**{name: getattr(entry, name) for name in _CATALOG_COLUMNS}, "changed_at": at}
             for entry in sorted(entries, key=lambda e: e.sku)])
        statement = statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in (*_CATALOG_COLUMNS[1:],
                                                                                     "changed_at")},
            where=_catalog.c.revision < statement.excluded.revision).returning(_catalog.c.sku)
        changed = sorted((await self.session.execute(statement)).scalars())
        if changed:
            await self.session.execute(delete(_components).where(_components.c.bundle_sku.in_(changed)))
            parts = [{"bundle_sku": entry.sku, "position": position, "component_sku": part.sku,
                      "quantity": part.quantity}
                     for entry in entries if entry.sku in changed
                     for position, part in enumerate(entry.components)]
            if parts:
                await self.session.execute(insert(_components), parts)
        return changed

    async def unknown_sku_actions(self, channels: Iterable[str]) -> dict[str, UnknownSkuAction]:
        """The channels' own unknown-SKU rules (a channel without one is absent)."""
        channels = sorted(channels)
        if not channels:
            return {}
        rows = await self.session.execute(select(_unknown_sku_rules.c.channel, _unknown_sku_rules.c.action)
                                          .where(_unknown_sku_rules.c.channel.in_(channels)))
        return {channel: UnknownSkuAction(action) for channel, action in rows}

    async def unknown_sku_rule(self, channel: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(_unknown_sku_rules).where(
            _unknown_sku_rules.c.channel == channel))).mappings().first()
        return dict(row) if row else None

    async def set_unknown_sku_rule(self, channel: str, action: UnknownSkuAction, actor: str, at: datetime) -> None:
        statement = self.dialect.insert(_unknown_sku_rules).values(channel=channel, action=action.value,
                                                                   updated_by=actor, updated_at=at)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["channel"], set_={
            "action": statement.excluded.action, "updated_by": statement.excluded.updated_by,
            "updated_at": statement.excluded.updated_at}))

    async def add_awaited_skus(self, awaited: dict[str, frozenset[str]]) -> None:
        rows = [{"order_id": order_id, "sku": sku} for order_id, skus in awaited.items() for sku in sorted(skus)]
        if rows:
            await self.session.execute(insert(_awaited), rows)

    async def orders_awaiting(self, skus: list[str]) -> dict[str, set[str]]:
        """The orders on inventory hold that await any of these SKUs, with every SKU each awaits."""
        if not skus:
            return {}
        waiting = (select(_awaited.c.order_id)
                   .join(_holds, and_(_holds.c.order_id == _awaited.c.order_id,
                                      _holds.c.reason == HoldReason.inventory_hold.value))
                   .where(self._among(_awaited.c.sku, set(skus))))
        statement = select(_awaited.c.order_id, _awaited.c.sku).where(_awaited.c.order_id.in_(waiting))
        awaited: dict[str, set[str]] = {}
        for order_id, sku in await self.session.execute(statement):
            awaited.setdefault(order_id, set()).add(sku)
        return awaited

    def _among(self, column, values: set[str]):
        """`column` is one of `values`: on PostgreSQL one array parameter, as a batch's values may outnumber a
        statement's parameters."""
        if self.dialect is postgresql:
            return column == any_(bindparam(None, sorted(values), type_=postgresql.ARRAY(String)))
        return column.in_(sorted(values))


def _catalog_sku(row, prefix: str) -> CatalogSku:
    return CatalogSku(**{name: row[prefix + name] for name in _CATALOG_COLUMNS})


def _return_step_row(step: ReturnStep) -> dict[str, Any]:
    authorization = step.authorization
    return {"rma_id": step.rma_id, "order_id": step.order_id, "status": step.status.value, "actor": step.actor,
            "note": step.note, "at": step.at,
            "resolution": authorization.resolution.value if authorization else None,
            "lines": json.dumps([asdict(line) for line in authorization.lines]) if authorization else None}


def _return_step(row) -> ReturnStep:
    authorization = None
    if row["resolution"] is not None:
        authorization = Authorization(ReturnResolution(row["resolution"]),
                                      tuple(ReturnedLine(**line) for line in json.loads(row["lines"])))
    return ReturnStep(row["rma_id"], row["order_id"], ReturnStatus(row["status"]), row["actor"], row["note"],
                      row["at"], authorization)
