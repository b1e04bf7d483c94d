"""From operational events to journal entries. Reference facts (orders, RMAs, receipts, approvals) are recorded
first; facts that post (shipments, dispositions, count adjustments, recovery moves, vendor claims, goods received)
wait, parked, for data they lack. Approved refunds are paid only once they pass finance's own check
(domain/refund_checks.py); those paid as store credit are issued at once. Orders paid with store credit redeem it,
and give it back when cancelled (service_layer/store_credit.py)."""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ecomops_common.contracts.orders import OrderPlaced, OrderStatus, OrderStatusChanged
from ecomops_common.contracts.returns import RefundApproved, ReturnAuthorized, VendorClaimChanged
from ecomops_common.contracts.warehouse import (
    GoodsReceived,
    RecoveryStockMoved,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
    StockAdjusted,
)
from ecomops_common.handlers import Received
from ecomops_common.money import UnknownCurrency
from finance_service.domain.accounts import STORE_CREDIT_METHOD, VENDOR_RECEIVABLE
from finance_service.domain.journal import JournalEntry
from finance_service.domain.money import ZERO
from finance_service.domain.payouts import Refund, RefundStatus
from finance_service.domain.postings import (
    CLAIM_ACCEPTED,
    DispositionApplied,
    MissingData,
    OrderLine,
    PostingError,
    RecoveryMove,
    RefundComponent,
    SaleOrder,
    Shipment,
    ShippedUnits,
    StockAdjustment,
    UnitCost,
    VendorClaim,
    post_disposition,
    post_recovery_write_off,
    post_refund_approved,
    post_return_freight,
    post_stock_adjustment,
    post_vendor_claim,
    variant_cost,
)
from finance_service.domain.purchasing import GoodsReceipt, goods_receipt, post_goods_received
from finance_service.domain.refund_checks import KnownReturn, PaidOrder, RefundedUnits, check
from finance_service.service_layer.journal import post, record_unit_cost
from finance_service.service_layer.payouts import announce_failure
from finance_service.service_layer.store_credit import issue_store_credit, redeem_store_credit, restore_store_credit
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork

log = logging.getLogger(__name__)
SYSTEM = "system"
# Facts that need earlier facts (the order, the RMA, a unit cost): parked until those are known, or for a person
# when they contradict what finance knows.
DEPENDENT_TYPES: dict[str, type[BaseModel]] = {
    "ShipmentDispatched": ShipmentDispatched, "ReturnDispositionApplied": ReturnDispositionApplied,
    "StockAdjusted": StockAdjusted, "ReturnReceived": ReturnReceived, "ReturnInspected": ReturnInspected,
    "RecoveryStockMoved": RecoveryStockMoved, "VendorClaimChanged": VendorClaimChanged,
    "GoodsReceived": GoodsReceived}


@dataclass(frozen=True)
class ParkedFact:
    """A parked fact read back (a Received): its envelope's trace was not kept."""

    event_id: str
    message: BaseModel
    correlation_id: None = None
    traceparent: None = None
    occurred_at: None = None


async def record_facts(uow: FinanceUnitOfWork, facts: list[Received[BaseModel]]) -> None:
    """One batch of events from any topic (the consumer group's), in one transaction with its inbox marks."""
    messages = [fact.message for fact in facts]
    placed = [m for m in messages if isinstance(m, OrderPlaced)]
    await uow.finance.add_orders([sale_order(m) for m in placed])
    await redeem_store_credit(uow, [m for m in placed if m.payment.method == STORE_CREDIT_METHOD])
    await restore_store_credit(uow, [m for m in messages if isinstance(m, OrderStatusChanged)
                                     and m.to_status is OrderStatus.cancelled])
    await uow.finance.add_return_cases([_return_case(m) for m in messages if isinstance(m, ReturnAuthorized)])
    await approve_refunds(uow, [m for m in messages if isinstance(m, RefundApproved)])
    await post_facts(uow, [fact for fact in facts if _type_of(fact) in DEPENDENT_TYPES])
    await uow.commit()


