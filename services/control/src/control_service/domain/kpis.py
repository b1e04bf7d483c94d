"""The KPIs the control tower reports: each with its written definition, what it can be broken down and filtered by,
and whether it is a figure per period (day or hour) or a position now. The read model computes them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

PERIOD_FILTERS = ("channel", "node", "sku", "category", "carrier", "service")


@dataclass(frozen=True)
class Kpi:
    name: str
    title: str
    definition: str
    unit: str
    filters: tuple[str, ...] = ()
    per_period: bool = True  # False: a position now (stock, liability, backlog), not a figure per day or hour
    group_by: tuple[str, ...] = ()  # dimensions the rows can be broken down by (the `by` parameter)


KPIS = {kpi.name: kpi for kpi in (
    Kpi("order_release_cycle_time", "Order release cycle time",
        "Minutes from an order's placement to its release to the warehouse (pick tasks exist), p50 and p90 over the "
        "orders released in the period, per channel and per hold the order was placed with (none: no hold).",
        "minutes", ("channel",)),
    Kpi("fill_rate", "Fill rate at first allocation",
        "Units allocated by an order's first allocation ÷ units ordered, over the orders placed in the period.",
        "ratio", ("channel", "node")),
    Kpi("backorder_rate", "Backorder rate",
        "Share of the orders placed in the period whose first allocation backordered at least one unit.",
        "ratio", ("channel",)),
    Kpi("cancellation_rate", "Cancellation rate", "Share of the orders placed in the period that were cancelled.",
        "ratio", ("channel",)),
    Kpi("split_shipment_rate", "Split-shipment rate",
        "Share of the orders shipped in the period that left in more than one shipment.", "ratio",
        ("channel", "node")),
    Kpi("fulfilment_throughput", "Pick / pack / ship throughput",
        "Units picked, packed and shipped in the period at each warehouse (the order's shipping node).", "units",
        ("node",)),
    Kpi("order_cycle_time", "Order cycle time to ship",
        "Hours from placement to the order being fully shipped, p50 and p90 over the orders shipped in the period.",
        "hours", ("channel", "node")),
    Kpi("inventory_accuracy", "Inventory accuracy",
        "Share of the counts in the period that found exactly what the books held, and the absolute unit variance "
        "(the units found and expected differ by, summed).", "ratio", ("node", "sku")),
    Kpi("stock_by_status", "Stock by status",
        "Units at each node per stock status (sellable, return_pending_inspection, quarantine, refurbish, "
        "vendor_return, …) now, valued at the SKU's latest selling price seen on an order.", "units",
        ("node", "sku", "category"), per_period=False),
    Kpi("return_rate", "Return rate",
        "Units authorized for return in the period ÷ units shipped in the period, by SKU, category, channel or "
        "reason (by reason: the reason's returned units ÷ all shipped units).", "ratio",
        ("channel", "sku", "category"), group_by=("sku", "category", "channel", "reason")),
    Kpi("refund_cycle_time", "Refund cycle time",
        "Hours from a return's authorization (the request accepted) to its refund being paid, p50 and p90 over the "
        "refunds paid in the period.", "hours", ("channel",)),
    Kpi("pending_return_liability", "Pending return liability",
        "Now: the selling value of units authorized for return whose refund is not paid yet (RMAs refunding money, "
        "not closed or denied), and the refunds approved but not yet paid.", "money", ("channel",),
        per_period=False),
    Kpi("recovery_rate", "Recovery rate",
        "Of the returned units given a disposition in the period: the share restocked, and the value recovered "
        "(restocked units at their latest selling price).", "ratio", ("node", "sku", "category")),
    Kpi("warehouse_exception_rate", "Warehouse exception rate",
        "Warehouse exceptions raised (scan exceptions, count variances and short picks awaiting a decision) per 100 "
        "orders released to the warehouse in the period.", "per 100 orders", ("node",)),
    Kpi("backlog_ageing", "Backlog ageing",
        "Now, per inbox queue: open items, the median and oldest age, and how many are past their SLA.", "items",
        (), per_period=False),
    Kpi("carrier_performance", "Carrier performance",
        "Orders delivered in the period per carrier: on time (delivered on or before the promised date; orders "
        "without a promise count as on time), late, the on-time share and the median hours from ship to delivery.",
        "ratio", ("carrier", "channel")),
    Kpi("delivery_performance", "Promised versus actual delivery",
        "Outbound parcels delivered in the period (the carrier's delivered event, its UTC date) per carrier and "
        "service: on time against the date promised to the customer (delivered on or before it; over the parcels "
        "with a promise), its share (value) and the average days late of the late ones; the same against the "
        "service's estimated delivery date.", "ratio", ("carrier", "service", "channel")),
    Kpi("margin_impact_of_returns", "Margin impact of returns",
        "Refunds paid in the period minus the value recovered by restocking returned units in the period (at their "
        "latest selling price): what returns cost the margin.", "money", ("channel",)),
)}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    grain: str  # day or hour

    @classmethod
    def last(cls, days: int, now: datetime, grain: str = "day") -> "Window":
        return cls(now - timedelta(days=days), now, grain)
