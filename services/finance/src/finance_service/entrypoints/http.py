"""HTTP API of finance: the chart of accounts, unit costs, channel fee rules, the journal, refunds and their
exceptions, store credit, facts waiting to be posted, vendor invoices and goods received not invoiced, and reports
as JSON or CSV (`?format=csv`). Every route takes the issuer's bearer token and names its roles
(ecomops_common.access): finance clerks read and write, auditors only read. Corrections that move money or the
books (a refund retry, a manual settlement, a journal reversal) are requests a second person approves: another
finance clerk or a supervisor (/v1/approval-requests). Who acted is always the token's subject."""

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from ecomops_common.access import caller
from ecomops_common.auth import ADMIN, AUDITOR, CUSTOMER_SERVICE, FINANCE_CLERK, SUPERVISOR, Principal
from ecomops_common.contracts.types import INT8_MAX, MAX_LINE_QUANTITY, CurrencyCode, Document, Money
from ecomops_common.http import entered_unit_of_work
from ecomops_common.money import to_minor_unit
from finance_service.domain.accounts import CHART, AccountType
from finance_service.domain.approvals import RequestKind, RequestStatus
from finance_service.domain.leakage import FeeRule
from finance_service.domain.payouts import RefundStatus
from finance_service.domain.postings import ChannelFees, UnitCost
from finance_service.domain.purchasing import InvoiceLine, VendorInvoice
from finance_service.service_layer import approvals
from finance_service.service_layer import journal as books
from finance_service.service_layer.journal import EntryNotFound
from finance_service.service_layer.purchasing import InvoiceNotFound, record_vendor_invoice
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork

router = APIRouter(prefix="/v1", tags=["finance"])
# Finance clerks read and write; auditors read. An approver (a supervisor too) reads what they approve.
READERS = caller(FINANCE_CLERK, AUDITOR)
APPROVER_READERS = caller(FINANCE_CLERK, SUPERVISOR, AUDITOR)
Clerk = Annotated[Principal, caller(FINANCE_CLERK)]
Approver = Annotated[Principal, caller(FINANCE_CLERK, SUPERVISOR)]
SKU = Annotated[str, Path(min_length=1, max_length=64)]
Channel = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
CustomerId = Annotated[str, Path(min_length=1, max_length=128)]
Rate = Annotated[Money, Field(ge=0, le=1, description="A decimal string from 0 to 1", examples=["0.15"])]
EntryId = Annotated[int, Path(ge=1, le=INT8_MAX)]
RequestId = Annotated[int, Path(ge=1, le=INT8_MAX)]
UnitOfWork = Annotated[FinanceUnitOfWork, Depends(entered_unit_of_work)]
# Amounts are answered as decimal strings in the currency's minor units (see _json); the reports' times as Python's
# isoformat ("+00:00"), the other routes' as Pydantic's ("Z"), as they always were.
Amount = Annotated[str, Field(description="A decimal string", examples=["19.99"])]
ReportTime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
                       WithJsonSchema({"type": "string", "format": "date-time"})]


class Format(StrEnum):
    json = "json"
    csv = "csv"


class AccountView(BaseModel):
    code: str
    name: str
    type: AccountType


@router.get("/accounts", dependencies=[READERS])
async def chart_of_accounts() -> list[AccountView]:
    return [AccountView(code=a.code, name=a.name, type=a.type) for a in CHART]


class UnitCostIn(Document):
    amount: Money = Field(ge=0, description="Cost of one unit, e.g. \"12.40\"")
    currency: CurrencyCode


class UnitCostSet(BaseModel):
    sku: str
    amount: Money
    currency: str
    updated_by: str


class UnitCostView(BaseModel):
    sku: str
    amount: Amount
    currency: str
    updated_by: str
    updated_at: datetime
    from_catalog: bool = Field(description="The SKU master costs the SKU (catalog.skus.v1): it changes there only")


