"""Purchase orders from draft to closed, advance ship notices, and the warehouse's receipts against them. Every
change publishes the order whole (PurchaseOrderChanged, its revision one higher) in the transaction that made it;
a notice also publishes AdvanceShipNoticeIssued, which the warehouse makes an expected receipt of."""

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from ecomops_common.contracts import SUPPLY_EVENTS
from ecomops_common.contracts.supply import (
    AdvanceShipNoticeIssued,
    PurchaseOrderChanged,
    PurchaseOrderLine,
)
from ecomops_common.contracts.supply import AsnLine as AsnLineEvent
from ecomops_common.contracts.warehouse import GoodsReceived
from ecomops_common.envelope import new_event
from ecomops_common.errors import Conflict, FieldProblem, NotFound
from ecomops_common.ids import new_id
from supply_service.domain.purchase_orders import (
    AnnouncedUnits,
    InvalidPurchaseOrder,
    PoLine,
    PurchaseOrder,
    new_purchase_order,
)
from supply_service.service_layer.unit_of_work import SOURCE, SupplyUnitOfWork

log = logging.getLogger(__name__)
DISCONTINUED = "discontinued"


class PurchaseOrderNotFound(NotFound):
    pass


class LineRequest(NamedTuple):
    """A line as a buyer (or a suggestion) asks for it; what is left out comes from the catalog."""

    sku: str
    quantity: int
    unit_cost: Decimal | None = None
    vendor_sku: str | None = None
    expected_date: date | None = None
    line_id: str | None = None


async def create(uow: SupplyUnitOfWork, vendor_id: str, node: str, currency: str, expected_date: date,
                 lines: Sequence[LineRequest], actor: str, *, po_id: str | None = None,
                 note: str | None = None) -> PurchaseOrder:
    """A draft, with the catalog's vendor SKU and unit cost where the request names none. Each line's SKU must be
    in the catalog, stocked (not a bundle) and not discontinued; a unit cost comes from the request, else from the
    catalog in the order's currency (InvalidPurchaseOrder names each line that has none)."""
    at = datetime.now(UTC)
    known = await uow.supply.skus(line.sku for line in lines)
    problems, po_lines = [], []
    for n, line in enumerate(lines):
        sku = known.get(line.sku)
        if sku is None or sku["is_bundle"] or sku["status"] == DISCONTINUED:
            why = "not in the catalog" if sku is None else "a bundle: order its components" if sku["is_bundle"] \
                else "discontinued: not replenished"
            problems.append(FieldProblem(f"lines.{n}.sku", f"{line.sku} is {why}"))
            continue
        unit_cost = line.unit_cost
        if unit_cost is None and sku["currency"] == currency:
            unit_cost = sku["unit_cost"]
        if unit_cost is None:
            problems.append(FieldProblem(f"lines.{n}.unit_cost", f"the catalog has no {currency} cost of "
                                                                 f"{line.sku}: give one"))
            continue
        vendor_sku = line.vendor_sku or (sku["vendor_sku"] if sku["vendor_id"] == vendor_id else None)
        po_lines.append(PoLine(line.line_id or str(n + 1), line.sku, vendor_sku, line.quantity, unit_cost,
                               line.expected_date or expected_date))
    if problems:
        raise InvalidPurchaseOrder(problems)
    order = new_purchase_order(po_id or f"PO-{new_id()}", vendor_id, node, currency, expected_date, po_lines, actor,
                               at, at.date(), note)
    if not await uow.supply.add_purchase_order(order, at):
        raise Conflict(f"purchase order {order.po_id} exists already")
    _publish(uow, order)
    await uow.commit()
    return order


async def approve(uow: SupplyUnitOfWork, po_id: str, actor: str, threshold: Decimal,
                  note: str | None = None) -> PurchaseOrder:
    return await _change(uow, po_id, lambda order, at: order.approve(actor, threshold, at, note))


async def send(uow: SupplyUnitOfWork, po_id: str, actor: str, note: str | None = None) -> PurchaseOrder:
    return await _change(uow, po_id, lambda order, at: order.send(actor, at, note))


async def cancel(uow: SupplyUnitOfWork, po_id: str, actor: str, note: str | None = None) -> PurchaseOrder:
    return await _change(uow, po_id, lambda order, at: order.cancel(actor, at, note))


async def close_short(uow: SupplyUnitOfWork, po_id: str, actor: str, note: str | None = None) -> PurchaseOrder:
    return await _change(uow, po_id, lambda order, at: order.close_short(actor, at, note))


