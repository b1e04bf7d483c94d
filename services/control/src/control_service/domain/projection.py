"""What each consumed fact means for the read model: its line on the order's timeline, the fact rows it states and
the inbox items it opens or closes. Plain functions of the event (plus, where a fact needs it, what the read model
already held), so the same events always give the same read model."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

from control_service.domain.inbox import CloseItem, OpenItem
from control_service.domain.vendors import claim_wait
from ecomops_common.contracts.allocation import (
    AllocationExceptionRaised,
    BackorderPromiseChanged,
    OrderAllocationChanged,
)
from ecomops_common.contracts.finance import (
    JournalEntryPosted,
    RefundFailed,
    RefundIssued,
    StoreCreditChanged,
    UnitCostChanged,
)
from ecomops_common.contracts.inventory import AvailabilityChanged, StockLevelChanged
from ecomops_common.contracts.orders import HoldReason, OrderPlaced, OrderRejected, OrderStatus, OrderStatusChanged
from ecomops_common.contracts.returns import (
    RefundApproved,
    ReturnAuthorized,
    ReturnDispositionDecided,
    ReturnRefused,
    ReturnStatus,
    ReturnStatusChanged,
    SkuVendorAssigned,
    VendorClaimChanged,
)
from ecomops_common.contracts.shipping import LabelPurchased, ReturnLabelIssued, TrackingStatus, TrackingUpdated
from ecomops_common.contracts.supply import PurchaseOrderChanged, PurchaseOrderStatus
from ecomops_common.contracts.warehouse import (
    CountRecorded,
    GradedVariantDefined,
    OrderFulfilmentChanged,
    RecoveryStockMoved,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
    StockAdjusted,
    WarehouseExceptionChanged,
    WarehouseExceptionKind,
    WarehouseExceptionStatus,
)

TERMINAL_ORDER = frozenset({OrderStatus.delivered, OrderStatus.cancelled, OrderStatus.rejected})
# Supervised recovery decisions, not fulfilment errors: inbox items, outside the warehouse exception rate.
RECOVERY_DECISIONS = frozenset({WarehouseExceptionKind.qa_decision.value, WarehouseExceptionKind.write_off.value})
CLAIM_WAITS = ("draft", "submitted")
REFUND_DECIDED = frozenset({ReturnStatus.refund_approved, ReturnStatus.refund_denied, ReturnStatus.refunded,
                            ReturnStatus.exchange_ordered, ReturnStatus.closed})


@dataclass(frozen=True)
class Thresholds:
    """When an open item enters the inbox (ControlSettings)."""

    hold: timedelta = timedelta(minutes=30)
    backorder: timedelta = timedelta(days=3)
    receipt: timedelta = timedelta(days=14)
    inspection: timedelta = timedelta(hours=48)
    stuck: dict[str, timedelta] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """One consumed fact: an event's payload with its envelope's id and time, or a dead letter."""

    event_id: str
    topic: str
    event_type: str
    source: str
    occurred_at: datetime
    message: BaseModel


@dataclass(frozen=True)
class DeadLetter:
    """A record some consumer could not handle, as its dead-letter topic holds it."""

    dlq_topic: str
    partition: int
    offset: int
    original_topic: str
    consumer: str
    reason: str
    error: str
    failed_at: datetime
    key: str | None = None


@dataclass(frozen=True)
class Progress:
    """Units of an order the warehouse had picked, packed and shipped before an event."""

    picked: int = 0
    packed: int = 0
    shipped: int = 0


@dataclass
class Projection:
    """What one fact changes: its timeline line, upserts per fact table (rows combine by domain/facts.py rules),
    inbox items opened and closed, and the SKU×nodes whose warehouse/allocation agreement must be checked."""

    order_id: str | None = None
    rma_id: str | None = None
    summary: str = ""
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    opened: list[OpenItem] = field(default_factory=list)
    closed: list[CloseItem] = field(default_factory=list)
    stock_keys: list[tuple[str, str]] = field(default_factory=list)
    progress: Progress | None = None  # the order's progress after a warehouse event

    def row(self, table: str, **values: Any) -> None:
        self.rows.append((table, values))


@dataclass(frozen=True)
class Context:
    """What the read model already holds that a projection needs (looked up for the batch beforehand)."""

    thresholds: Thresholds
    progress: dict[str, Progress] = field(default_factory=dict)
    promised: dict[str, date] = field(default_factory=dict)


def project(seen: Seen, context: Context) -> Projection:
    projector = PROJECTORS.get(type(seen.message))
    out = Projection()
    if projector is not None:
        projector(seen.message, seen, context, out)
    return out


def project_dead_letter(letter: DeadLetter) -> Projection:
    out = Projection(summary=f"dead letter on {letter.original_topic} ({letter.reason}): {letter.error[:200]}")
    out.row("dead_letters", dlq_topic=letter.dlq_topic, partition=letter.partition, offset=letter.offset,
            original_topic=letter.original_topic, consumer=letter.consumer, reason=letter.reason,
            error=letter.error, failed_at=letter.failed_at)
    out.opened.append(OpenItem(
        dead_letter_item(letter.dlq_topic, letter.partition, letter.offset), "dead_letter", letter.failed_at,
        letter.failed_at, f"{letter.original_topic}: {letter.reason} in {letter.consumer}",
        {"dlq_topic": letter.dlq_topic, "partition": letter.partition, "offset": letter.offset,
         "consumer": letter.consumer, "error": letter.error[:500]}))
    return out


def dead_letter_item(dlq_topic: str, partition: int, offset: int) -> str:
    return f"dead_letter:{dlq_topic}:{partition}:{offset}"


def _stuck(order_id: str, status: str, at: datetime, channel: str | None, context: Context,
           out: Projection) -> None:
    """An order in a status longer than expected is stuck; a status without an expected time ends that."""
    expected = context.thresholds.stuck.get(status)
    item_id = f"order_stuck:{order_id}"
    if expected is None:
        out.closed.append(CloseItem(item_id, at))
    else:
        out.opened.append(OpenItem(item_id, "order_stuck", at, at + expected, f"{status} since {at:%Y-%m-%d %H:%M}",
                                   {"order_id": order_id, "status": status}, order_id=order_id, channel=channel))


def _order_placed(p: OrderPlaced, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id = p.order_id
    units = sum(line.quantity for line in p.lines)
    holds = ", ".join(p.holds)
    out.summary = (f"placed on {p.channel} as {p.external_order_id}: {units} units, {p.total} {p.currency}"
                   + (f"; on hold ({holds})" if holds else ""))
    out.row("order_facts", order_id=p.order_id, channel=p.channel, external_order_id=p.external_order_id,
            customer_id=p.customer.id, placed_at=p.placed_at, currency=p.currency, total=p.total, units=units,
            holds=",".join(p.holds) or None, promised_date=p.promised_date, service_level=p.service_level,
            status=p.status, status_at=p.placed_at)
    for line in p.lines:
        out.row("order_lines", order_id=p.order_id, line_id=line.line_id, sku=line.sku, category=line.category,
                quantity=line.quantity, unit_price=line.unit_price)
        out.row("sku_prices", sku=line.sku, category=line.category, unit_price=line.unit_price,
                currency=p.currency, as_of=p.placed_at)
    for hold in p.holds:
        out.opened.append(OpenItem(
            f"order_hold:{p.order_id}:{hold}", "order_hold", p.placed_at, p.placed_at + context.thresholds.hold,
            f"{hold} on {p.channel} order {p.external_order_id} ({p.total} {p.currency})",
            {"order_id": p.order_id, "hold": hold}, order_id=p.order_id, channel=p.channel))
    _stuck(p.order_id, p.status, p.placed_at, p.channel, context, out)


def _order_rejected(p: OrderRejected, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id = p.order_id
    out.summary = "rejected: " + "; ".join(f"{r.field} {r.code}" for r in p.reasons[:5])
    out.row("order_facts", order_id=p.order_id, channel=p.channel, external_order_id=p.external_order_id,
            status=OrderStatus.rejected, status_at=seen.occurred_at, rejected_at=seen.occurred_at)


_STATUS_MOMENT = {OrderStatus.released_to_warehouse: "released_at", OrderStatus.shipped: "shipped_at",
                  OrderStatus.delivered: "delivered_at", OrderStatus.cancelled: "cancelled_at"}


def _order_status(p: OrderStatusChanged, seen: Seen, context: Context, out: Projection) -> None:
    at = seen.occurred_at
    out.order_id = p.order_id
    out.summary = f"{p.from_status} → {p.to_status} by {p.actor}" + (f" ({p.reason})" if p.reason else "")
    moment = _STATUS_MOMENT.get(p.to_status)
    out.row("order_facts", order_id=p.order_id, channel=p.channel, external_order_id=p.external_order_id,
            status=p.to_status, status_at=at, **({moment: at} if moment else {}))
    if p.from_status == OrderStatus.on_hold or p.to_status in TERMINAL_ORDER:
        for hold in HoldReason:
            if hold not in p.holds or p.to_status in TERMINAL_ORDER:
                out.closed.append(CloseItem(f"order_hold:{p.order_id}:{hold}", at, p.actor))
    if p.to_status in TERMINAL_ORDER:  # allocation's topic may be read later: the closing is kept
        out.closed.append(CloseItem(f"backorder:{p.order_id}", at, p.actor, may_precede_open=True))
    _stuck(p.order_id, p.to_status, at, p.channel, context, out)


def _allocation(p: OrderAllocationChanged, seen: Seen, context: Context, out: Projection) -> None:
    at = seen.occurred_at
    allocated = sum(line.quantity for line in p.lines)
    backordered = sum(line.quantity for line in p.backordered)
    nodes = sorted({line.node for line in p.lines})
    out.order_id = p.order_id
    out.summary = (f"{p.status} (revision {p.revision}, {p.reason}): {allocated} units"
                   + (f" at {', '.join(nodes)}" if nodes else "") + (f", {backordered} backordered" if backordered
                                                                    else ""))
    first = {"first_allocated_units": allocated, "first_backordered_units": backordered} if p.revision == 1 else {}
    out.row("order_facts", order_id=p.order_id, channel=p.channel, allocation_revision=p.revision,
            backordered_units=backordered, node=nodes[0] if nodes else None, **first)
    item_id = f"backorder:{p.order_id}"
    if backordered:
        promised = context.promised.get(p.order_id)
        due = (datetime.combine(promised, time.max, tzinfo=at.tzinfo) if promised
               else at + context.thresholds.backorder)
        out.opened.append(OpenItem(item_id, "backorder", at, due, f"{backordered} units backordered",
                                   {"order_id": p.order_id}, order_id=p.order_id, channel=p.channel,
                                   sku=p.backordered[0].sku))
    else:
        out.closed.append(CloseItem(item_id, at))


def _allocation_exception(p: AllocationExceptionRaised, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = (f"{p.sku} at {p.node}: {p.shortfall} reserved units no longer in stock; "
                   f"{len(p.affected_order_ids)} orders re-sourced")
    out.opened.append(OpenItem(f"allocation_exception:{p.exception_id}", "allocation_exception", p.raised_at,
                               p.raised_at, out.summary, {"exception_id": p.exception_id,
                                                          "orders": p.affected_order_ids[:20]},
                               node=p.node, sku=p.sku))


def _stock_level(p: StockLevelChanged, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = f"{p.sku} at {p.node}: {p.sellable_on_hand} sellable ({p.reason})"
    out.row("node_stock_levels", sku=p.sku, node=p.node, version=p.version or 0, sellable_on_hand=p.sellable_on_hand,
            by_status=dict(sorted(p.on_hand_by_status.items())), as_of=p.as_of)
    out.stock_keys.append((p.sku, p.node))


def _availability(p: AvailabilityChanged, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = f"{p.sku}: ATP {p.atp}"
    for node in p.nodes:
        out.row("availability", sku=p.sku, node=node.node, on_hand=node.on_hand, reserved=node.reserved,
                safety_stock=node.safety_stock, atp=node.atp, as_of=p.as_of)
        out.stock_keys.append((p.sku, node.node))


def _fulfilment(p: OrderFulfilmentChanged, seen: Seen, context: Context, out: Projection) -> None:
    before = context.progress.get(p.order_id, Progress())
    after = Progress(max(before.picked, p.picked), max(before.packed, p.packed), max(before.shipped, p.shipped))
    out.order_id = p.order_id
    out.summary = f"warehouse: {p.stage} ({p.picked} picked, {p.packed} packed, {p.shipped} shipped of {p.units})"
    out.row("order_facts", order_id=p.order_id, picked=after.picked, packed=after.packed, shipped=after.shipped)
    if after != before:  # a stage without units moved (released, delivered) is no work done
        out.row("fulfilment_work", event_id=seen.event_id, order_id=p.order_id, picked=after.picked - before.picked,
                packed=after.packed - before.packed, shipped=after.shipped - before.shipped, at=seen.occurred_at)
    out.progress = after


def _shipment(p: ShipmentDispatched, seen: Seen, context: Context, out: Projection) -> None:
    units = sum(line.quantity for line in p.lines)
    out.order_id = p.order_id
    out.summary = f"shipped {units} units from {p.node} with {p.carrier or 'carrier'} ({p.tracking_number})"
    out.row("order_facts", order_id=p.order_id, shipments=1, carrier=p.carrier)
    for line in p.lines:
        out.row("shipment_lines", event_id=seen.event_id, line_id=line.line_id, order_id=p.order_id, sku=line.sku,
                quantity=line.quantity, node=p.node, carrier=p.carrier, shipped_at=p.shipped_at)


def _return_received(p: ReturnReceived, seen: Seen, context: Context, out: Projection) -> None:
    out.rma_id = p.rma_id
    out.summary = f"return {p.rma_id}: {p.quantity} × {p.sku} received at {p.node} ({p.condition})"
    out.row("return_facts", rma_id=p.rma_id, received_at=p.received_at)
    out.row("return_units", event_id=seen.event_id, rma_id=p.rma_id, stage="received", sku=p.sku, node=p.node,
            quantity=p.quantity, outcome=p.condition, at=p.received_at)
    out.closed.append(CloseItem(f"return_receipt_overdue:{p.rma_id}", p.received_at, may_precede_open=True))
    out.opened.append(OpenItem(f"return_inspection_overdue:{p.rma_id}", "return_inspection_overdue", p.received_at,
                               p.received_at + context.thresholds.inspection, f"{p.quantity} × {p.sku} at {p.node}",
                               {"rma_id": p.rma_id}, rma_id=p.rma_id, node=p.node, sku=p.sku))


def _return_inspected(p: ReturnInspected, seen: Seen, context: Context, out: Projection) -> None:
    out.rma_id = p.rma_id
    out.summary = f"return {p.rma_id}: {p.quantity} × {p.sku} inspected ({p.condition})"
    out.row("return_facts", rma_id=p.rma_id, inspected_at=p.inspected_at)
    out.row("return_units", event_id=seen.event_id, rma_id=p.rma_id, stage="inspected", sku=p.sku, node=p.node,
            quantity=p.quantity, outcome=p.condition, at=p.inspected_at)
    out.closed.append(CloseItem(f"return_inspection_overdue:{p.rma_id}", p.inspected_at, p.inspector))


def _disposition_applied(p: ReturnDispositionApplied, seen: Seen, context: Context, out: Projection) -> None:
    out.rma_id = p.rma_id
    out.summary = f"return {p.rma_id}: {p.quantity} × {p.sku} moved to {p.disposition} at {p.node}"
    out.row("return_units", event_id=seen.event_id, rma_id=p.rma_id, stage="disposed", sku=p.sku, node=p.node,
            quantity=p.quantity, outcome=p.disposition, at=p.applied_at)


def _stock_adjusted(p: StockAdjusted, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = f"{p.sku} at {p.node}/{p.location}: {p.quantity:+d} units ({p.reason}) by {p.actor}"


def _warehouse_exception(p: WarehouseExceptionChanged, seen: Seen, context: Context, out: Projection) -> None:
    kind = str(p.kind)  # the warehouse's exception kinds are inbox queues of the same names
    item_id = f"{kind}:{p.exception_id}"
    out.summary = f"{kind} {p.status} at {p.node}: {p.reason}" + (f", {p.quantity} × {p.sku}" if p.sku else "")
    if p.status == WarehouseExceptionStatus.open:
        if kind not in RECOVERY_DECISIONS:
            out.row("warehouse_exceptions", exception_id=p.exception_id, kind=kind, node=p.node, raised_at=p.at)
        out.opened.append(OpenItem(item_id, kind, p.at, p.at, f"{p.reason}: {p.quantity} × {p.sku or '?'}"
                                   + (f" at {p.location}" if p.location else "") + f" (by {p.actor})",
                                   {"exception_id": p.exception_id, "kind": kind}, node=p.node, sku=p.sku))
    else:
        out.closed.append(CloseItem(item_id, p.at, p.actor))


def _count(p: CountRecorded, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = f"count of {p.sku} at {p.node}/{p.location}: {p.counted} found, {p.expected} expected"
    out.row("counts", count_id=p.count_id, node=p.node, sku=p.sku, location=p.location, expected=p.expected,
            counted=p.counted, counted_at=p.counted_at)


def _return_authorized(p: ReturnAuthorized, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    units = sum(line.quantity for line in p.lines)
    out.summary = f"return {p.rma_id} authorized: {units} units to {p.node} ({p.reason or 'no reason'}, " \
                  f"{p.resolution})"
    out.row("return_facts", rma_id=p.rma_id, order_id=p.order_id, channel=p.channel, node=p.node, reason=p.reason,
            resolution=p.resolution, authorized_at=p.authorized_at, expected_by=p.expected_by,
            status=ReturnStatus.authorized, status_at=p.authorized_at)
    for line in p.lines:
        out.row("return_lines", rma_id=p.rma_id, line_id=line.line_id, sku=line.sku, quantity=line.quantity)
    due = p.expected_by or p.authorized_at + context.thresholds.receipt
    out.opened.append(OpenItem(f"return_receipt_overdue:{p.rma_id}", "return_receipt_overdue", p.authorized_at, due,
                               f"{units} units expected at {p.node}", {"rma_id": p.rma_id, "order_id": p.order_id},
                               order_id=p.order_id, rma_id=p.rma_id, node=p.node, channel=p.channel))


def _return_refused(p: ReturnRefused, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id = p.order_id
    out.summary = f"return request {p.request_id} refused: " + "; ".join(r.rule for r in p.refusals[:5])


def _return_status(p: ReturnStatusChanged, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = f"return {p.rma_id}: {p.status} by {p.actor}" + (f" ({p.note})" if p.note else "")
    out.row("return_facts", rma_id=p.rma_id, order_id=p.order_id, channel=p.channel, status=p.status,
            status_at=p.at)
    item_id = f"refund_approval:{p.rma_id}"
    if p.status == ReturnStatus.refund_pending_approval:
        out.opened.append(OpenItem(item_id, "refund_approval", p.at, p.at, f"refund of return {p.rma_id}"
                                   + (f": {p.note}" if p.note else ""), {"rma_id": p.rma_id},
                                   order_id=p.order_id, rma_id=p.rma_id, channel=p.channel))
    elif p.status in REFUND_DECIDED:
        out.closed.append(CloseItem(item_id, p.at, p.actor))


def _disposition_decided(p: ReturnDispositionDecided, seen: Seen, context: Context, out: Projection) -> None:
    out.rma_id = p.rma_id
    out.summary = f"return {p.rma_id}: {p.quantity} × {p.sku} to {p.disposition}" + (
        f" (grade {p.grade})" if p.grade else "")


def _refund_approved(p: RefundApproved, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = f"refund {p.refund_id} of {p.amount} {p.currency} approved by {p.approved_by} ({p.timing})"
    out.row("return_facts", rma_id=p.rma_id, order_id=p.order_id, channel=p.channel,
            refund_approved_at=p.approved_at, refund_amount=p.amount, currency=p.currency)


def _refund_issued(p: RefundIssued, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = f"refund {p.refund_id} of {p.amount} {p.currency} paid" + (
        f" ({p.provider_reference})" if p.provider_reference else "")
    out.row("return_facts", rma_id=p.rma_id, order_id=p.order_id, refunded_at=p.issued_at,
            refunded_amount=p.amount)
    out.closed.append(CloseItem(f"refund_failed:{p.refund_id}", p.issued_at))


def _refund_failed(p: RefundFailed, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = f"refund {p.refund_id} of {p.amount} {p.currency} {p.outcome}: {p.reason}"
    out.opened.append(OpenItem(f"refund_failed:{p.refund_id}", "refund_failed", p.at, p.at, out.summary,
                               {"refund_id": p.refund_id, "rma_id": p.rma_id, "outcome": p.outcome},
                               order_id=p.order_id, rma_id=p.rma_id))


def _journal_entry(p: JournalEntryPosted, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    accounts = ", ".join(f"{line.account} {'Dr' if line.debit else 'Cr'} {line.debit or line.credit}"
                         for line in p.lines[:6])
    out.summary = f"ledger: {p.kind} {p.amount} {p.currency} ({accounts})"


def _recovery_moved(p: RecoveryStockMoved, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = (f"{p.quantity} × {p.sku} at {p.node}: {p.action} from {p.from_status} to "
                   f"{p.to_status or 'off the books'}" + (f" as {p.to_sku}" if p.to_sku else "")
                   + (f" ({p.reference})" if p.reference else "") + f", decided by {p.decided_by}")


def _graded_variant(p: GradedVariantDefined, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = (f"{p.variant_sku}: grade {p.grade} variant of {p.base_sku} at {p.list_price} {p.currency}, "
                   f"defined by {p.defined_by}")


def _sku_vendor(p: SkuVendorAssigned, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = f"{p.sku} supplied by {p.vendor_id}, assigned by {p.assigned_by}"
    out.row("supplier_skus", sku=p.sku, vendor_id=p.vendor_id, assigned_at=p.at)


def _vendor_claim(p: VendorClaimChanged, seen: Seen, context: Context, out: Projection) -> None:
    units = sum(line.quantity for line in p.lines)
    amounts = f"{p.claimed_amount} {p.currency}" if p.currency else "no cost yet"
    out.summary = f"vendor claim {p.claim_id} to {p.vendor_id} {p.status} by {p.actor}: {units} units, {amounts}"
    out.row("supplier_claims", claim_id=p.claim_id, vendor_id=p.vendor_id, status=str(p.status), currency=p.currency,
            claimed_amount=p.claimed_amount, accepted_amount=p.accepted_amount, credited_amount=p.credited_amount,
            defective_units=units, at=p.at)
    waits = claim_wait(p.status, units)
    for wait in CLAIM_WAITS:  # one item per wait: submitting it starts the vendor's
        item_id = f"vendor_claim:{p.claim_id}:{wait}"
        if wait == waits:
            out.opened.append(OpenItem(item_id, "vendor_claim", p.at, p.at, f"{p.status} claim to {p.vendor_id}: "
                                       f"{units} units, {amounts}", {"claim_id": p.claim_id, "vendor_id": p.vendor_id},
                                       keeps_since=True))
        else:
            out.closed.append(CloseItem(item_id, p.at, p.actor))


def _unit_cost(p: UnitCostChanged, seen: Seen, context: Context, out: Projection) -> None:
    out.summary = f"unit cost of {p.sku}: {p.amount} {p.currency}"


def _store_credit(p: StoreCreditChanged, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = (f"store credit {p.kind}: {p.amount} {p.currency}, balance {p.balance}"
                   + (f" ({p.reason})" if p.reason else ""))


def _backorder_promise(p: BackorderPromiseChanged, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id = p.order_id
    out.summary = (f"backorder promise of line {p.line_id} ({p.quantity} × {p.sku}): {p.previous_date or 'none'} → "
                   f"{p.promised_date or 'no supply covers it'} ({p.reason})")


def _label_purchased(p: LabelPurchased, seen: Seen, context: Context, out: Projection) -> None:
    """A label that cannot meet the promised date waits for someone (to tell the customer) until it is
    delivered."""
    out.order_id = p.order_id
    out.summary = (f"label {p.carrier} {p.service} {p.tracking_number} for parcel {p.parcel_id} at {p.node}: "
                   f"{p.cost} {p.currency}, ships {p.ship_date}, estimated {p.estimated_delivery}"
                   + ("" if p.meets_promise else f", misses the promised {p.promised_date}"))
    if not p.meets_promise:
        out.opened.append(OpenItem(
            late_label_item(p.tracking_number), "late_label", p.purchased_at, p.purchased_at,
            f"{p.carrier} {p.service} estimates {p.estimated_delivery}, {p.promised_date} was promised",
            {"order_id": p.order_id, "parcel_id": p.parcel_id, "tracking_number": p.tracking_number},
            order_id=p.order_id, node=p.node))


def _return_label(p: ReturnLabelIssued, seen: Seen, context: Context, out: Projection) -> None:
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = f"return label {p.carrier} {p.service} {p.tracking_number} for {p.rma_id}: {p.cost} {p.currency}"


def _tracking(p: TrackingUpdated, seen: Seen, context: Context, out: Projection) -> None:
    """A carrier exception opens an item the parcel's next event closes; a delivered outbound parcel is a row of
    promised-versus-actual delivery (per carrier and service) and ends a late label's wait."""
    at = p.occurred_at
    out.order_id, out.rma_id = p.order_id, p.rma_id
    out.summary = (f"{p.carrier} {p.service} {p.tracking_number}: {p.status}"
                   + (f" ({p.description})" if p.description else ""))
    item_id = f"tracking_exception:{p.tracking_number}"
    if p.status == TrackingStatus.exception:
        out.opened.append(OpenItem(item_id, "tracking_exception", at, at, out.summary,
                                   {"tracking_number": p.tracking_number, "order_id": p.order_id,
                                    "rma_id": p.rma_id}, order_id=p.order_id, rma_id=p.rma_id))
    else:
        out.closed.append(CloseItem(item_id, at, f"carrier:{p.carrier}"))
    if p.status == TrackingStatus.delivered:
        if p.promised_date and p.estimated_delivery and p.estimated_delivery > p.promised_date:
            # its label missed the promise: that item may be read later (another topic), so the closing is kept
            out.closed.append(CloseItem(late_label_item(p.tracking_number), at, f"carrier:{p.carrier}",
                                        may_precede_open=True))
        if p.order_id and not p.rma_id:
            out.row("control_deliveries", tracking_number=p.tracking_number, order_id=p.order_id, carrier=p.carrier,
                    service=p.service, promised_date=p.promised_date, estimated_delivery=p.estimated_delivery,
                    delivered_at=at)


