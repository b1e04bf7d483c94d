"""An RMA after authorization: the warehouse's receipts, inspections and moves, refund approvers' and
supervisors' decisions and finance's payouts. After every change the RMA is settled as its policy allows, closed
when it can be, and each new step of its timeline is published; defective units inspected join their vendor's
claim."""

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ecomops_common.contracts import CHANNEL_ORDERS, RETURNS_EVENTS
from ecomops_common.contracts.channel import ChannelOrder, ChannelOrderLine
from ecomops_common.contracts.finance import RefundIssued
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import (
    RefundApproved,
    RefundComponent,
    RefundedLine,
    ReturnDispositionDecided,
    ReturnStatus,
    ReturnStatusChanged,
)
from ecomops_common.contracts.shipping import ReturnLabelIssued
from ecomops_common.contracts.warehouse import (
    OrderFulfilmentChanged,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
)
from ecomops_common.envelope import new_event
from ecomops_common.errors import NotFound
from ecomops_common.handlers import Received
from returns_service.domain.policy import CatalogSku, starts_return_window
from returns_service.domain.rma import (
    CONDITION_GRADES,
    Inspection,
    ReturnLabel,
    Rma,
    RmaError,
    Settlement,
    SettlementStatus,
    WriteOff,
)
from returns_service.domain.settlement import approve, deny, issue, next_settlement, per_line
from returns_service.service_layer.rules import Rules, load_rules
from returns_service.service_layer.unit_of_work import SOURCE, ReturnsUnitOfWork
from returns_service.service_layer.vendor_claims import claim_defects

log = logging.getLogger(__name__)
PUBLISHED_STAGES = {status.value for status in ReturnStatus} - {"authorized"}  # ReturnAuthorized says that one
ReturnHandled = ReturnReceived | ReturnInspected | ReturnDispositionApplied
WarehouseEvent = ShipmentDispatched | OrderFulfilmentChanged | ReturnHandled


class RmaNotFound(NotFound):
    pass


async def follow_warehouse(uow: ReturnsUnitOfWork, received: list[Received[WarehouseEvent]],
                           write_off_approval_value: Decimal) -> None:
    """In one transaction: units shipped per order line (with serials) and delivery times, which start the
    return window; then the return events, in order. An event for an RMA this service does not know (made by
    hand in the warehouse) or that its state refuses is logged and flagged, not retried."""
    at = datetime.now(UTC)
    messages = [r.message for r in received]
    shipments = [m for m in messages if isinstance(m, ShipmentDispatched)]
    delivered = {r.message.order_id: r.occurred_at for r in received if isinstance(r.message, OrderFulfilmentChanged)
                 and starts_return_window(r.message.stage.value)}
    events = [m for m in messages if isinstance(m, ReturnHandled)]
    shipped: dict[tuple[str, str], dict] = {}
    for shipment in shipments:
        for line in shipment.lines:
            row = shipped.setdefault((shipment.order_id, line.line_id), {
                "order_id": shipment.order_id, "line_id": line.line_id, "sku": line.sku, "shipped": 0,
                "node": shipment.node, "serials": []})
            row["shipped"] += line.quantity
            row["serials"] += line.serials
    if shipped:
        await uow.returns.add_shipments(list(shipped.values()))
    if delivered:
        await uow.returns.mark_delivered(delivered)
    if not events:
        await uow.commit()
        return
    rules = await load_rules(uow)
    rmas = await uow.returns.rmas(event.rma_id for event in events)
    skus = await uow.returns.catalog_skus(event.sku for event in events if isinstance(event, ReturnInspected))
    inspected: list[tuple[Rma, Inspection]] = []
    for event in events:
        rma = rmas.get(event.rma_id)
        if rma is None:
            log.warning("%s for unknown RMA %s ignored", type(event).__name__, event.rma_id)
            continue
        try:
            if isinstance(event, ReturnReceived):
                rma.receive(event.sku, event.quantity, event.condition.value, event.received_at,
                            f"warehouse:{event.node}")
            elif isinstance(event, ReturnInspected):
                missing = ("parts",) if event.condition.value == "missing_parts" else ()
                inspected.append((rma, inspect(
                    uow, rma, rules, event.sku, event.quantity, CONDITION_GRADES[event.condition.value],
                    event.inspector or f"warehouse:{event.node}", event.inspected_at, event.serial, missing,
                    write_off_approval_value, hazmat_class=_hazmat_class(skus.get(event.sku)))))
            else:
                rma.apply_disposition(event.sku, event.quantity, event.disposition, event.applied_at)
        except RmaError as refused:
            rma.flags.append(f"{type(event).__name__} not applied: {refused}")
            log.warning("RMA %s: %s", rma.id, refused)
    await claim_defects(uow, inspected, rules.vendor_claims, at)
    await progress(uow, rmas.values(), rules, at)
    await uow.commit()