async def approve_refunds(uow: FinanceUnitOfWork, approvals: Sequence[RefundApproved]) -> None:
    """Each refund id becomes one refund, held until it is checked (at once); a repeat is only counted."""
    new = await uow.finance.add_refunds([(_refund(a), {
        "approved_by": a.approved_by, "lines": json.dumps(_lines(a)), "breakdown": json.dumps(_breakdown(a))})
        for a in approvals])
    held = []
    for approval in approvals:
        if approval.refund_id in new:
            new.discard(approval.refund_id)
            held.append((_refund(approval), _lines(approval), _breakdown(approval)))
    await check_refunds(uow, held)


async def check_refunds(uow: FinanceUnitOfWork, held: Sequence[tuple[Refund, list[dict], list[dict]]]) -> None:
    """Held refunds (with their lines and breakdown) against the returns finance knows and what was paid for
    their orders (domain/refund_checks.py): a payable one becomes a liability to pay out (one paid as store
    credit, or back to an order paid with it, is issued at once), a refused one is never paid, one whose order is
    unknown stays held; either is announced as RefundFailed."""
    if not held:
        return
    now = _now()
    cases = await uow.finance.return_cases({refund.rma_id for refund, _, _ in held})
    # Locked: the refunds of one order are checked one after another, each against what the others left.
    orders = await uow.finance.orders({refund.order_id for refund, _, _ in held})
    refunded = await uow.finance.refunded_amounts(orders)
    fees = await uow.finance.channel_fees({refund.channel for refund, _, _ in held})
    entries, store_credit = [], []
    for refund, lines, breakdown in held:
        order = orders.get(refund.order_id)
        check(refund, [RefundedUnits(line["line_id"], line["sku"], line["quantity"]) for line in lines],
              _known_return(cases.get(refund.rma_id)),
              None if order is None else PaidOrder(order.order_id, order.currency, order.paid,
                                                   refunded.get(order.order_id, ZERO)))
        if refund.status is RefundStatus.pending:
            refunded[refund.order_id] = refunded.get(refund.order_id, ZERO) + refund.amount
            refund.pay_back_like(order.payment_method)
            entries.append(post_refund_approved(
                refund.refund_id, refund.order_id, refund.rma_id, refund.channel, refund.reason, refund.currency,
                {line["line_id"]: line["sku"] for line in lines},
                [RefundComponent(c["line_id"], c["kind"], Decimal(c["amount"])) for c in breakdown], refund.amount,
                refund.approved_at, method=refund.method, fees=fees.get(refund.channel)))
            if refund.method == STORE_CREDIT_METHOD:
                store_credit.append(refund)
        else:
            if refund.status is RefundStatus.refused:
                log.error("refund %s of %s refused, it is not paid: %s", refund.refund_id, refund.rma_id,
                          refund.hold_reason)
            announce_failure(uow, refund, refund.status.value, refund.hold_reason, now)
    await issue_store_credit(uow, store_credit)
    await uow.finance.save_refunds(refund for refund, _, _ in held)
    await post(uow, entries, SYSTEM, now)


async def check_held_refunds(uow: FinanceUnitOfWork, limit: int = 500) -> int:
    """Checks the held refunds whose order has arrived since; returns how many were checked."""
    held = await uow.finance.held_refunds(limit)
    await check_refunds(uow, held)
    await uow.commit()
    return len(held)