@router.put("/costs/{sku}", responses={409: {"description": "The SKU master costs this SKU: change it there"}})
async def set_unit_cost(sku: SKU, cost: UnitCostIn, by: Clerk, uow: UnitOfWork) -> UnitCostSet:
    """For a SKU the SKU master does not cost (one it costs answers 409: its cost comes from the catalog). Used
    for shipments, returns, counts, write-offs and goods receipts posted from now on; facts waiting for this cost
    are posted; announced as UnitCostChanged. Recorded as updated by the token's subject. (Liquidation is a sale
    with its own proceeds, not a per-SKU value.)"""
    await books.set_unit_cost(uow, sku, UnitCost(cost.amount, cost.currency), by.subject)
    return UnitCostSet(sku=sku, amount=cost.amount, currency=cost.currency, updated_by=by.subject)


@router.get("/costs", response_model=list[UnitCostView], dependencies=[READERS])
async def unit_costs(uow: UnitOfWork) -> Any:
    return _json([dict(row._mapping) for row in await uow.finance.all_unit_costs()])


class ChannelFeesIn(Document):
    commission_rate: Rate = Field(description="The channel's commission on goods revenue, e.g. \"0.15\"")
    refund_reversal_rate: Rate = Field(description="The share of that commission the channel gives back on goods "
                                                   "refunded, e.g. \"1\" for all of it")


class ChannelFeesView(BaseModel):
    channel: str
    commission_rate: Amount
    refund_reversal_rate: Amount
    updated_by: str
    updated_at: datetime


@router.put("/rules/channel-fees/{channel}", response_model=ChannelFeesView)
async def set_channel_fees(channel: Channel, body: ChannelFeesIn, uow: UnitOfWork,
                           by: Annotated[Principal, caller(ADMIN, FINANCE_CLERK)]) -> Any:
    """Marketplace fees posted on the channel's shipments (commission_rate × goods revenue) and reversed on its
    refunds (refund_reversal_rate × commission_rate × goods refunded) from now on. A channel without a rule posts
    no fees. Recorded as updated by the token's subject."""
    await books.set_channel_fees(uow, channel, ChannelFees(body.commission_rate, body.refund_reversal_rate),
                                 by.subject)
    [row] = await uow.finance.channel_fee_rows(channel)
    return _fee_view(row)


@router.get("/rules/channel-fees", response_model=list[ChannelFeesView],
            dependencies=[caller(ADMIN, FINANCE_CLERK, AUDITOR)])
async def channel_fees(uow: UnitOfWork) -> Any:
    return [_fee_view(row) for row in await uow.finance.channel_fee_rows()]


def _fee_view(row) -> dict[str, Any]:
    return {**dict(row._mapping), "commission_rate": str(row.commission_rate.normalize()),
            "refund_reversal_rate": str(row.refund_reversal_rate.normalize())}


class StoreCreditBalanceView(BaseModel):
    currency: str
    balance: Amount


class StoreCreditMovementView(BaseModel):
    movement_id: str = Field(description="issued:<refund>, redemption:<order> or restored:<order>")
    kind: str = Field(description="issued, redeemed, declined or restored")
    amount: Amount
    currency: str
    balance: Amount = Field(description="The balance in this currency after the movement")
    order_id: str | None
    rma_id: str | None
    refund_id: str | None
    reason: str | None
    at: datetime


class StoreCreditView(BaseModel):
    customer_id: str
    balances: list[StoreCreditBalanceView]
    movements: list[StoreCreditMovementView] = Field(description="The latest 1000, oldest first")


@router.get("/store-credit/{customer_id}", response_model=StoreCreditView,
            dependencies=[caller(FINANCE_CLERK, CUSTOMER_SERVICE, AUDITOR)])
async def store_credit(customer_id: CustomerId, uow: UnitOfWork) -> Any:
    """The customer's store credit per currency (none yet: no balances) and its movements: issued for refunds
    paid as store credit, redeemed or declined for orders paid with it, restored when such an order was
    cancelled."""
    balances, movements = await uow.finance.store_credit(customer_id)
    return _json({"customer_id": customer_id,
                  "balances": [{"currency": row.currency, "balance": row.balance} for row in balances],
                  "movements": [{key: value for key, value in row._mapping.items() if key != "customer_id"}
                                for row in movements]})


class JournalLineView(BaseModel):
    id: int
    account: str
    debit: Amount
    credit: Amount
    currency: str
    order_id: str | None
    rma_id: str | None
    sku: str | None
    channel: str | None
    reason: str | None
    memo: str | None