async def issue_asn(uow: SupplyUnitOfWork, po_id: str, asn_id: str, expected_date: date,
                    lines: Sequence[AnnouncedUnits], actor: str) -> PurchaseOrder:
    """The notice's lines expect their units on its date; the warehouse learns of it by AdvanceShipNoticeIssued."""
    at = datetime.now(UTC)
    order = await _locked(uow, po_id)
    if expected_date < at.date():
        raise InvalidPurchaseOrder([FieldProblem("expected_date", f"{expected_date.isoformat()} is in the past")])
    asn = order.issue_asn(asn_id, expected_date, lines, actor, at)
    if not await uow.supply.add_asn(asn_id, po_id, at):
        raise Conflict(f"advance ship notice {asn_id} is issued already")
    costs = {line.line_id: line.unit_cost for line in order.lines}
    uow.emit(new_event("AdvanceShipNoticeIssued", 1, SOURCE, "purchase_order", po_id, AdvanceShipNoticeIssued(
        asn_id=asn_id, po_id=po_id, vendor_id=order.vendor_id, node=order.node, currency=order.currency,
        expected_date=expected_date, issued_by=actor, issued_at=at,
        lines=[AsnLineEvent(po_line_id=line.po_line_id, sku=line.sku, quantity=line.quantity,
                            unit_cost=costs[line.po_line_id], lot=line.lot, expiry=line.expiry)
               for line in asn.lines])), SUPPLY_EVENTS)
    await uow.supply.save_purchase_order(order, at)
    _publish(uow, order)
    await uow.commit()
    return order


async def receive_goods(uow: SupplyUnitOfWork, receipts: Sequence[GoodsReceived]) -> None:
    """Each receipt counts on its order's line of the SKU, as received by who booked it in; the caller commits.
    A receipt for an order this service does not know, or of a SKU the order does not list, is logged and
    left (finance still posts it)."""
    by_order: dict[str, list[GoodsReceived]] = {}
    for receipt in receipts:
        by_order.setdefault(receipt.po_id, []).append(receipt)
    for po_id in sorted(by_order):  # locked in id order, so concurrent batches never deadlock
        order = await uow.supply.purchase_order(po_id)
        if order is None:
            log.warning("goods received for unknown purchase order %s: %s", po_id,
                        [receipt.receipt_id for receipt in by_order[po_id]])
            continue
        changed = False
        for receipt in by_order[po_id]:
            if order.receive(receipt.asn_id, receipt.sku, receipt.quantity, receipt.received_by,
                             receipt.received_at):
                _publish(uow, order)
                changed = True
            else:
                log.warning("receipt %s: purchase order %s has no line of %s", receipt.receipt_id, po_id, receipt.sku)
        if changed:
            await uow.supply.save_purchase_order(order, order.last_step.at)


async def _locked(uow: SupplyUnitOfWork, po_id: str) -> PurchaseOrder:
    order = await uow.supply.purchase_order(po_id)
    if order is None:
        raise PurchaseOrderNotFound(f"purchase order {po_id} not found")
    return order


async def _change(uow: SupplyUnitOfWork, po_id: str,
                  change: Callable[[PurchaseOrder, datetime], None]) -> PurchaseOrder:
    at = datetime.now(UTC)
    order = await _locked(uow, po_id)
    change(order, at)
    await uow.supply.save_purchase_order(order, at)
    _publish(uow, order)
    await uow.commit()
    return order


def _publish(uow: SupplyUnitOfWork, order: PurchaseOrder) -> None:
    """The order as it is after its last step."""
    step = order.last_step
    uow.emit(new_event("PurchaseOrderChanged", 1, SOURCE, "purchase_order", order.po_id, PurchaseOrderChanged(
        po_id=order.po_id, revision=order.revision, vendor_id=order.vendor_id, node=order.node, status=order.status,
        currency=order.currency, total=order.total, expected_date=order.expected_date, created_by=order.created_by,
        approved_by=order.approved_by, reason=step.reason, changed_by=step.actor, changed_at=step.at,
        lines=[PurchaseOrderLine(line_id=line.line_id, sku=line.sku, vendor_sku=line.vendor_sku,
                                 quantity=line.quantity, received=line.received, unit_cost=line.unit_cost,
                                 expected_date=line.expected_date, discrepancy=line.discrepancy)
               for line in order.lines])), SUPPLY_EVENTS)