async def post_facts(uow: FinanceUnitOfWork, facts: Sequence[Received[BaseModel]]) -> list[str]:
    """Posts (or records) what can be and parks the rest with what it waits for; returns the event ids done."""
    if not facts:
        return []
    messages = [fact.message for fact in facts]
    cases = await uow.finance.return_cases(m.rma_id for m in messages if hasattr(m, "rma_id"))
    orders = await uow.finance.orders([m.order_id for m in messages if isinstance(m, ShipmentDispatched)]
                                      + [case.order_id for case in cases.values()])
    costs = await uow.finance.unit_costs(_skus(messages))
    fees = await uow.finance.channel_fees({order.channel for order in orders.values()})
    entries, parked, posted, touched = [], [], [], set()
    receipts: list[tuple[GoodsReceipt, JournalEntry]] = []
    for fact in facts:
        message = fact.message
        try:
            if isinstance(message, ShipmentDispatched):
                order = _known(orders, message.order_id, "order")
                entries.append(order.ship(_shipment(fact.event_id, message), costs, fees.get(order.channel)))
                touched.add(order.order_id)
            elif isinstance(message, ReturnReceived):
                case = _known(cases, message.rma_id, "rma")
                if message.shipping_cost and message.currency:  # the retailer paid the return label
                    entries.append(post_return_freight(
                        fact.event_id, case.rma_id, case.order_id, case.channel, case.reason, message.sku,
                        message.shipping_cost, message.currency, message.received_at))
                await uow.finance.record_receipt(message.rma_id, message.sku, message.quantity, message.received_at)
            elif isinstance(message, ReturnInspected):
                _known(cases, message.rma_id, "rma")
                await uow.finance.record_inspection(message.rma_id, message.condition, message.inspected_at)
            elif isinstance(message, ReturnDispositionApplied):
                case = _known(cases, message.rma_id, "rma")
                entries.append(post_disposition(DispositionApplied(
                    fact.event_id, message.rma_id, message.sku, message.quantity, message.disposition,
                    message.applied_at), _known(orders, case.order_id, "order"), case.reason, costs))
            elif isinstance(message, RecoveryStockMoved):
                entries += await _post_recovery(uow, _recovery_move(message), costs)
            elif isinstance(message, VendorClaimChanged):
                entries += post_vendor_claim(_vendor_claim(message),
                                             await _claim_receivable(uow, entries, message.claim_id))
            elif isinstance(message, GoodsReceived):
                receipt = _goods_receipt(message, costs)
                receipts.append((receipt, post_goods_received(receipt)))
            else:
                entries.append(post_stock_adjustment(StockAdjustment(
                    fact.event_id, message.sku, message.node, message.quantity, message.adjusted_at), costs))
            posted.append(fact.event_id)
        except MissingData as missing:
            parked.append(_parked(fact, missing.keys[0]))
        except (PostingError, UnknownCurrency) as problem:
            parked.append(_parked(fact, f"review:{problem}"[:200]))
    await uow.finance.park(parked)
    await uow.finance.save_orders(orders[order_id] for order_id in touched)
    new_receipts = await uow.finance.add_goods_receipts([receipt for receipt, _ in receipts])
    entries += [entry for receipt, entry in receipts if receipt.receipt_id in new_receipts]  # once per receipt_id
    await post(uow, entries, SYSTEM, _now())
    return posted


async def post_parked(uow: FinanceUnitOfWork, limit: int = 500) -> int:
    """Posts parked facts whose order, RMA or cost has arrived since; returns how many were posted."""
    rows = await uow.finance.ready_parked(limit)
    if not rows:
        return 0
    posted = await post_facts(uow, [ParkedFact(row.event_id, DEPENDENT_TYPES[row.message_type].model_validate_json(
        row.payload)) for row in rows])
    await uow.finance.unpark(posted)
    await uow.commit()
    return len(posted)


async def _post_recovery(uow: FinanceUnitOfWork, move: RecoveryMove, costs: dict[str, UnitCost]) -> list:
    """Units regraded into a variant SKU without a cost give it the base SKU's (announced like any cost); units
    that leave the books are written off."""
    cost = variant_cost(move, costs)
    if cost is not None:
        await record_unit_cost(uow, move.to_sku, cost, SYSTEM, _now())
        costs[move.to_sku] = cost
    entry = post_recovery_write_off(move, costs)
    return [entry] if entry else []


async def _claim_receivable(uow: FinanceUnitOfWork, entries: Sequence[JournalEntry], claim_id: str,
                            ) -> Decimal | None:
    """What the claim's acceptance put on the vendor receivable, posted before or in this batch (None: not yet),
    so its credit settles exactly that."""
    accepted = next((entry for entry in entries if (entry.kind, entry.source_id) == (CLAIM_ACCEPTED, claim_id)),
                    None) or await uow.finance.entry_of(CLAIM_ACCEPTED, claim_id)
    if accepted is None:
        return None
    return sum((line.net for line in accepted.lines if line.account == VENDOR_RECEIVABLE), ZERO)