class JournalEntryView(BaseModel):
    id: int
    kind: str
    source_id: str
    occurred_at: datetime
    posted_at: datetime
    posted_by: str
    description: str
    reverses: str | None
    order_id: str | None
    rma_id: str | None
    lines: list[JournalLineView]


@router.get("/journal", response_model=list[JournalEntryView], dependencies=[READERS])
async def journal(uow: UnitOfWork, order_id: str | None = None, rma_id: str | None = None,
                  kind: str | None = None, after_id: Annotated[int, Query(ge=0, le=INT8_MAX)] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
    """Entries with their lines, oldest first; page with after_id (the last id seen)."""
    entries = await uow.finance.entry_rows(order_id=order_id, rma_id=rma_id, kind=kind, after_id=after_id,
                                           limit=limit)
    lines = await uow.finance.line_rows([entry.id for entry in entries])
    by_entry: dict[int, list] = {}
    for line in lines:
        by_entry.setdefault(line.entry_id, []).append(_line_view(line))
    return _json([{**dict(entry._mapping), "lines": by_entry.get(entry.id, [])} for entry in entries])


@router.get("/journal/{entry_id}", response_model=JournalEntryView, dependencies=[APPROVER_READERS])
async def journal_entry(entry_id: EntryId, uow: UnitOfWork) -> Any:
    found = await uow.finance.entry(entry_id)
    if found is None:
        raise EntryNotFound(f"no journal entry {entry_id}")
    lines = await uow.finance.line_rows([entry_id])
    return _json({**dict(found[0]._mapping), "lines": [_line_view(line) for line in lines]})


class ReversalIn(Document):
    reason: str = Field(min_length=3, max_length=500, description="Why the entry was wrong")


class ApprovalRequestView(BaseModel):
    id: int
    kind: RequestKind
    target: str = Field(description="refund:<refund id> or entry:<journal entry id>")
    reason: str | None
    reference: str | None
    requested_by: str
    requested_at: datetime
    status: RequestStatus
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    outcome: str | None = Field(description="What the approval did: the retry's idempotency key, the settlement's "
                                            "reference, or the reversing entry (entry:<id>)")


REQUEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such refund or entry"},
    409: {"description": "It cannot be corrected this way now, or already waits for approval"}}


@router.post("/journal/{entry_id}/reversal", status_code=202, response_model=ApprovalRequestView,
             responses=REQUEST_RESPONSES)
async def request_reversal(entry_id: EntryId, body: ReversalIn, by: Clerk, uow: UnitOfWork) -> Any:
    """Entries are never changed: a wrong one is cancelled by a reversing entry (then post the right one). The
    reversal is requested here and posted when another person approves it (/v1/approval-requests)."""
    return _request_view(await approvals.request_reversal(uow, entry_id, body.reason, by.subject))


class RefundView(BaseModel):
    refund_id: str
    rma_id: str
    order_id: str
    channel: str
    customer_id: str
    amount: Amount
    currency: str
    reason: str
    timing: str
    approved_by: str
    approved_at: datetime
    status: RefundStatus
    generation: int
    attempts: int
    next_attempt_at: datetime | None
    provider_reference: str | None
    issued_at: datetime | None
    last_error: str | None
    duplicate_requests: int
    hold_reason: str | None = Field(description="Why a held refund waits or a refused one is never paid")
    method: str = Field(description="original_payment, store_credit (issued by finance at once) or another method "
                                    "paid through the provider, e.g. bank_transfer")
    breakdown: str = Field(description="JSON: line_id, kind, amount")
    lines: str = Field(description="JSON: line_id, sku, quantity")