def late_label_item(tracking_number: str) -> str:
    return f"late_label:{tracking_number}"


def _purchase_order(p: PurchaseOrderChanged, seen: Seen, context: Context, out: Projection) -> None:
    """A draft waits for a buyer's approval; approving or cancelling it (any status past draft) ends the wait."""
    units = sum(line.quantity for line in p.lines)
    out.summary = (f"purchase order {p.po_id} to {p.vendor_id} for {p.node}: {p.status} ({p.reason}) by "
                   f"{p.changed_by}; {units} units, {p.total} {p.currency}, expected {p.expected_date}")
    item_id = f"po_approval:{p.po_id}"
    if p.status == PurchaseOrderStatus.draft:
        out.opened.append(OpenItem(item_id, "po_approval", p.changed_at, p.changed_at,
                                   f"{p.po_id} to {p.vendor_id} for {p.node}: {units} units, {p.total} {p.currency}, "
                                   f"created by {p.created_by}", {"po_id": p.po_id, "vendor_id": p.vendor_id},
                                   node=p.node, keeps_since=True))
    else:
        out.closed.append(CloseItem(item_id, p.changed_at, p.changed_by))


PROJECTORS: dict[type[BaseModel], Callable[[Any, Seen, Context, Projection], None]] = {
    OrderPlaced: _order_placed, OrderRejected: _order_rejected, OrderStatusChanged: _order_status,
    AllocationExceptionRaised: _allocation_exception, StockLevelChanged: _stock_level,
    AvailabilityChanged: _availability, OrderFulfilmentChanged: _fulfilment, ShipmentDispatched: _shipment,
    ReturnReceived: _return_received, ReturnInspected: _return_inspected,
    ReturnDispositionApplied: _disposition_applied, StockAdjusted: _stock_adjusted,
    WarehouseExceptionChanged: _warehouse_exception, CountRecorded: _count, ReturnAuthorized: _return_authorized,
    ReturnRefused: _return_refused, ReturnStatusChanged: _return_status,
    ReturnDispositionDecided: _disposition_decided, RefundApproved: _refund_approved, RefundIssued: _refund_issued,
    RefundFailed: _refund_failed, JournalEntryPosted: _journal_entry, RecoveryStockMoved: _recovery_moved,
    GradedVariantDefined: _graded_variant, SkuVendorAssigned: _sku_vendor, VendorClaimChanged: _vendor_claim,
    UnitCostChanged: _unit_cost, StoreCreditChanged: _store_credit, BackorderPromiseChanged: _backorder_promise,
    LabelPurchased: _label_purchased, ReturnLabelIssued: _return_label, TrackingUpdated: _tracking,
    PurchaseOrderChanged: _purchase_order,
}
for _changed in OrderAllocationChanged.__subclasses__():
    PROJECTORS[_changed] = _allocation


def drift_items(sku: str, node: str, warehouse_sellable: int | None, allocation_on_hand: int | None,
                since: datetime, grace: timedelta) -> OpenItem | CloseItem:
    """Warehouse and allocation disagreeing on a SKU's sellable units at a node (messages in flight agree soon)."""
    item_id = f"reconciliation_drift:{sku}@{node}"
    if warehouse_sellable is None or allocation_on_hand is None or warehouse_sellable == allocation_on_hand:
        return CloseItem(item_id, since)
    return OpenItem(item_id, "reconciliation_drift", since, since + grace,
                    f"{sku} at {node}: warehouse {warehouse_sellable} sellable, allocation {allocation_on_hand}",
                    {"sku": sku, "node": node}, node=node, sku=sku)