def inspect(uow: ReturnsUnitOfWork, rma: Rma, rules: Rules, sku: str, quantity: int, grade: str, inspector: str,
            at: datetime, serial: str | None = None, missing_accessories: tuple[str, ...] = (),
            write_off_approval_value: Decimal | None = None, notes: str | None = None,
            hazmat_class: str | None = None) -> Inspection:
    """Grades units; the disposition the rule table decides (quarantine for a SKU the catalog gives a hazmat class,
    or of a hazardous category) goes to the warehouse, unless it is a write-off above write_off_approval_value,
    which waits for a supervisor (decide_write_off)."""
    inspection = rma.inspect(sku, quantity, grade, rules.dispositions, at, inspector, serial, missing_accessories,
                             write_off_approval_value, rules.hazardous.categories, notes, hazmat_class)
    if inspection.write_off is not WriteOff.pending_approval:
        _disposition_decided(uow, rma, inspection, at)
    return inspection


async def inspect_at_bench(uow: ReturnsUnitOfWork, rma_id: str, sku: str, quantity: int, grade: str, inspector: str,
                           serial: str | None, missing_accessories: tuple[str, ...],
                           write_off_approval_value: Decimal, notes: str | None = None) -> Rma:
    """An inspection recorded over HTTP by the inspector's subject; RmaError says why it is refused."""
    at = datetime.now(UTC)
    rma, rules = await _locked(uow, rma_id), await load_rules(uow)
    hazmat_class = _hazmat_class((await uow.returns.catalog_skus([sku])).get(sku))
    inspection = inspect(uow, rma, rules, sku, quantity, grade, inspector, at, serial, missing_accessories,
                         write_off_approval_value, notes, hazmat_class)
    await claim_defects(uow, [(rma, inspection)], rules.vendor_claims, at)
    await progress(uow, [rma], rules, at)
    await uow.commit()
    return rma


async def decide_write_off(uow: ReturnsUnitOfWork, rma_id: str, inspection_id: str, approver: str,
                           note: str | None, instead: str | None = None) -> Rma:
    """A supervisor approves a write-off waiting for approval (or sends the units to `instead`): the disposition
    goes to the warehouse. ApprovalRefused or RmaError say why a decision is refused."""
    at = datetime.now(UTC)
    rma = await _locked(uow, rma_id)
    inspection = rma.decide_write_off(inspection_id, approver, at, instead=instead, note=note)
    _disposition_decided(uow, rma, inspection, at)
    await progress(uow, [rma], await load_rules(uow), at)
    await uow.commit()
    return rma


async def decide(uow: ReturnsUnitOfWork, rma_id: str, settlement_id: str, approver: str, approved: bool,
                 note: str | None, amount: Decimal | None = None) -> Rma:
    """A refund approver (the route checks the token's role) approves or denies a waiting settlement;
    ApprovalRefused or RmaError say why a decision is refused."""
    at = datetime.now(UTC)
    rma = await _locked(uow, rma_id)
    if approved:
        settlement = approve(rma, settlement_id, approver, at, amount, note)
        await _release(uow, rma, settlement, at)
    else:
        deny(rma, settlement_id, approver, at, note or "denied")
    await progress(uow, [rma], await load_rules(uow), at)
    await uow.commit()
    return rma


async def follow_finance(uow: ReturnsUnitOfWork, refunds: list[Received[RefundIssued]]) -> None:
    """Finance paid a refund out: the settlement is issued (a second confirmation changes nothing), which may
    close the RMA. One for a settlement this service does not know or did not approve is logged, not retried."""
    at = datetime.now(UTC)
    issued = [refund.message for refund in refunds]
    rmas = await uow.returns.rmas(event.rma_id for event in issued)
    for event in issued:
        rma = rmas.get(event.rma_id)
        try:
            if rma is None:
                raise RmaError(f"unknown RMA {event.rma_id}")
            issue(rma, event.refund_id, event.issued_at, "finance",
                           f"{event.amount} {event.currency} paid, {event.provider_reference or 'no reference'}")
        except RmaError as refused:
            log.warning("RefundIssued %s not applied: %s", event.refund_id, refused)
    await progress(uow, rmas.values(), await load_rules(uow), at)
    await uow.commit()


async def follow_shipping(uow: ReturnsUnitOfWork, labels: list[Received[ReturnLabelIssued]]) -> None:
    """The shipping service issued an RMA's return label: the RMA shows it. The label held already changes nothing
    (no inbox row is needed); one for an RMA this service does not know is logged, not retried."""
    issued = [received.message for received in labels]
    rmas = await uow.returns.rmas(event.rma_id for event in issued)
    changed = {}
    for event in issued:
        if (rma := rmas.get(event.rma_id)) is None:
            log.warning("ReturnLabelIssued for unknown RMA %s ignored", event.rma_id)
        elif rma.attach_label(ReturnLabel(event.carrier, event.service, event.tracking_number, event.label_url,
                                          event.cost, event.currency, event.issued_at)):
            changed[rma.id] = rma
    await uow.returns.save_rmas(changed.values(), datetime.now(UTC))
    await uow.commit()