@router.get("/refunds", response_model=list[RefundView], dependencies=[APPROVER_READERS])
async def refunds(uow: UnitOfWork, status: RefundStatus | None = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Any:
    """Finance staff's exception queues: `status=failed`, declined for good, to retry or settle by hand;
    `status=refused`, approvals that match no known return or exceed what was paid for the order (never paid,
    hold_reason says why); `status=held`, approvals whose order finance has not heard of yet."""
    return _json([dict(row._mapping) for row in await uow.finance.refund_rows(status, limit)])


@router.post("/refunds/{refund_id}/retry", status_code=202, response_model=ApprovalRequestView,
             responses=REQUEST_RESPONSES)
async def request_retry(refund_id: str, by: Clerk, uow: UnitOfWork) -> Any:
    """After a final decline, e.g. once the customer's payment details are fixed: once another person approves,
    paid again with a new idempotency key."""
    return _request_view(await approvals.request_retry(uow, refund_id, by.subject))


class ManualSettlementIn(Document):
    reference: str = Field(min_length=1, max_length=100, description="E.g. the bank transfer's reference")


@router.post("/refunds/{refund_id}/manual-settlement", status_code=202, response_model=ApprovalRequestView,
             responses=REQUEST_RESPONSES)
async def request_manual_settlement(refund_id: str, body: ManualSettlementIn, by: Clerk, uow: UnitOfWork) -> Any:
    """The customer was paid outside the provider: once another person approves, posted and announced like any
    issued refund."""
    return _request_view(await approvals.request_manual_settlement(uow, refund_id, body.reference, by.subject))


@router.get("/approval-requests", response_model=list[ApprovalRequestView], dependencies=[APPROVER_READERS])
async def approval_requests(uow: UnitOfWork, status: RequestStatus | None = None,
                            limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Any:
    """Corrections requested, oldest first; `status=requested` is the approvers' queue."""
    return [_request_view(request) for request in await uow.finance.requests(status, limit)]


@router.get("/approval-requests/{request_id}", response_model=ApprovalRequestView, dependencies=[APPROVER_READERS])
async def approval_request(request_id: RequestId, uow: UnitOfWork) -> Any:
    request = await uow.finance.request(request_id, lock=False)
    if request is None:
        raise approvals.RequestNotFound(f"no approval request {request_id}")
    return _request_view(request)


@router.post("/approval-requests/{request_id}/approve", response_model=ApprovalRequestView, responses={
    403: {"description": "The requester may not approve their own request (reason segregation_of_duties)"},
    409: {"description": "Already decided, or what it corrects changed meanwhile (nothing happened)"}})
async def approve_request(request_id: RequestId, by: Approver, uow: UnitOfWork) -> Any:
    """By a finance clerk or a supervisor other than the requester: the correction happens now, once."""
    return _request_view(await approvals.approve(uow, request_id, by.subject))


class DenialIn(Document):
    reason: str = Field(min_length=3, max_length=500, description="Why the correction is not made")


@router.post("/approval-requests/{request_id}/deny", response_model=ApprovalRequestView,
             responses={409: {"description": "Already decided"}})
async def deny_request(request_id: RequestId, body: DenialIn, by: Approver, uow: UnitOfWork) -> Any:
    """Nothing is corrected. The requester may deny (withdraw) their own request."""
    return _request_view(await approvals.deny(uow, request_id, body.reason, by.subject))


class InvoiceLineIn(Document):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)
    unit_price: Money = Field(ge=0, description="What the vendor bills per unit, e.g. \"12.40\"")


class VendorInvoiceIn(Document):
    invoice_id: str = Field(min_length=1, max_length=64, description="The vendor invoice's id: recorded once")
    po_id: str = Field(min_length=1, max_length=64, description="The purchase order it bills")
    vendor_id: str = Field(min_length=1, max_length=64)
    currency: CurrencyCode
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=1000)


class InvoicedLineView(BaseModel):
    sku: str
    quantity: int
    unit_price: Amount
    amount: Amount = Field(description="unit_price × quantity, rounded once")
    received_cost: Amount = Field(description="What the units were received at: taken out of GRNI")
    price_variance: Amount = Field(description="amount − received_cost, posted to purchase price variance (5150)")


class VendorInvoiceView(BaseModel):
    invoice_id: str
    po_id: str
    vendor_id: str
    currency: str
    lines: list[InvoicedLineView]
    amount: Amount = Field(description="Owed the vendor (2150)")
    received_cost: Amount
    price_variance: Amount
    entry_id: int = Field(description="The journal entry that posted it")
    recorded_by: str
    recorded_at: datetime


@router.post("/vendor-invoices", status_code=status.HTTP_201_CREATED, response_model=VendorInvoiceView, responses={
    200: {"description": "The same invoice sent again: what was recorded"},
    409: {"description": "Another invoice is recorded under this invoice_id"},
    422: {"description": "Malformed, or no three-way match: each line's field (`lines.N.quantity`: beyond what was "
                         "received and not invoiced yet; `currency`; `vendor_id`: the PO is another vendor's)"}})