def sale_order(placed: OrderPlaced) -> SaleOrder:
    return SaleOrder(placed.order_id, placed.channel, placed.customer.id, placed.currency,
                     placed.payment.method, {line.line_id: OrderLine(line.line_id, line.sku, line.quantity,
                                                                     line.unit_price) for line in placed.lines},
                     placed.shipping_fee, placed.tax)


def _shipment(event_id: str, dispatched: ShipmentDispatched) -> Shipment:
    return Shipment(event_id, dispatched.order_id, tuple(ShippedUnits(line.line_id, line.sku, line.quantity)
                                                         for line in dispatched.lines),
                    dispatched.shipped_at, dispatched.shipping_cost, dispatched.currency)


def _goods_receipt(received: GoodsReceived, costs: dict[str, UnitCost]) -> GoodsReceipt:
    return goods_receipt(received.receipt_id, received.po_id, received.asn_id, received.node, received.sku,
                         received.quantity, received.unit_cost, received.currency, received.received_by,
                         received.received_at, costs)


def _refund(approval: RefundApproved) -> Refund:
    return Refund(approval.refund_id, approval.rma_id, approval.order_id, approval.channel, approval.customer_id,
                  approval.amount, approval.currency, approval.reason, approval.timing, approval.approved_at,
                  status=RefundStatus.held, method=approval.method)


def _recovery_move(moved: RecoveryStockMoved) -> RecoveryMove:
    return RecoveryMove(moved.action_id, moved.action.value, moved.sku, moved.quantity, moved.to_status, moved.at,
                        moved.to_sku, moved.proceeds, moved.currency, moved.reference)


def _vendor_claim(changed: VendorClaimChanged) -> VendorClaim:
    return VendorClaim(changed.claim_id, changed.vendor_id, changed.status.value, changed.currency,
                       changed.accepted_amount, changed.credited_amount, changed.credit_reference, changed.at)


def _lines(approval: RefundApproved) -> list[dict]:
    return [line.model_dump(mode="json") for line in approval.lines]


def _breakdown(approval: RefundApproved) -> list[dict]:
    return [component.model_dump(mode="json") for component in approval.breakdown]


def _known_return(case) -> KnownReturn | None:
    if case is None:
        return None
    return KnownReturn(case.rma_id, case.order_id, case.channel,
                       {line["line_id"]: (line["sku"], line["quantity"]) for line in json.loads(case.lines)})


def _return_case(authorized: ReturnAuthorized) -> dict[str, Any]:
    return {"rma_id": authorized.rma_id, "order_id": authorized.order_id, "channel": authorized.channel,
            "reason": authorized.reason, "resolution": authorized.resolution,
            "authorized_units": sum(line.quantity for line in authorized.lines),
            "authorized_at": authorized.authorized_at,
            "lines": json.dumps([line.model_dump(mode="json") for line in authorized.lines])}


def _skus(messages) -> set[str]:
    skus = set()
    for message in messages:
        if isinstance(message, ShipmentDispatched):
            skus.update(line.sku for line in message.lines)
        elif isinstance(message, ReturnDispositionApplied | StockAdjusted | GoodsReceived):
            skus.add(message.sku)
        elif isinstance(message, RecoveryStockMoved):
            skus.update(sku for sku in (message.sku, message.to_sku) if sku)
    return skus


def _known(found: dict, key: str, kind: str):
    if key not in found:
        raise MissingData([f"{kind}:{key}"])
    return found[key]


def _type_of(fact: Received[BaseModel]) -> str:
    return type(fact.message).__name__


def _parked(fact: Received[BaseModel], waiting_for: str) -> dict[str, Any]:
    return {"event_id": fact.event_id, "message_type": _type_of(fact), "occurred_at": _occurred_at(fact.message),
            "payload": fact.message.model_dump_json(), "waiting_for": waiting_for, "parked_at": _now()}


def _occurred_at(message) -> datetime:
    for name in ("shipped_at", "applied_at", "adjusted_at", "received_at", "inspected_at", "at"):
        if at := getattr(message, name, None):
            return at
    raise ValueError(f"{type(message).__name__} has no time")


def _now() -> datetime:
    return datetime.now(UTC)