async def progress(uow: ReturnsUnitOfWork, rmas: Iterable[Rma], rules: Rules, at: datetime) -> None:
    """Settles what the policy releases, closes what is done, saves and publishes the new steps."""
    rmas = list(rmas)
    for rma in rmas:
        policy = rules.refund_policy(rma.channel, rma.lines[0].category)
        returns_in_90d = await uow.returns.returns_since(rma.customer_id, at - timedelta(days=90), rma.id)
        # RMAs changed in this transaction count as they are now; the order's others as stored.
        of_order = [other for other in rmas if other.order_id == rma.order_id]
        of_order += await uow.returns.rmas_of_order(rma.order_id, exclude={other.id for other in of_order})
        while (settlement := next_settlement(rma, policy, _refunded(of_order), returns_in_90d, at,
                                             _refunded(of_order, "tax"))) is not None:
            if settlement.decided_by == "policy":
                await _release(uow, rma, settlement, at)
        if rma.closable:
            rma.close(at, "returns", "dispositions done and customer settled")
        for stage in uow.returns.unsaved_stages(rma):
            if stage.stage in PUBLISHED_STAGES:
                uow.emit(_event("ReturnStatusChanged", rma, ReturnStatusChanged(
                    rma_id=rma.id, order_id=rma.order_id, channel=rma.channel, status=stage.stage, actor=stage.actor,
                    note=stage.note, at=stage.at)), RETURNS_EVENTS)
    await uow.returns.save_rmas(rmas, at)


async def _release(uow: ReturnsUnitOfWork, rma: Rma, settlement: Settlement, at: datetime) -> None:
    """An approved refund goes to finance; an approved exchange becomes a replacement order at once."""
    units = {line.line_id: line for line in rma.lines}
    if settlement.kind == "refund":
        uow.emit(_event("RefundApproved", rma, RefundApproved(
            refund_id=settlement.id, rma_id=rma.id, order_id=rma.order_id, channel=rma.channel,
            customer_id=rma.customer_id, amount=settlement.amount, currency=settlement.currency, reason=rma.reason,
            tax=settlement.tax, method=settlement.method, timing=settlement.timing,
            risk_signals=settlement.risk_signals, approved_by=settlement.decided_by, approved_at=at,
            lines=[RefundedLine(line_id=line_id, sku=units[line_id].sku, quantity=n,
                                grades=settlement.grades.get(line_id, {}))
                   for line_id, n in settlement.lines.items()],
            breakdown=[RefundComponent(line_id=label.rpartition("/")[0], kind=label.rpartition("/")[2],
                                       amount=amount) for label, amount in settlement.breakdown])), RETURNS_EVENTS)
        return
    order = await uow.returns.order(rma.order_id)
    original = OrderPlaced.model_validate_json(order["document"])
    lines = [ChannelOrderLine(line_id=line_id, sku=units[line_id].sku, quantity=n, unit_price=units[line_id].unit_price,
                              category=units[line_id].category) for line_id, n in settlement.lines.items()]
    total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    replacement = ChannelOrder(
        channel=rma.channel, external_order_id=f"exchange-{settlement.id}", placed_at=at, currency=rma.currency,
        customer=original.customer, ship_to=original.ship_to, service_level=original.service_level, lines=lines,
        payment={"status": "captured", "amount": total, "method": "exchange"})
    uow.emit_document(replacement, replacement.idempotency_key, "ChannelOrder", SOURCE, CHANNEL_ORDERS)
    issue(rma, settlement.id, at, "returns", f"replacement order {replacement.idempotency_key}")


def _disposition_decided(uow: ReturnsUnitOfWork, rma: Rma, inspection: Inspection, at: datetime) -> None:
    uow.emit(_event("ReturnDispositionDecided", rma, ReturnDispositionDecided(
        rma_id=rma.id, sku=inspection.sku, quantity=inspection.quantity, disposition=inspection.disposition,
        decided_at=at, grade=inspection.grade, rule_id=inspection.rule_id, hazardous=inspection.hazardous,
        category=rma.line_of(inspection.sku).category)), RETURNS_EVENTS)


def _refunded(rmas_of_order: Iterable[Rma], kind: str | None = None) -> dict[str, Decimal]:
    """Per order line, what refunds of every RMA of the order pay or may pay (all but denied ones), or the
    components of one kind of it (the tax): the cap of the next quote."""
    amounts: dict[str, Decimal] = {}
    for settlement in (s for rma in rmas_of_order for s in rma.settlements
                       if s.kind == "refund" and s.status is not SettlementStatus.denied):
        for line_id, amount in per_line(settlement, kind).items():
            amounts[line_id] = amounts.get(line_id, Decimal(0)) + amount
    return amounts


async def _locked(uow: ReturnsUnitOfWork, rma_id: str) -> Rma:
    rma = (await uow.returns.rmas([rma_id])).get(rma_id)
    if rma is None:
        raise RmaNotFound(f"RMA {rma_id} not found")
    return rma


def _hazmat_class(sku: CatalogSku | None) -> str | None:
    return sku.hazmat_class if sku is not None else None


def _event(event_type: str, rma: Rma, payload) -> object:
    return new_event(event_type, 1, SOURCE, "return", rma.id, payload)