async def record_invoice(body: VendorInvoiceIn, response: Response, by: Clerk, uow: UnitOfWork) -> Any:
    """A vendor's invoice for goods received against a purchase order, matched three ways: per SKU of the PO no
    more units than were received and not invoiced yet (two lines of one SKU share them). Posted once per
    invoice_id: Dr goods received not invoiced (2160) at the received cost, the difference to purchase price
    variance (5150), Cr vendor payables (2150) at the invoiced amount. Recorded by the token's subject."""
    invoice = VendorInvoice(body.invoice_id, body.po_id, body.vendor_id, body.currency, tuple(
        InvoiceLine(line.sku, line.quantity, line.unit_price) for line in body.lines))
    recorded, created = await record_vendor_invoice(uow, invoice, by.subject)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/vendor-invoices/{invoice.invoice_id}"
    return _invoice_view(recorded)


@router.get("/vendor-invoices/{invoice_id}", response_model=VendorInvoiceView, dependencies=[READERS])
async def vendor_invoice(invoice_id: Annotated[str, Path(min_length=1, max_length=64)], uow: UnitOfWork) -> Any:
    recorded = await uow.finance.invoice(invoice_id)
    if recorded is None:
        raise InvoiceNotFound(f"no vendor invoice {invoice_id}")
    return _invoice_view(recorded)


def _invoice_view(recorded) -> dict[str, Any]:
    lines = [{**line, "price_variance": str(Decimal(line["amount"]) - Decimal(line["received_cost"]))}
             for line in json.loads(recorded.lines)]
    return {**{name: getattr(recorded, name) for name in (
        "invoice_id", "po_id", "vendor_id", "currency", "entry_id", "recorded_by", "recorded_at")}, "lines": lines,
        **{total: str(sum((Decimal(line[total]) for line in lines), Decimal(0)))
           for total in ("amount", "received_cost", "price_variance")}}


class GrniLine(BaseModel):
    po_id: str
    sku: str
    currency: str
    received_quantity: int
    received_value: Amount
    invoiced_quantity: int
    invoiced_value: Amount = Field(description="The received cost of the units invoiced")
    billed_value: Amount = Field(description="What the vendor invoiced for them")
    price_variance: Amount = Field(description="billed_value − invoiced_value")
    open_quantity: int
    open_value: Amount = Field(description="Received and not invoiced yet")


class GrniTotals(BaseModel):
    currency: str
    open_value: Amount = Field(description="Over every PO")
    grni_in_ledger: Amount = Field(description="The credit balance of account 2160")
    ledger_agrees: bool


class GrniReport(BaseModel):
    lines: list[GrniLine]
    totals: list[GrniTotals]


@router.get("/grni", response_model=GrniReport, dependencies=[READERS])
async def goods_received_not_invoiced(
        uow: UnitOfWork, po_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        open_only: Annotated[bool, Query(description="Only PO lines with units not invoiced yet")] = False,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000, format: Format = Format.json) -> Any:
    """Goods received not invoiced per purchase order, SKU and currency of the received cost: received, invoiced
    and open, quantities and values; totals per currency beside the ledger's account 2160."""
    report = await uow.reports.grni(po_id, open_only, limit)
    return _csv(report["lines"], "grni") if format is Format.csv else _json(report)


class PendingPosting(BaseModel):
    event_id: str
    message_type: str
    occurred_at: datetime
    payload: str = Field(description="The fact, as JSON")
    waiting_for: str = Field(description="order:<id>, rma:<id>, cost:<sku> (e.g. goods received at no cost yet) or "
                                         "review:<problem>")
    parked_at: datetime


@router.get("/postings/pending", response_model=list[PendingPosting], dependencies=[READERS])
async def pending_postings(uow: UnitOfWork) -> Any:
    """Facts not posted yet and what each waits for: order:<id>, rma:<id>, cost:<sku> (set it under /v1/costs)
    or review:<problem> (a person must look)."""
    return [dict(row._mapping) for row in await uow.finance.parked_rows()]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive


