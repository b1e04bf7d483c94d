"""How the read model's rows combine: each column of each fact table has one rule, so the same set of events gives
the same rows whatever order they arrive in (topics are read independently) and a rebuild gives the same figures.
The adapter turns the rules into SQL upserts; `merge` applies them to rows of one batch first."""

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Rule(Enum):
    FIRST = "first"  # a fact one event type states once (the placement's channel): the value already held stays
    EARLIEST = "earliest"  # when something first happened
    MAX = "max"  # counters that only grow (units picked so far)
    ADD = "add"  # sums over events (each event is applied once: the events table is the inbox)
    LATEST = "latest"  # the value stated by the event with the newest `ordered_by` column


@dataclass(frozen=True)
class Column:
    rule: Rule
    ordered_by: str | None = None  # for LATEST: the column that orders the statements (a time or a revision)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: dict[str, Column]


def _cols(rule: Rule, *names: str, ordered_by: str | None = None) -> dict[str, Column]:
    return {name: Column(rule, ordered_by) for name in names}


ORDER_FACTS = Table("order_facts", ("order_id",), {
    **_cols(Rule.FIRST, "channel", "external_order_id", "customer_id", "placed_at", "currency", "total", "units",
            "holds", "promised_date", "service_level", "first_allocated_units", "first_backordered_units",
            "carrier"),
    **_cols(Rule.EARLIEST, "released_at", "shipped_at", "delivered_at", "cancelled_at", "rejected_at"),
    **_cols(Rule.MAX, "status_at", "allocation_revision", "picked", "packed", "shipped"),
    **_cols(Rule.LATEST, "status", ordered_by="status_at"),
    **_cols(Rule.LATEST, "backordered_units", "node", ordered_by="allocation_revision"),
    **_cols(Rule.ADD, "shipments"),
})
RETURN_FACTS = Table("return_facts", ("rma_id",), {
    **_cols(Rule.FIRST, "order_id", "channel", "node", "reason", "resolution", "authorized_at", "expected_by",
            "currency"),
    **_cols(Rule.EARLIEST, "received_at", "inspected_at", "refund_approved_at", "refunded_at"),
    **_cols(Rule.MAX, "status_at"),
    **_cols(Rule.LATEST, "status", ordered_by="status_at"),
    **_cols(Rule.ADD, "refund_amount", "refunded_amount"),
})
STOCK_LEVELS = Table("node_stock_levels", ("sku", "node"), {
    **_cols(Rule.MAX, "version"),
    **_cols(Rule.LATEST, "sellable_on_hand", "by_status", "as_of", ordered_by="version"),
})
AVAILABILITY = Table("availability", ("sku", "node"), {
    **_cols(Rule.LATEST, "on_hand", "reserved", "safety_stock", "atp", ordered_by="as_of"),
    **_cols(Rule.MAX, "as_of"),
})
SKU_PRICES = Table("sku_prices", ("sku",), {
    **_cols(Rule.LATEST, "category", "unit_price", "currency", ordered_by="as_of"),
    **_cols(Rule.MAX, "as_of"),
})
SKU_VENDORS = Table("supplier_skus", ("sku",), {
    **_cols(Rule.LATEST, "vendor_id", ordered_by="assigned_at"),
    **_cols(Rule.MAX, "assigned_at"),
})
# A claim as its latest snapshot states it (its amounts are replaced, never added: each snapshot is the whole claim).
VENDOR_CLAIMS = Table("supplier_claims", ("claim_id",), {
    **_cols(Rule.LATEST, "vendor_id", "status", "currency", "claimed_amount", "accepted_amount", "credited_amount",
            "defective_units", ordered_by="at"),
    **_cols(Rule.MAX, "at"),
})
WAREHOUSE_EXCEPTIONS = Table("warehouse_exceptions", ("exception_id",), {
    **_cols(Rule.FIRST, "kind", "node"), **_cols(Rule.EARLIEST, "raised_at")})
# Rows written once, by the one event that states them (a shipment's lines, a count): a redelivery changes nothing.
ONCE = {name: Table(name, key, {}) for name, key in (
    ("order_lines", ("order_id", "line_id")), ("shipment_lines", ("event_id", "line_id")),
    ("fulfilment_work", ("event_id",)), ("return_lines", ("rma_id", "line_id")), ("return_units", ("event_id",)),
    ("counts", ("count_id",)), ("dead_letters", ("dlq_topic", "partition", "offset")),
    ("control_deliveries", ("tracking_number",)))}
TABLES = {table.name: table for table in (ORDER_FACTS, RETURN_FACTS, STOCK_LEVELS, AVAILABILITY, SKU_PRICES,
                                          SKU_VENDORS, VENDOR_CLAIMS, WAREHOUSE_EXCEPTIONS, *ONCE.values())}


def _newer(new: Any, old: Any) -> bool:
    return old is None or (new is not None and new >= old)


def merge(table: Table, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two statements of one row, combined by the table's rules (the SQL upsert does the same with the stored row)."""
    merged = dict(old)
    for name, value in new.items():
        if name in table.key:
            continue
        column = table.columns.get(name, Column(Rule.FIRST))
        held = old.get(name)
        if column.rule is Rule.FIRST:
            merged[name] = value if held is None else held
        elif column.rule in (Rule.EARLIEST, Rule.MAX):
            values = [v for v in (held, value) if v is not None]
            merged[name] = (min if column.rule is Rule.EARLIEST else max)(values) if values else None
        elif column.rule is Rule.ADD:
            merged[name] = value if held is None else held + (value or 0)
        elif _newer(new.get(column.ordered_by), old.get(column.ordered_by)):
            merged[name] = value
    return merged
