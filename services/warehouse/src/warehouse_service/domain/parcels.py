"""Parcels: the units of an order allocated to a node leave it as one parcel, `<order_id>@<node>`, under the
carrier label the shipping service bought for it once it was packed. Plain Python: no framework, no I/O."""

from dataclasses import dataclass, replace
from decimal import Decimal

from warehouse_service.domain.scans import ScanCommand
from warehouse_service.domain.tasks import PickTask, TaskStatus


def parcel_id(order_id: str, node: str) -> str:
    return f"{order_id}@{node}"


def packed_lines(tasks: list[PickTask]) -> dict[str, int] | None:
    """Units per SKU of the parcel once every unit allocated to the order at the node (the tasks of one order
    and node) is packed; None while any is not."""
    live = [task for task in tasks if task.status is not TaskStatus.cancelled and task.quantity]
    if not live or any(task.packed < task.quantity for task in live):
        return None
    lines: dict[str, int] = {}
    for task in live:
        lines[task.sku] = lines.get(task.sku, 0) + task.packed
    return lines


@dataclass(frozen=True)
class Label:
    parcel_id: str
    carrier: str
    tracking_number: str
    cost: Decimal
    currency: str
    cost_charged: bool = False  # a shipment of the parcel carried the cost already


def labelled(scan: ScanCommand, label: Label | None) -> ScanCommand:
    """A ship scan takes from its parcel's label what it does not say: the tracking number and the carrier, and
    the cost unless a shipment of the parcel carried it already (a parcel shipped by several scans, one per order
    line, is charged once). A scan naming another tracking number shipped under another label: it takes nothing."""
    if label is None or (scan.tracking_number and scan.tracking_number != label.tracking_number):
        return scan
    charge = scan.shipping_cost is None and not label.cost_charged
    return replace(scan, tracking_number=label.tracking_number, carrier=scan.carrier or label.carrier,
                   shipping_cost=label.cost if charge else scan.shipping_cost,
                   currency=label.currency if charge else scan.currency)