def accounting_period(
        period: Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                                            description="A calendar month, e.g. 2026-11")] = None,
        start: Annotated[date | None, Query(alias="from", description="First day (UTC)")] = None,
        end: Annotated[date | None, Query(alias="to", description="Day after the last (exclusive)")] = None,
) -> Period | None:
    """period=YYYY-MM, or from and to; none of them: all time."""
    if period:
        year, month = map(int, period.split("-"))
        if not 1 <= year <= 9998:  # a date's year runs from 1 to 9999, and the period ends in the next month
            raise HTTPException(422, [{"loc": ["query", "period"], "msg": "the year must be from 0001 to 9998",
                                       "type": "value_error"}])
        start, end = date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
    if start is None and end is None:
        return None
    if start is None or end is None or start >= end:
        raise HTTPException(422, [{"loc": ["query", "from"], "msg": "give period=YYYY-MM, or both from and to, "
                                                                     "from before to"}])
    return Period(_midnight(start), _midnight(end))


AccountingPeriod = Annotated[Period | None, Depends(accounting_period)]


class AccountBalance(BaseModel):
    account: str
    name: str
    type: AccountType
    currency: str
    opening: Amount
    debits: Amount
    credits: Amount
    closing: Amount


class CurrencyTotals(BaseModel):
    currency: str
    debits: Amount
    credits: Amount
    balanced: bool


class TrialBalance(BaseModel):
    start: ReportTime = Field(alias="from")
    end: ReportTime = Field(alias="to", description="Exclusive")
    accounts: list[AccountBalance]
    totals: list[CurrencyTotals]


@router.get("/reports/trial-balance", response_model=TrialBalance, dependencies=[READERS])
async def trial_balance(uow: UnitOfWork, period: AccountingPeriod, format: Format = Format.json) -> Any:
    """Per account and currency: opening balance, debits, credits and closing balance for the period (UTC)."""
    if period is None:
        raise HTTPException(422, [{"loc": ["query", "period"], "msg": "give period=YYYY-MM, or from and to"}])
    report = await uow.reports.trial_balance(period.start, period.end)
    return _csv(report["accounts"], "trial-balance") if format is Format.csv else _json(report)


class ReconciledRefund(BaseModel):
    refund_id: str
    rma_id: str
    order_id: str
    channel: str
    amount: Amount
    currency: str
    status: RefundStatus
    timing: str
    approved_by: str
    approved_at: ReportTime
    issued_at: ReportTime | None
    provider_reference: str | None
    matched_return: bool
    received_at: ReportTime | None
    inspected_at: ReportTime | None
    before_inspection: bool
    no_receipt: bool


class ReconciliationTotals(BaseModel):
    currency: str
    pending: Amount
    issued: Amount
    failed: Amount
    refunds_payable_in_ledger: Amount
    ledger_agrees: bool = Field(description="The ledger's refunds payable are what is pending and failed")


class RefundReconciliation(BaseModel):
    refunds: list[ReconciledRefund]
    issued_before_inspection: list[ReconciledRefund]
    no_receipt_after_days: list[ReconciledRefund]
    unmatched: list[ReconciledRefund]
    totals: list[ReconciliationTotals]


@router.get("/reports/refund-reconciliation", response_model=RefundReconciliation, dependencies=[READERS])
async def refund_reconciliation(request: Request, uow: UnitOfWork, no_receipt_days: Annotated[
        int | None, Query(ge=0, le=365, description="Flag refunds paid this long ago without any receipt")] = None,
        format: Format = Format.json) -> Any:
    days = request.app.state.runtime.settings.no_receipt_days if no_receipt_days is None else no_receipt_days
    report = await uow.reports.refund_reconciliation(datetime.now(UTC), days)
    return _csv(report["refunds"], "refund-reconciliation") if format is Format.csv else _json(report)


class RefundFinding(BaseModel):
    refund_id: str
    rma_id: str
    order_id: str
    amount: Amount
    currency: str


class OverPolicy(RefundFinding):
    allowed: Amount
    excess: Amount


class DuplicateAttempts(RefundFinding):
    attempts: int
    duplicate_requests: int
    declined_generations: int
    status: RefundStatus


class FeeNotCharged(RefundFinding):
    reason: str
    grades: list[str]
    conditions: list[str]
    timing: str


class RefundLeakage(BaseModel):
    over_policy: list[OverPolicy]
    duplicate_attempts: list[DuplicateAttempts]
    fees_not_charged: list[FeeNotCharged]


