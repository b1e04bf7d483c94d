"""Settling the customer of an RMA: the refund (in money or store credit, or a replacement) its policy releases
at the stage the RMA has reached, approved by policy or, when a risk signal fires (a refund paid by another
method than the order's always is one), by a refund approver who neither inspected the items nor requested the
return. A refund gives back the order's sales tax pro rata. Plain Python: no I/O."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from ecomops_common.money import to_minor_unit
from returns_service.domain.refunds import (
    REFUND_STAGES,
    RefundLine,
    RefundPolicy,
    check_approver,
    may_refund_at,
    needs_approval,
    order_tax_rate,
    quote_refund,
    reduction,
    risk_signals,
    shipping_share,
    tax_on,
)
from returns_service.domain.rma import Rma, RmaError, RmaLine, RmaStatus, Settlement, SettlementStatus, Stage

TIMING_OF_STAGE = {"authorized": "instant", "received": "on_receipt", "inspected": "after_inspection"}


def next_settlement(rma: Rma, policy: RefundPolicy, already_refunded: Mapping[str, Decimal], returns_in_90d: int,
                    at: datetime, tax_refunded: Mapping[str, Decimal] | None = None) -> Settlement | None:
    """The settlement the RMA's progress releases now, added to the RMA; None when nothing is due.

    Units are settled once: an instant refund covers every authorized unit, an on_receipt one the units received
    so far, an after_inspection one the units inspected so far (so a second parcel gets a settlement of its own).
    already_refunded (and of it the tax, tax_refunded) is per order line, over every RMA of the order.
    """
    if rma.status is RmaStatus.closed:
        return None
    for stage in REFUND_STAGES:
        units = {line.line_id: _units_at(line, stage) - rma.covered(line.line_id) for line in rma.lines}
        lines = [line for line in rma.lines if units[line.line_id] > 0]
        if not lines:
            continue
        grades = {line.line_id: _unsettled_grades(rma, line, units[line.line_id]) if stage == "inspected" else {}
                  for line in lines}
        quote = quote_refund(policy, rma.reason, [_refund_line(rma, line, units[line.line_id], grades[line.line_id],
                                                               already_refunded, tax_refunded or {})
                                                  for line in lines], rma.currency)
        signals = risk_signals(policy, quote.amount, rma.reason,
                               grades=[g for by_grade in grades.values() for g in by_grade],
                               conditions=rma.conditions, returns_in_90d=returns_in_90d,
                               serial_mismatch=any(i.serial_mismatch for i in rma.inspections),
                               different_method=rma.settlement_kind == "refund" and rma.refund_method is not None)
        if not may_refund_at(policy, stage, quote.amount, signals):
            continue
        waits = needs_approval(signals)
        settlement = Settlement(
            f"{rma.id}-S{len(rma.settlements) + 1}", rma.settlement_kind,
            SettlementStatus.pending_approval if waits else SettlementStatus.approved, TIMING_OF_STAGE[stage],
            quote.amount, rma.currency, {line.line_id: units[line.line_id] for line in lines}, quote.breakdown,
            quote.notes, signals, None if waits else "policy", None if waits else at,
            {line_id: by_grade for line_id, by_grade in grades.items() if by_grade}, rma.settlement_method)
        rma.settlements.append(settlement)
        what = settlement.describe()
        if waits:
            rma.timeline.append(Stage("refund_pending_approval", at, "policy", f"{what}: {', '.join(signals)}"))
        else:
            rma.timeline.append(Stage("refund_approved", at, "policy", f"{what}, {settlement.timing}"))
        return settlement
    return None


def approve(rma: Rma, settlement_id: str, approver: str, at: datetime, amount: Decimal | None = None,
            note: str | None = None) -> Settlement:
    """A refund approver approves a waiting settlement, possibly for less (a partial refund agreed with the
    customer). Raises ApprovalRefused for the wrong person, RmaError for a settlement not waiting or a larger
    amount."""
    settlement = _waiting(rma, settlement_id)
    check_approver(approver, rma.inspectors, rma.requested_by)
    if amount is not None and amount != settlement.amount:
        if amount < 0 or amount > settlement.amount:
            raise RmaError(f"approved amount must be from 0 to the quoted {settlement.amount}")
        left, taxes = settlement.amount - amount, per_line(settlement, "tax")
        for line_id, line_amount in per_line(settlement).items():  # taken off the lines in order
            taken = min(left, line_amount)
            if taken:
                settlement.breakdown += reduction(line_id, "approved_partial", taken, line_amount,
                                                  taxes.get(line_id, Decimal(0)), settlement.currency)
                left -= taken
        settlement.amount = amount
    settlement.status, settlement.decided_by, settlement.decided_at = SettlementStatus.approved, approver, at
    detail = settlement.describe()
    rma.timeline.append(Stage("refund_approved", at, approver, f"{detail}{': ' + note if note else ''}"))
    return settlement


def deny(rma: Rma, settlement_id: str, approver: str, at: datetime, reason: str) -> Settlement:
    settlement = _waiting(rma, settlement_id)
    check_approver(approver, rma.inspectors, rma.requested_by)
    settlement.status, settlement.decided_by, settlement.decided_at = SettlementStatus.denied, approver, at
    rma.timeline.append(Stage("refund_denied", at, approver, reason))
    return settlement


def issue(rma: Rma, settlement_id: str, at: datetime, actor: str, note: str) -> bool:
    """Money paid out or replacement ordered. False when it was already (a redelivered confirmation)."""
    settlement = rma.settlement(settlement_id)
    if settlement.status is SettlementStatus.issued:
        return False
    if settlement.status is not SettlementStatus.approved:
        raise RmaError(f"settlement {settlement_id} is {settlement.status}, not approved")
    settlement.status = SettlementStatus.issued
    rma.timeline.append(Stage("refunded" if settlement.kind == "refund" else "exchange_ordered", at, actor, note))
    return True


def per_line(settlement: Settlement, kind: str | None = None) -> dict[str, Decimal]:
    """The settlement's amount per order line, or of one kind of its components (breakdown labels are
    `<line_id>/<kind>`)."""
    amounts: dict[str, Decimal] = {}
    for label, amount in settlement.breakdown:
        line_id, _, of_kind = label.rpartition("/")
        if kind is None or of_kind == kind:
            amounts[line_id] = amounts.get(line_id, Decimal(0)) + amount
    return amounts


def _waiting(rma: Rma, settlement_id: str) -> Settlement:
    settlement = rma.settlement(settlement_id)
    if settlement.status is not SettlementStatus.pending_approval:
        raise RmaError(f"settlement {settlement_id} is {settlement.status}: only a waiting one can be decided")
    return settlement


def _units_at(line: RmaLine, stage: str) -> int:
    reached = {"authorized": line.quantity, "received": line.received, "inspected": line.inspected}[stage]
    return min(reached, line.quantity)  # units beyond the authorization are flagged, not refunded


def _unsettled_grades(rma: Rma, line: RmaLine, units: int) -> dict[str, int]:
    """Grades of the `units` inspected units after those earlier settlements covered, in inspection order."""
    skip, grades = rma.covered(line.line_id), {}
    for inspection in (i for i in rma.inspections if i.sku == line.sku):
        take = min(max(inspection.quantity - skip, 0), units)
        skip = max(skip - inspection.quantity, 0)
        if take:
            grades[inspection.grade] = grades.get(inspection.grade, 0) + take
            units -= take
    return grades


def _refund_line(rma: Rma, line: RmaLine, units: int, grades: Mapping[str, int],
                 already_refunded: Mapping[str, Decimal], tax_refunded: Mapping[str, Decimal]) -> RefundLine:
    whole_line = line.unit_price * line.order_quantity
    tax_rate = order_tax_rate(rma.order_tax, rma.order_goods, rma.shipping_fee)

    def share(goods: Decimal) -> Decimal:
        return shipping_share(rma.shipping_fee, goods, rma.order_goods, rma.currency)

    # What the line paid includes its tax, computed as a refund of the whole line would, so that refund is not
    # capped by a rounding difference.
    paid_tax = tax_on(to_minor_unit(whole_line, rma.currency) + share(whole_line), tax_rate, rma.currency)
    return RefundLine(line.line_id, line.unit_price, units, grades=grades,
                      shipping_share=share(line.unit_price * units), paid=whole_line + share(whole_line) + paid_tax,
                      already_refunded=already_refunded.get(line.line_id, Decimal(0)), tax_rate=tax_rate,
                      tax_paid=paid_tax, tax_refunded=max(Decimal(0), tax_refunded.get(line.line_id, Decimal(0))))
