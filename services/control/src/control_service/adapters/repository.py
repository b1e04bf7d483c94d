"""Writing the read model: events once, fact rows by their tables' rules (domain/facts.py) as PostgreSQL upserts,
inbox items opened and closed by time, so the order the topics are read in never changes the outcome."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from control_service.adapters.orm import TABLES as ORM_TABLES
from control_service.domain.facts import TABLES, Rule, Table, merge
from control_service.domain.inbox import CloseItem, OpenItem
from control_service.domain.projection import Progress
from ecomops_common.db import SqlRepository

_tables = {table.name: table for table in ORM_TABLES}
_events = _tables["events"]
_items = _tables["inbox_items"]
_orders = _tables["order_facts"]


def _stored(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default)


def _when(change: OpenItem | CloseItem) -> datetime:
    return change.since if isinstance(change, OpenItem) else change.at


@dataclass(frozen=True)
class StockView:
    warehouse_sellable: int | None
    allocation_on_hand: int | None
    as_of: datetime | None


class ProjectionRepository(SqlRepository):
    async def add_events(self, rows: list[dict[str, Any]]) -> set[str]:
        """The ids of the events not seen before (stored now): the events table is also the inbox."""
        if not rows:
            return set()
        # executemany: one statement of thousands of bound values costs more to compile than to run
        result = await self.session.execute(
            insert(_events).on_conflict_do_nothing().returning(_events.c.event_id), rows)
        return set(result.scalars())

    async def progress_of(self, order_ids: Iterable[str]) -> dict[str, Progress]:
        rows = await self.session.execute(select(_orders.c.order_id, _orders.c.picked, _orders.c.packed,
                                                 _orders.c.shipped).where(_orders.c.order_id.in_(set(order_ids))))
        return {row.order_id: Progress(row.picked, row.packed, row.shipped) for row in rows}

    async def promised_dates(self, order_ids: Iterable[str]) -> dict[str, date]:
        rows = await self.session.execute(select(_orders.c.order_id, _orders.c.promised_date).where(
            _orders.c.order_id.in_(set(order_ids)), _orders.c.promised_date.is_not(None)))
        return {row.order_id: row.promised_date for row in rows}

    async def upsert(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """Rows of the batch per table: the ones of one key combined first, then one statement per column set."""
        combined: dict[str, dict[tuple, dict[str, Any]]] = {}
        for name, values in rows:
            table = TABLES[name]
            key = tuple(values[column] for column in table.key)
            held = combined.setdefault(name, {})
            held[key] = merge(table, held[key], values) if key in held else dict(values)
        for name, by_key in combined.items():
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for values in by_key.values():
                by_columns.setdefault(tuple(sorted(values)), []).append(
                    {column: _stored(value) for column, value in values.items()})
            for columns, batch in by_columns.items():
                await self.session.execute(self._upsert(TABLES[name], columns), batch)

    @staticmethod
    def _upsert(table: Table, columns: tuple[str, ...]):
        target = _tables[table.name]
        statement = insert(target)
        if not table.columns:  # rows stated once
            return statement.on_conflict_do_nothing(index_elements=list(table.key))
        new = statement.excluded
        sets = {}
        for name in columns:
            if name in table.key:
                continue
            rule = table.columns[name]
            held = target.c[name]
            if rule.rule is Rule.FIRST:
                sets[name] = func.coalesce(held, new[name])
            elif rule.rule is Rule.EARLIEST:
                sets[name] = func.least(held, new[name])  # LEAST and GREATEST skip NULLs
            elif rule.rule is Rule.MAX:
                sets[name] = func.greatest(held, new[name])
            elif rule.rule is Rule.ADD:
                sets[name] = func.coalesce(held, 0) + func.coalesce(new[name], 0)
            else:
                order = rule.ordered_by
                sets[name] = case((or_(target.c[order].is_(None), new[order] >= target.c[order]), new[name]),
                                  else_=held)
        return statement.on_conflict_do_update(index_elements=list(table.key), set_=sets)

    async def apply_items(self, opened: list[OpenItem], closed: list[CloseItem]) -> None:
        """Per item, the newest of the batch's openings and closings decides (each topic's facts come in order);
        an opening that keeps its beginning carries the one of the batch's opening before it."""
        latest: dict[str, OpenItem | CloseItem] = {}
        for change in sorted([*opened, *closed], key=_when):
            held = latest.get(change.item_id)
            held_when = None if held is None else _when(held)
            if held_when is None or _when(change) > held_when or (_when(change) == held_when
                                                                   and isinstance(change, CloseItem)):
                if isinstance(change, OpenItem) and change.keeps_since and isinstance(held, OpenItem):
                    change = replace(change, since=held.since, visible_from=held.visible_from)
                latest[change.item_id] = change
        items = [c for c in latest.values() if isinstance(c, OpenItem)]
        await self.open_items([i for i in items if not i.keeps_since])
        await self.open_items([i for i in items if i.keeps_since], keep_since=True)
        await self.close_items([c for c in latest.values() if isinstance(c, CloseItem)])

    async def open_items(self, items: list[OpenItem], keep_since: bool = False) -> None:
        if not items:
            return
        statement = insert(_items)
        new = statement.excluded
        reopened = _items.c.status == "closed"
        since, visible_from = new.since, new.visible_from
        if keep_since:  # still open: the wait began when it was first opened
            since = case((reopened, new.since), else_=func.least(_items.c.since, new.since))
            visible_from = case((reopened, new.visible_from), else_=func.least(_items.c.visible_from,
                                                                                new.visible_from))
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["item_id"],
            set_={"status": "open", "since": since, "visible_from": visible_from, "summary": new.summary,
                  "reference": new.reference, "closed_at": None, "closed_by": None,
                  # a new wait escalates anew; the open one's escalation stays
                  "escalated_at": case((reopened, None), else_=_items.c.escalated_at),
                  **{column: func.coalesce(new[column], _items.c[column])
                     for column in ("order_id", "rma_id", "node", "channel", "sku")}},
            # a newer beginning replaces an older one; a closing after this beginning stands
            where=and_(_items.c.since <= new.since,
                       or_(_items.c.closed_at.is_(None), _items.c.closed_at < new.since))),
            [{"item_id": i.item_id, "kind": i.kind, "status": "open", "since": i.since,
              "visible_from": i.visible_from, "summary": i.summary, "reference": to_json(i.reference),
              "order_id": i.order_id, "rma_id": i.rma_id, "node": i.node, "channel": i.channel, "sku": i.sku}
             for i in items])

    async def close_items(self, items: list[CloseItem]) -> None:
        in_place = [i for i in items if not i.may_precede_open]
        if in_place:
            await self.session.execute(
                update(_items).where(_items.c.item_id == bindparam("b_item"), _items.c.status == "open",
                                     _items.c.since <= bindparam("b_at"))
                .values(status="closed", closed_at=bindparam("b_at"), closed_by=bindparam("b_by")),
                [{"b_item": i.item_id, "b_at": i.at, "b_by": i.by} for i in in_place])
        early = [i for i in items if i.may_precede_open]
        if early:
            # One upsert, not an update then an insert: an opening committed by another topic's consumer while
            # this transaction runs is waited for and closed, where an insert would only find it and do nothing.
            statement = insert(_items)
            closing = statement.excluded
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["item_id"],
                set_={"status": "closed", "closed_at": closing.closed_at, "closed_by": closing.closed_by},
                where=and_(_items.c.status == "open", _items.c.since <= closing.closed_at)), [
                {"item_id": i.item_id, "kind": i.kind, "status": "closed", "since": i.at, "visible_from": i.at,
                 "closed_at": i.at, "closed_by": i.by, "summary": "", "reference": "{}"} for i in early])

    async def stock_views(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockView]:
        """Per SKU×node: the warehouse's sellable units and allocation's on-hand as last heard, and when the
        later of the two was stated."""
        keys = set(keys)
        if not keys:
            return {}
        found = {key: StockView(None, None, None) for key in keys}
        skus = {sku for sku, _ in keys}
        for table, column in ((_tables["node_stock_levels"], "sellable_on_hand"), (_tables["availability"], "on_hand")):
            for row in await self.session.execute(select(table.c.sku, table.c.node, table.c[column], table.c.as_of)
                                                  .where(table.c.sku.in_(skus))):
                if (row.sku, row.node) not in found:  # another node of a SKU in the batch
                    continue
                view = found[(row.sku, row.node)]
                found[(row.sku, row.node)] = StockView(
                    row[2] if column == "sellable_on_hand" else view.warehouse_sellable,
                    row[2] if column == "on_hand" else view.allocation_on_hand,
                    max(filter(None, (view.as_of, row.as_of))))
        return found