@router.get("/reports/refund-leakage", response_model=RefundLeakage, dependencies=[READERS])
async def refund_leakage(request: Request, uow: UnitOfWork, format: Format = Format.json) -> Any:
    """Refunds above the price paid, repeated attempts and approvals, restocking fees not charged."""
    settings = request.app.state.runtime.settings
    report = await uow.reports.leakage(FeeRule(frozenset(settings.retailer_fault_reasons),
                                               frozenset(settings.fee_grades), frozenset(settings.fee_conditions)))
    if format is Format.csv:
        return _csv([{"finding": name, **row} for name, rows in report.items() for row in rows], "refund-leakage")
    return _json(report)


class ApprovedNotRefunded(BaseModel):
    refund_id: str
    rma_id: str
    amount: Amount
    currency: str
    status: RefundStatus
    approved_at: ReportTime
    last_error: str | None


class AuthorizedNotReceived(BaseModel):
    rma_id: str
    order_id: str
    channel: str
    authorized_at: ReportTime
    units_outstanding: int
    value: Amount | None = Field(description="None while the order is not known")
    currency: str | None
    refund_already_approved: bool


class LiabilityTotals(BaseModel):
    currency: str
    approved_not_refunded: Amount
    authorized_not_received: Amount


class ReturnLiability(BaseModel):
    approved_not_refunded: list[ApprovedNotRefunded]
    authorized_not_received: list[AuthorizedNotReceived]
    totals: list[LiabilityTotals]


@router.get("/reports/return-liability", response_model=ReturnLiability, dependencies=[READERS])
async def return_liability(uow: UnitOfWork, format: Format = Format.json) -> Any:
    """Refunds approved and not paid yet, and units authorized for return and not received yet."""
    report = await uow.reports.pending_liability()
    if format is Format.csv:
        return _csv([{"bucket": "approved_not_refunded", **row} for row in report["approved_not_refunded"]]
                    + [{"bucket": "authorized_not_received", **row} for row in report["authorized_not_received"]],
                    "return-liability")
    return _json(report)


class MarginDimension(StrEnum):
    sku = "sku"
    channel = "channel"
    reason = "reason"


class ReturnMargin(BaseModel):
    """One of sku, channel and reason: the one asked for."""

    sku: str | None = None
    channel: str | None = None
    reason: str | None = None
    currency: str
    refunds: Amount
    fees_kept: Amount
    write_offs: Amount
    recovered_value: Amount
    freight: Amount
    return_freight: Amount = Field(description="Return labels the retailer paid")
    fees_reversed: Amount = Field(description="Marketplace commission the channel gave back on the refunds")
    tax_refunded: Amount = Field(description="Sales tax refunded: not margin, shown apart from refunds")
    margin_impact: Amount


# exclude_unset: a row has only the dimension asked for
@router.get("/reports/return-margin", response_model=list[ReturnMargin], response_model_exclude_unset=True,
            dependencies=[READERS])
async def return_margin(uow: UnitOfWork, period: AccountingPeriod,
                        by: MarginDimension = MarginDimension.sku, format: Format = Format.json) -> Any:
    """What returns cost per SKU, channel or reason: refunds, fees kept, write-offs, recovered value, freight,
    return freight, marketplace fees reversed, tax refunded (apart: it is no margin), and the margin impact
    (recovered value − refunds − freight − return freight + fees reversed); for the period's entries, or all
    time."""
    rows = await uow.reports.margin_impact(by.value, *(period.start, period.end) if period else ())
    return _csv(rows, f"return-margin-by-{by.value}") if format is Format.csv else _json(rows)


def _request_view(request) -> dict[str, Any]:
    return asdict(request)


def _line_view(line) -> dict[str, Any]:
    view = dict(line._mapping)
    view.pop("entry_id", None)
    return view


def _json(value: Any, currency: str | None = None) -> Any:
    """Money as decimal strings in the currency's minor units (JSON numbers would be floats)."""
    if isinstance(value, dict):
        currency = value.get("currency", currency)
        return {key: _json(item, currency) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item, currency) for item in value]
    if isinstance(value, Decimal):
        return str(to_minor_unit(value, currency) if currency else value.normalize())
    return value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in _json(rows):
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="{name}.csv"'})


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(map(str, value))
    return value
