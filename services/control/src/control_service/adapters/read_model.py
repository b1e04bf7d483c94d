"""Reading the read model: KPIs (domain/kpis.py defines them; PostgreSQL computes them here), the exception inbox,
order search and timelines, inventory positions and the returns pipeline. Every list is paged on the server."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from control_service.domain.inbox import KINDS
from control_service.domain.kpis import Window
from ecomops_common.db import SqlRepository

# Per KPI: its query, with {where} for the filters and :start, :end, :grain bound; and the SQL each filter tests.
_KPI_SQL: dict[str, tuple[str, dict[str, str]]] = {
    "order_release_cycle_time": ("""
        SELECT date_trunc(:grain, released_at) AS period, channel, coalesce(holds, 'none') AS hold,
               count(*) AS orders,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM released_at - placed_at))::numeric
                     / 60, 1) AS p50,
               round(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM released_at - placed_at))::numeric
                     / 60, 1) AS p90
        FROM order_facts WHERE released_at >= :start AND released_at < :end AND placed_at IS NOT NULL {where}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", {"channel": "channel"}),
    "fill_rate": ("""
        SELECT date_trunc(:grain, placed_at) AS period, channel, count(*) AS orders, sum(units) AS units_ordered,
               sum(first_allocated_units) AS units_allocated,
               round(sum(first_allocated_units)::numeric / nullif(sum(units), 0), 4) AS value
        FROM order_facts WHERE placed_at >= :start AND placed_at < :end AND first_allocated_units IS NOT NULL {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"channel": "channel", "node": "node"}),
    "backorder_rate": ("""
        SELECT date_trunc(:grain, placed_at) AS period, channel, count(*) AS orders,
               count(*) FILTER (WHERE first_backordered_units > 0) AS backordered,
               round((count(*) FILTER (WHERE first_backordered_units > 0))::numeric / count(*), 4) AS value
        FROM order_facts WHERE placed_at >= :start AND placed_at < :end AND first_allocated_units IS NOT NULL {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"channel": "channel"}),
    "cancellation_rate": ("""
        SELECT date_trunc(:grain, placed_at) AS period, channel, count(*) AS orders,
               count(cancelled_at) AS cancelled, round(count(cancelled_at)::numeric / count(*), 4) AS value
        FROM order_facts WHERE placed_at >= :start AND placed_at < :end {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"channel": "channel"}),
    "split_shipment_rate": ("""
        SELECT date_trunc(:grain, shipped_at) AS period, channel, count(*) AS orders_shipped,
               count(*) FILTER (WHERE shipments > 1) AS split,
               round((count(*) FILTER (WHERE shipments > 1))::numeric / count(*), 4) AS value
        FROM order_facts WHERE shipped_at >= :start AND shipped_at < :end {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"channel": "channel", "node": "node"}),
    "fulfilment_throughput": ("""
        SELECT date_trunc(:grain, w.at) AS period, coalesce(o.node, 'unknown') AS node, sum(w.picked) AS picked,
               sum(w.packed) AS packed, sum(w.shipped) AS shipped
        FROM fulfilment_work w LEFT JOIN order_facts o ON o.order_id = w.order_id
        WHERE w.at >= :start AND w.at < :end {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"node": "o.node"}),
    "order_cycle_time": ("""
        SELECT date_trunc(:grain, shipped_at) AS period, channel, count(*) AS orders,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM shipped_at - placed_at))::numeric
                     / 3600, 2) AS p50,
               round(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM shipped_at - placed_at))::numeric
                     / 3600, 2) AS p90
        FROM order_facts WHERE shipped_at >= :start AND shipped_at < :end AND placed_at IS NOT NULL {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"channel": "channel", "node": "node"}),
    "inventory_accuracy": ("""
        SELECT date_trunc(:grain, counted_at) AS period, node, count(*) AS counts,
               count(*) FILTER (WHERE counted = expected) AS exact,
               round((count(*) FILTER (WHERE counted = expected))::numeric / count(*), 4) AS value,
               sum(abs(counted - expected)) AS absolute_unit_variance
        FROM counts WHERE counted_at >= :start AND counted_at < :end {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"node": "node", "sku": "sku"}),
    "stock_by_status": ("""
        SELECT s.node, st.key AS status, sum(st.value::int) AS units,
               round(sum(st.value::int * coalesce(p.unit_price, 0)), 2) AS value, min(p.currency) AS currency
        FROM node_stock_levels s CROSS JOIN LATERAL jsonb_each_text(s.by_status::jsonb) st
        LEFT JOIN sku_prices p ON p.sku = s.sku
        WHERE true {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"node": "s.node", "sku": "s.sku", "category": "p.category"}),
    "refund_cycle_time": ("""
        SELECT date_trunc(:grain, refunded_at) AS period, channel, count(*) AS refunds,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM refunded_at - authorized_at))
                     ::numeric / 3600, 2) AS p50,
               round(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM refunded_at - authorized_at))
                     ::numeric / 3600, 2) AS p90
        FROM return_facts WHERE refunded_at >= :start AND refunded_at < :end AND authorized_at IS NOT NULL {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"channel": "channel"}),
    "pending_return_liability": ("""
        WITH open_returns AS (
                SELECT r.rma_id, r.order_id, r.channel, r.refund_amount, r.refund_approved_at
                FROM return_facts r
                WHERE r.refunded_at IS NULL AND coalesce(r.resolution, 'refund') = 'refund'
                  AND coalesce(r.status, '') NOT IN ('refund_denied', 'closed', 'refunded', 'exchange_ordered')
                  {where}),
             valued AS (SELECT o.rma_id, sum(l.quantity * coalesce(ol.unit_price, 0)) AS authorized_value
                        FROM open_returns o JOIN return_lines l ON l.rma_id = o.rma_id
                        LEFT JOIN order_lines ol ON ol.order_id = o.order_id AND ol.line_id = l.line_id
                        GROUP BY 1)
        SELECT o.channel, count(*) AS returns, round(coalesce(sum(v.authorized_value), 0), 2) AS value,
               round(coalesce(sum(o.refund_amount) FILTER (WHERE o.refund_approved_at IS NOT NULL), 0), 2)
                 AS approved_unpaid
        FROM open_returns o LEFT JOIN valued v ON v.rma_id = o.rma_id
        GROUP BY 1 ORDER BY 1""", {"channel": "r.channel"}),
    "recovery_rate": ("""
        SELECT date_trunc(:grain, u.at) AS period, u.node, sum(u.quantity) AS units,
               sum(u.quantity) FILTER (WHERE u.outcome = 'restock') AS restocked,
               round((coalesce(sum(u.quantity) FILTER (WHERE u.outcome = 'restock'), 0))::numeric
                     / sum(u.quantity), 4) AS value,
               round(coalesce(sum(u.quantity * p.unit_price) FILTER (WHERE u.outcome = 'restock'), 0), 2)
                 AS value_recovered
        FROM return_units u LEFT JOIN sku_prices p ON p.sku = u.sku
        WHERE u.stage = 'disposed' AND u.at >= :start AND u.at < :end {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"node": "u.node", "sku": "u.sku", "category": "p.category"}),
    "warehouse_exception_rate": ("""
        WITH raised AS (SELECT date_trunc(:grain, raised_at) AS period, node, count(*) AS exceptions
                        FROM warehouse_exceptions WHERE raised_at >= :start AND raised_at < :end {where}
                        GROUP BY 1, 2),
             released AS (SELECT date_trunc(:grain, released_at) AS period, node, count(*) AS orders
                          FROM order_facts WHERE released_at >= :start AND released_at < :end {where}
                          GROUP BY 1, 2)
        SELECT coalesce(r.period, o.period) AS period, coalesce(r.node, o.node) AS node,
               coalesce(r.exceptions, 0) AS exceptions, coalesce(o.orders, 0) AS orders_released,
               round(100.0 * coalesce(r.exceptions, 0) / nullif(o.orders, 0), 2) AS value
        FROM raised r FULL JOIN released o ON o.period = r.period AND o.node = r.node
        ORDER BY 1, 2""", {"node": "node"}),
    "backlog_ageing": ("""
        SELECT kind, count(*) AS open_items,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM :now - since))::numeric / 3600, 2)
                 AS median_age_hours,
               round(max(extract(epoch FROM :now - since))::numeric / 3600, 2) AS oldest_age_hours,
               count(*) FILTER (WHERE visible_from + make_interval(secs => (CAST(:slas AS jsonb) ->> kind)::float)
                                      < :now) AS past_sla
        FROM inbox_items WHERE status = 'open' AND visible_from <= :now {where}
        GROUP BY 1 ORDER BY 1""", {}),
    "carrier_performance": ("""
        SELECT date_trunc(:grain, delivered_at) AS period, coalesce(carrier, 'unknown') AS carrier,
               count(*) AS delivered,
               count(*) FILTER (WHERE promised_date IS NULL OR delivered_at::date <= promised_date) AS on_time,
               count(*) FILTER (WHERE delivered_at::date > promised_date) AS late,
               round((count(*) FILTER (WHERE promised_date IS NULL OR delivered_at::date <= promised_date))::numeric
                     / count(*), 4) AS value,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - shipped_at))
                     ::numeric / 3600, 2) AS median_transit_hours
        FROM order_facts WHERE delivered_at >= :start AND delivered_at < :end {where}
        GROUP BY 1, 2 ORDER BY 1, 2""", {"carrier": "carrier", "channel": "channel"}),
    "delivery_performance": ("""
        WITH d AS (SELECT d.carrier, d.service, d.promised_date, d.estimated_delivery, d.delivered_at,
                          (d.delivered_at AT TIME ZONE 'UTC')::date AS delivered_on
                   FROM control_deliveries d LEFT JOIN order_facts o ON o.order_id = d.order_id
                   WHERE d.delivered_at >= :start AND d.delivered_at < :end {where})
        SELECT date_trunc(:grain, delivered_at) AS period, carrier, service, count(*) AS delivered,
               count(promised_date) AS promised,
               count(*) FILTER (WHERE delivered_on <= promised_date) AS on_time,
               count(*) FILTER (WHERE delivered_on > promised_date) AS late,
               round((count(*) FILTER (WHERE delivered_on <= promised_date))::numeric
                     / nullif(count(promised_date), 0), 4) AS value,
               round(avg(delivered_on - promised_date) FILTER (WHERE delivered_on > promised_date), 2)
                 AS avg_days_late,
               count(estimated_delivery) AS estimated,
               count(*) FILTER (WHERE delivered_on <= estimated_delivery) AS on_time_vs_estimate,
               round((count(*) FILTER (WHERE delivered_on <= estimated_delivery))::numeric
                     / nullif(count(estimated_delivery), 0), 4) AS on_time_share_vs_estimate,
               round(avg(delivered_on - estimated_delivery) FILTER (WHERE delivered_on > estimated_delivery), 2)
                 AS avg_days_late_vs_estimate
        FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", {"carrier": "d.carrier", "service": "d.service",
                                                      "channel": "o.channel"}),
    "margin_impact_of_returns": ("""
        WITH paid AS (SELECT date_trunc(:grain, refunded_at) AS period, channel, sum(refunded_amount) AS refunds_paid
                      FROM return_facts WHERE refunded_at >= :start AND refunded_at < :end {where} GROUP BY 1, 2),
             recovered AS (SELECT date_trunc(:grain, u.at) AS period, r.channel,
                                  sum(u.quantity * coalesce(p.unit_price, 0)) AS value_recovered
                           FROM return_units u JOIN return_facts r ON r.rma_id = u.rma_id
                           LEFT JOIN sku_prices p ON p.sku = u.sku
                           WHERE u.stage = 'disposed' AND u.outcome = 'restock' AND u.at >= :start AND u.at < :end
                           {where_r} GROUP BY 1, 2)
        SELECT coalesce(p.period, r.period) AS period, coalesce(p.channel, r.channel) AS channel,
               round(coalesce(p.refunds_paid, 0), 2) AS refunds_paid,
               round(coalesce(r.value_recovered, 0), 2) AS value_recovered,
               round(coalesce(p.refunds_paid, 0) - coalesce(r.value_recovered, 0), 2) AS value
        FROM paid p FULL JOIN recovered r ON r.period = p.period AND r.channel IS NOT DISTINCT FROM p.channel
        ORDER BY 1, 2""", {"channel": "channel"}),
}
# Return rate: returned units by the chosen dimension over shipped units by the same one (reason: over all).
_RETURN_RATE_DIMENSIONS = {"sku": ("l.sku", "s.sku"), "category": ("p.category", "p.category"),
                           "channel": ("r.channel", "o.channel"), "reason": ("r.reason", None)}
_RETURN_RATE_FILTERS = {"sku": ("l.sku", "s.sku"), "category": ("p.category", "p.category"),
                        "channel": ("r.channel", "o.channel")}


def _slas_json(escalating: Mapping[str, timedelta] | None) -> str:
    """Every queue's SLA in seconds: the escalating queues' as configured, the others' their kinds'."""
    return json.dumps({name: (escalating or {}).get(name, kind.sla).total_seconds() for name, kind in KINDS.items()})


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int


def _rows(result) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


def _figures(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KPI rows with their numbers as numbers (PostgreSQL's numeric arrives as Decimal, JSON would quote it)."""
    return [{k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows]


class ReadModel(SqlRepository):
    async def _analytic(self) -> None:
        """Before an aggregate over the read model, in its transaction: planned for this request's own window (after
        five runs PostgreSQL would reuse a generic plan guessing 0.5 % of rows for any range, and scan them all:
        1.1 s instead of 0.25 s at 100,000 orders), and without JIT (compiling cost more than it saved)."""
        await self.session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                                        "set_config('jit', 'off', true)"))

    async def kpi(self, name: str, window: Window, filters: dict[str, str], now: datetime,
                  by: str | None = None, slas: Mapping[str, timedelta] | None = None) -> list[dict[str, Any]]:
        """`slas`: the escalating queues' configured ages, which backlog_ageing's past_sla counts against."""
        await self._analytic()
        params: dict[str, Any] = {"start": window.start, "end": window.end, "grain": window.grain, "now": now,
                                  "slas": _slas_json(slas)}
        if name == "return_rate":
            return await self._return_rate(params, filters, by or "sku")
        sql, columns = _KPI_SQL[name]
        where, where_r = [], []
        for field, value in filters.items():
            params[f"f_{field}"] = value
            where.append(f"AND {columns[field]} = :f_{field}")
            where_r.append(f"AND r.{field} = :f_{field}")
        return _figures(_rows(await self.session.execute(text(sql.format(where=" ".join(where),
                                                                         where_r=" ".join(where_r))), params)))

    async def _return_rate(self, params: dict[str, Any], filters: dict[str, str], by: str) -> list[dict[str, Any]]:
        returned_column, shipped_column = _RETURN_RATE_DIMENSIONS[by]
        returned_where, shipped_where = [], []
        for field, value in filters.items():
            params[f"f_{field}"] = value
            returned, shipped = _RETURN_RATE_FILTERS[field]
            returned_where.append(f"AND {returned} = :f_{field}")
            shipped_where.append(f"AND {shipped} = :f_{field}")
        shipped_group = shipped_column or "'all'"
        join_on = "s.dimension = r.dimension" if shipped_column else "true"
        sql = f"""
            WITH returned AS (
                SELECT date_trunc(:grain, r.authorized_at) AS period, {returned_column} AS dimension,
                       sum(l.quantity) AS units
                FROM return_facts r JOIN return_lines l ON l.rma_id = r.rma_id
                LEFT JOIN sku_prices p ON p.sku = l.sku
                WHERE r.authorized_at >= :start AND r.authorized_at < :end {' '.join(returned_where)}
                GROUP BY 1, 2),
            shipped AS (
                SELECT date_trunc(:grain, s.shipped_at) AS period, {shipped_group} AS dimension,
                       sum(s.quantity) AS units
                FROM shipment_lines s LEFT JOIN sku_prices p ON p.sku = s.sku
                LEFT JOIN order_facts o ON o.order_id = s.order_id
                WHERE s.shipped_at >= :start AND s.shipped_at < :end {' '.join(shipped_where)}
                GROUP BY 1, 2)
            SELECT coalesce(r.period, s.period) AS period, coalesce(r.dimension, {'s.dimension' if shipped_column
                                                                                 else 'NULL'}) AS {by},
                   coalesce(r.units, 0) AS returned_units, coalesce(s.units, 0) AS shipped_units,
                   round(coalesce(r.units, 0)::numeric / nullif(s.units, 0), 4) AS value
            FROM returned r FULL JOIN shipped s ON s.period = r.period AND {join_on}
            WHERE r.units IS NOT NULL OR {'true' if shipped_column else 'false'}
            ORDER BY 1, 2"""
        return _figures(_rows(await self.session.execute(text(sql), params)))

    # --- the exception inbox ------------------------------------------------------------------------------------

    async def inbox(self, kinds: list[str], now: datetime, *, kind: str | None = None, node: str | None = None,
                    channel: str | None = None, min_age_s: int | None = None, escalated: bool | None = None,
                    slas: Mapping[str, timedelta] | None = None, page: int = 1, page_size: int = 50) -> Page:
        where = ["status = 'open'", "visible_from <= :now", "kind = ANY(:kinds)"]
        params: dict[str, Any] = {"now": now, "kinds": [k for k in kinds if kind in (None, k)]}
        for column, value in (("node", node), ("channel", channel)):
            if value:
                where.append(f"{column} = :{column}")
                params[column] = value
        if min_age_s:
            where.append("since <= :born_before")
            params["born_before"] = now - timedelta(seconds=min_age_s)
        if escalated is not None:
            # domain/inbox.py's escalation: recorded, or older than its queue's age (queues without one: never)
            rule = ("coalesce(escalated_at IS NOT NULL OR since + make_interval(secs => "
                    "(CAST(:escalation_slas AS jsonb) ->> kind)::float) < :now, false)")
            where.append(rule if escalated else f"NOT {rule}")
            params["escalation_slas"] = json.dumps({k: sla.total_seconds() for k, sla in (slas or {}).items()})
        clause = " AND ".join(where)
        total = (await self.session.execute(text(f"SELECT count(*) FROM inbox_items WHERE {clause}"), params)).scalar()
        rows = await self.session.execute(text(
            f"SELECT item_id, kind, since, visible_from, escalated_at, order_id, rma_id, node, channel, sku, summary, "
            f"reference FROM inbox_items WHERE {clause} ORDER BY since, item_id LIMIT :limit OFFSET :offset"),
            {**params, "limit": page_size, "offset": (page - 1) * page_size})
        items = [{**row, "reference": json.loads(row["reference"])} for row in _rows(rows)]
        return Page(items, total, page, page_size)

    async def open_in(self, kinds: Iterable[str]) -> list[dict[str, Any]]:
        """Open items of some queues: what escalation is evaluated on."""
        return _rows(await self.session.execute(text(
            "SELECT item_id, kind, since, escalated_at FROM inbox_items WHERE status = 'open' AND kind = ANY(:kinds) "
            "ORDER BY item_id"), {"kinds": list(kinds)}))

    async def record_escalations(self, escalated_at: Mapping[str, datetime]) -> None:
        """When items escalated, once: an item escalated already, or closed since, keeps what it has."""
        if escalated_at:
            await self.session.execute(text(
                "UPDATE inbox_items SET escalated_at = :at WHERE item_id = :item_id AND status = 'open' "
                "AND escalated_at IS NULL"), [{"item_id": item_id, "at": at} for item_id, at in escalated_at.items()])

    async def inbox_item(self, item_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(text("SELECT * FROM inbox_items WHERE item_id = :item_id"),
                                          {"item_id": item_id})).first()
        if row is None:
            return None
        item = dict(row._mapping)
        item["reference"] = json.loads(item["reference"])
        return item

    async def close_item(self, item_id: str, by: str, at: datetime) -> bool:
        result = await self.session.execute(text(
            "UPDATE inbox_items SET status = 'closed', closed_at = :at, closed_by = :by "
            "WHERE item_id = :item_id AND status = 'open'"), {"item_id": item_id, "by": by, "at": at})
        return result.rowcount == 1

    async def open_counts(self, kinds: list[str], now: datetime) -> dict[str, int]:
        rows = await self.session.execute(text(
            "SELECT kind, count(*) AS n FROM inbox_items WHERE status = 'open' AND visible_from <= :now "
            "AND kind = ANY(:kinds) GROUP BY kind"), {"now": now, "kinds": kinds})
        return {row.kind: row.n for row in rows}

    # --- supplier KPIs --------------------------------------------------------------------------------------------

    async def units_shipped_per_vendor(self) -> dict[str, int]:
        """Every vendor supplying a SKU, with the units shipped of its SKUs."""
        rows = await self.session.execute(text(
            "SELECT v.vendor_id, coalesce(sum(s.units), 0) AS units FROM supplier_skus v "
            "LEFT JOIN (SELECT sku, sum(quantity) AS units FROM shipment_lines GROUP BY sku) s ON s.sku = v.sku "
            "GROUP BY v.vendor_id"))
        return {row.vendor_id: int(row.units) for row in rows}

    async def vendor_claims(self) -> list[dict[str, Any]]:
        return _rows(await self.session.execute(text(
            "SELECT vendor_id, status, currency, defective_units, claimed_amount AS claimed, "
            "accepted_amount AS accepted, credited_amount AS credited FROM supplier_claims ORDER BY claim_id")))

    # --- orders ---------------------------------------------------------------------------------------------------

    async def orders(self, *, query: str | None, channel: str | None, status: str | None, by_customer: bool,
                     page: int, page_size: int) -> Page:
        where, params = ["true"], {}
        if query:
            matches = ["order_id = :q", "external_order_id = :q"] + (["customer_id = :q"] if by_customer else [])
            where.append("(" + " OR ".join(matches) + ")")
            params["q"] = query
        for column, value in (("channel", channel), ("status", status)):
            if value:
                where.append(f"{column} = :{column}")
                params[column] = value
        clause = " AND ".join(where)
        total = (await self.session.execute(text(f"SELECT count(*) FROM order_facts WHERE {clause}"), params)).scalar()
        rows = await self.session.execute(text(
            f"SELECT order_id, channel, external_order_id, customer_id, placed_at, status, status_at, total, currency, "
            f"units, holds, node, carrier FROM order_facts WHERE {clause} "
            f"ORDER BY placed_at DESC NULLS LAST, order_id LIMIT :limit OFFSET :offset"),
            {**params, "limit": page_size, "offset": (page - 1) * page_size})
        return Page(_rows(rows), total, page, page_size)

    async def order(self, order_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(text("SELECT * FROM order_facts WHERE order_id = :id"),
                                          {"id": order_id})).first()
        return dict(row._mapping) if row else None

    async def timeline(self, order_id: str) -> list[dict[str, Any]]:
        return _rows(await self.session.execute(text(
            "SELECT event_id, occurred_at, source, event_type, summary, rma_id FROM events "
            # ANY(ARRAY(...)) lets both indexes serve (IN (subquery) scanned every event)
            "WHERE order_id = :id OR rma_id = ANY(ARRAY(SELECT rma_id FROM return_facts WHERE order_id = :id)) "
            "ORDER BY occurred_at, event_id"), {"id": order_id}))

    async def returns_of(self, order_id: str) -> list[dict[str, Any]]:
        return _rows(await self.session.execute(text(
            "SELECT rma_id, status, status_at, reason, authorized_at, received_at, inspected_at, refunded_at, "
            "refund_amount, refunded_amount, currency FROM return_facts WHERE order_id = :id ORDER BY rma_id"),
            {"id": order_id}))

    # --- inventory and returns ------------------------------------------------------------------------------------

    async def inventory(self, *, sku: str | None, node: str | None, page: int, page_size: int) -> Page:
        where, params = ["true"], {}
        if sku:
            where.append("k.sku LIKE :sku")
            params["sku"] = sku.replace("%", r"\%").replace("_", r"\_") + "%"
        if node:
            where.append("k.node = :node")
            params["node"] = node
        clause = " AND ".join(where)
        keys = ("(SELECT sku, node FROM node_stock_levels UNION SELECT sku, node FROM availability) k")
        total = (await self.session.execute(text(f"SELECT count(*) FROM {keys} WHERE {clause}"), params)).scalar()
        rows = await self.session.execute(text(
            f"SELECT k.sku, k.node, a.atp, a.on_hand AS allocation_on_hand, a.reserved, a.safety_stock, "
            f"s.sellable_on_hand, s.by_status, greatest(a.as_of, s.as_of) AS as_of "
            f"FROM {keys} LEFT JOIN availability a ON a.sku = k.sku AND a.node = k.node "
            f"LEFT JOIN node_stock_levels s ON s.sku = k.sku AND s.node = k.node WHERE {clause} "
            f"ORDER BY k.sku, k.node LIMIT :limit OFFSET :offset"),
            {**params, "limit": page_size, "offset": (page - 1) * page_size})
        items = [{**row, "by_status": json.loads(row["by_status"]) if row["by_status"] else {}}
                 for row in _rows(rows)]
        return Page(items, total, page, page_size)

    async def returns_pipeline(self, now: datetime) -> list[dict[str, Any]]:
        return _rows(await self.session.execute(text("""
            SELECT coalesce(status, 'unknown') AS status, count(*) AS returns,
                   count(*) FILTER (WHERE :now - status_at < interval '1 day') AS under_1_day,
                   count(*) FILTER (WHERE :now - status_at >= interval '1 day'
                                      AND :now - status_at < interval '3 days') AS days_1_to_3,
                   count(*) FILTER (WHERE :now - status_at >= interval '3 days'
                                      AND :now - status_at < interval '7 days') AS days_3_to_7,
                   count(*) FILTER (WHERE :now - status_at >= interval '7 days') AS over_7_days,
                   round(max(extract(epoch FROM :now - status_at))::numeric / 3600, 1) AS oldest_hours
            FROM return_facts GROUP BY 1 ORDER BY 1"""), {"now": now}))

    async def daily_counts(self, days: int, now: datetime) -> list[dict[str, Any]]:
        """Orders placed, shipped and returned per day (UTC): the overview's trend chart. Each table is counted
        per day first, and the days joined last."""
        await self._analytic()
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return _rows(await self.session.execute(text("""
            WITH counted AS (
                SELECT date_trunc('day', placed_at, 'UTC') AS day, count(*) AS placed, 0 AS shipped, 0 AS returns
                FROM order_facts WHERE placed_at >= :first AND placed_at < :end GROUP BY 1
                UNION ALL
                SELECT date_trunc('day', shipped_at, 'UTC'), 0, count(*), 0
                FROM order_facts WHERE shipped_at >= :first AND shipped_at < :end GROUP BY 1
                UNION ALL
                SELECT date_trunc('day', authorized_at, 'UTC'), 0, 0, count(*)
                FROM return_facts WHERE authorized_at >= :first AND authorized_at < :end GROUP BY 1)
            SELECT d.day, coalesce(sum(c.placed), 0)::bigint AS placed, coalesce(sum(c.shipped), 0)::bigint AS shipped,
                   coalesce(sum(c.returns), 0)::bigint AS returns
            FROM generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz), interval '1 day') AS d(day)
            LEFT JOIN counted c ON c.day = d.day GROUP BY 1 ORDER BY 1"""),
            {"first": today - timedelta(days=days - 1), "last": today, "end": today + timedelta(days=1)}))

    # --- what business alerts are evaluated on --------------------------------------------------------------------

    async def stockout_risks(self, window_days: int, cover_days: float, now: datetime) -> list[dict[str, Any]]:
        await self._analytic()
        return _rows(await self.session.execute(text("""
            WITH demand AS (SELECT l.sku, sum(l.quantity)::numeric / CAST(:window AS integer) AS per_day
                            FROM order_lines l JOIN order_facts o ON o.order_id = l.order_id
                            WHERE o.placed_at >= :since GROUP BY 1),
                 atp AS (SELECT sku, sum(atp) AS atp FROM availability GROUP BY 1)
            SELECT d.sku, coalesce(a.atp, 0) AS atp, round(d.per_day, 2) AS per_day,
                   round(coalesce(a.atp, 0) / d.per_day, 2) AS days_of_cover
            FROM demand d LEFT JOIN atp a ON a.sku = d.sku
            WHERE d.per_day > 0 AND coalesce(a.atp, 0) < d.per_day * :cover ORDER BY 4, 1"""),
            {"window": window_days, "cover": cover_days, "since": now - timedelta(days=window_days)}))

    async def carrier_late_shares(self, window_days: int, now: datetime) -> list[dict[str, Any]]:
        await self._analytic()
        return _rows(await self.session.execute(text("""
            SELECT coalesce(carrier, 'unknown') AS carrier, count(*) AS delivered,
                   round((count(*) FILTER (WHERE delivered_at::date > promised_date))::numeric / count(*), 4) AS late
            FROM order_facts WHERE delivered_at >= :since GROUP BY 1"""),
            {"since": now - timedelta(days=window_days)}))

    async def alerts(self) -> list[dict[str, Any]]:
        return _rows(await self.session.execute(text(
            "SELECT alert_id, kind, subject, message, value, threshold, since, updated_at FROM alerts "
            "WHERE active ORDER BY kind, subject")))

    async def replace_alerts(self, alerts: list[dict[str, Any]], now: datetime) -> None:
        """The alerts firing now: new ones start, continuing ones keep their start, the others end."""
        for alert in alerts:
            await self.session.execute(text("""
                INSERT INTO alerts (alert_id, kind, subject, message, value, threshold, active, since, updated_at)
                VALUES (:alert_id, :kind, :subject, :message, :value, :threshold, true, :now, :now)
                ON CONFLICT (alert_id) DO UPDATE SET message = excluded.message, value = excluded.value,
                    threshold = excluded.threshold, updated_at = :now, active = true,
                    since = CASE WHEN alerts.active THEN alerts.since ELSE :now END"""), {**alert, "now": now})
        await self.session.execute(text("UPDATE alerts SET active = false, updated_at = :now "
                                        "WHERE active AND NOT (alert_id = ANY(:firing))"),
                                   {"now": now, "firing": [alert["alert_id"] for alert in alerts]})

    # --- the console: its headline figures, sign-ins under way and sessions -------------------------------------

    async def headline(self, start: datetime, end: datetime) -> dict[str, Any]:
        """The overview's tiles for one window in one round trip, each as its KPI defines it (domain/kpis.py)."""
        await self._analytic()
        row = (await self.session.execute(text("""
            WITH o AS (
                SELECT count(*) FILTER (WHERE is_placed) AS orders_placed,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM released_at - placed_at))
                         FILTER (WHERE released_at >= :start AND released_at < :end) / 60 AS release_p50_minutes,
                       sum(first_allocated_units) FILTER (WHERE is_placed)::numeric
                         / nullif(sum(units) FILTER (WHERE is_placed AND first_allocated_units IS NOT NULL), 0)
                         AS fill_rate,
                       (count(*) FILTER (WHERE is_placed AND first_backordered_units > 0))::numeric
                         / nullif(count(*) FILTER (WHERE is_placed AND first_allocated_units IS NOT NULL), 0)
                         AS backorder_rate,
                       (count(cancelled_at) FILTER (WHERE is_placed))::numeric
                         / nullif(count(*) FILTER (WHERE is_placed), 0) AS cancellation_rate,
                       (count(*) FILTER (WHERE is_shipped AND shipments > 1))::numeric
                         / nullif(count(*) FILTER (WHERE is_shipped), 0) AS split_shipment_rate,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM shipped_at - placed_at))
                         FILTER (WHERE is_shipped) / 3600 AS order_cycle_p50_hours
                FROM (SELECT *, placed_at >= :start AND placed_at < :end AS is_placed,
                             shipped_at >= :start AND shipped_at < :end AS is_shipped
                      FROM order_facts
                      WHERE (placed_at >= :start AND placed_at < :end) OR (shipped_at >= :start AND shipped_at < :end)
                         OR (released_at >= :start AND released_at < :end)) f)
            SELECT o.*,
                   (SELECT sum(l.quantity) FROM return_facts r JOIN return_lines l ON l.rma_id = r.rma_id
                    WHERE r.authorized_at >= :start AND r.authorized_at < :end)::numeric
                     / nullif((SELECT sum(quantity) FROM shipment_lines
                               WHERE shipped_at >= :start AND shipped_at < :end), 0) AS return_rate,
                   (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM refunded_at - authorized_at))
                    FROM return_facts WHERE refunded_at >= :start AND refunded_at < :end
                      AND authorized_at IS NOT NULL) / 3600 AS refund_cycle_p50_hours,
                   (SELECT (count(*) FILTER (WHERE counted = expected))::numeric / nullif(count(*), 0)
                    FROM counts WHERE counted_at >= :start AND counted_at < :end) AS inventory_accuracy,
                   (SELECT (count(*) FILTER (WHERE (delivered_at AT TIME ZONE 'UTC')::date <= promised_date))::numeric
                           / nullif(count(promised_date), 0)
                    FROM control_deliveries WHERE delivered_at >= :start AND delivered_at < :end)
                     AS on_time_delivery
            FROM o"""), {"start": start, "end": end})).one()
        return dict(row._mapping)

    async def returns_by_reason(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The return rate by reason over one window: the reason's returned units ÷ all units shipped in it."""
        await self._analytic()
        return _rows(await self.session.execute(text("""
            WITH shipped AS (SELECT sum(quantity) AS units FROM shipment_lines
                             WHERE shipped_at >= :start AND shipped_at < :end)
            SELECT coalesce(r.reason, 'unknown') AS reason, sum(l.quantity) AS returned_units,
                   (SELECT units FROM shipped) AS shipped_units,
                   round(sum(l.quantity)::numeric / nullif((SELECT units FROM shipped), 0), 4) AS value
            FROM return_facts r JOIN return_lines l ON l.rma_id = r.rma_id
            WHERE r.authorized_at >= :start AND r.authorized_at < :end
            GROUP BY 1 ORDER BY 2 DESC, 1"""), {"start": start, "end": end}))

    async def add_sign_in(self, state: str, code_verifier: str, nonce: str, return_to: str, at: datetime) -> None:
        await self.session.execute(text(
            "INSERT INTO console_sign_ins (state, code_verifier, nonce, return_to, created_at) "
            "VALUES (:state, :code_verifier, :nonce, :return_to, :at)"),
            {"state": state, "code_verifier": code_verifier, "nonce": nonce, "return_to": return_to, "at": at})

    async def take_sign_in(self, state: str, started_after: datetime) -> dict[str, Any] | None:
        """The sign-in of `state`, once (a replayed callback finds nothing); older sign-ins are dropped."""
        await self.session.execute(text("DELETE FROM console_sign_ins WHERE created_at < :after"),
                                   {"after": started_after})
        row = (await self.session.execute(text("DELETE FROM console_sign_ins WHERE state = :state RETURNING *"),
                                          {"state": state})).first()
        return dict(row._mapping) if row else None

    async def add_console_session(self, values: dict[str, Any], now: datetime) -> None:
        """A new session; the expired ones are dropped."""
        await self.session.execute(text("DELETE FROM console_sessions WHERE expires_at < :now"), {"now": now})
        await self.session.execute(text(
            "INSERT INTO console_sessions (session_id, subject, name, roles, access_token, refresh_token, id_token, "
            "csrf_token, access_expires_at, expires_at) VALUES (:session_id, :subject, :name, :roles, "
            ":access_token, :refresh_token, :id_token, :csrf_token, :access_expires_at, :expires_at)"), values)

    async def console_session(self, session_id: str, now: datetime) -> dict[str, Any] | None:
        row = (await self.session.execute(text(
            "SELECT * FROM console_sessions WHERE session_id = :id AND expires_at > :now"),
            {"id": session_id, "now": now})).first()
        return dict(row._mapping) if row else None

    async def update_console_session(self, session_id: str, values: dict[str, Any]) -> None:
        columns = ", ".join(f"{column} = :{column}" for column in values)  # column names are the caller's, not input
        await self.session.execute(text(f"UPDATE console_sessions SET {columns} WHERE session_id = :session_id"),
                                   {**values, "session_id": session_id})

    async def end_console_session(self, session_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(text(
            "DELETE FROM console_sessions WHERE session_id = :id RETURNING *"), {"id": session_id})).first()
        return dict(row._mapping) if row else None
