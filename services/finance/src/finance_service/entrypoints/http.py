"""HTTP API for finance staff, auditors and admins (every call carries the API token): the chart of accounts,
unit costs, the journal with reversals, refunds and their exceptions, facts waiting to be posted, and reports
as JSON or CSV (`?format=csv`)."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import Field, model_validator

from ecomops_common.contracts.types import INT8_MAX, CurrencyCode, Document, Money
from ecomops_common.http import require_api_token
from ecomops_common.money import to_minor_unit
from finance_service.domain.accounts import CHART
from finance_service.domain.journal import reversal
from finance_service.domain.leakage import FeeRule
from finance_service.domain.payouts import RefundStatus
from finance_service.domain.postings import UnitCost
from finance_service.service_layer.payouts import issue

router = APIRouter(prefix="/v1", tags=["finance"], dependencies=[Depends(require_api_token)])
Actor = Annotated[str, Header(alias="x-actor", min_length=1, max_length=128,
                              description="The person acting, recorded with the change")]
SKU = Annotated[str, Path(min_length=1, max_length=64)]
EntryId = Annotated[int, Path(ge=1, le=INT8_MAX)]


async def unit_of_work(request: Request) -> Callable:  # async: a plain def would run in a thread
    return request.app.state.unit_of_work


UnitOfWork = Annotated[Callable, Depends(unit_of_work)]


class Format(StrEnum):
    json = "json"
    csv = "csv"


@router.get("/accounts")
async def chart_of_accounts() -> list[dict[str, str]]:
    return [{"code": a.code, "name": a.name, "type": a.type} for a in CHART]


class UnitCostIn(Document):
    amount: Money = Field(description="Cost of one unit, e.g. \"12.40\"")
    currency: CurrencyCode
    liquidation_value: Money = Field(default=Decimal(0), description="What a liquidator pays for one unit")

    @model_validator(mode="after")
    def _not_negative(self) -> "UnitCostIn":
        if self.amount < 0 or self.liquidation_value < 0:
            raise ValueError("amount and liquidation_value must not be negative")
        return self


@router.put("/costs/{sku}")
async def set_unit_cost(sku: SKU, cost: UnitCostIn, actor: Actor, uow_factory: UnitOfWork) -> dict[str, Any]:
    """Used for shipments, returns and counts posted from now on; facts waiting for this cost are posted."""
    async with uow_factory() as uow:
        await uow.finance.set_unit_cost(sku, UnitCost(cost.amount, cost.currency, cost.liquidation_value), actor,
                                        datetime.now(UTC))
        await uow.commit()
    return {"sku": sku, **cost.model_dump(mode="json"), "updated_by": actor}


@router.get("/costs")
async def unit_costs(uow_factory: UnitOfWork) -> list[dict[str, Any]]:
    async with uow_factory() as uow:
        return _json([dict(row._mapping) for row in await uow.finance.all_unit_costs()])


@router.get("/journal")
async def journal(uow_factory: UnitOfWork, order_id: str | None = None, rma_id: str | None = None,
                  kind: str | None = None, after_id: Annotated[int, Query(ge=0, le=INT8_MAX)] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Entries with their lines, oldest first; page with after_id (the last id seen)."""
    async with uow_factory() as uow:
        entries = await uow.finance.entry_rows(order_id=order_id, rma_id=rma_id, kind=kind, after_id=after_id,
                                               limit=limit)
        lines = await uow.finance.line_rows([entry.id for entry in entries])
    by_entry: dict[int, list] = {}
    for line in lines:
        by_entry.setdefault(line.entry_id, []).append(_line_view(line))
    return _json([{**dict(entry._mapping), "lines": by_entry.get(entry.id, [])} for entry in entries])


@router.get("/journal/{entry_id}")
async def journal_entry(entry_id: EntryId, uow_factory: UnitOfWork) -> dict[str, Any]:
    async with uow_factory() as uow:
        found = await uow.finance.entry(entry_id)
        if found is None:
            raise HTTPException(404, f"no journal entry {entry_id}")
        lines = await uow.finance.line_rows([entry_id])
    return _json({**dict(found[0]._mapping), "lines": [_line_view(line) for line in lines]})


class ReversalIn(Document):
    reason: str = Field(min_length=3, max_length=500, description="Why the entry was wrong")


@router.post("/journal/{entry_id}/reversal", status_code=201)
async def reverse_entry(entry_id: EntryId, body: ReversalIn, actor: Actor, uow_factory: UnitOfWork) -> dict[str, Any]:
    """Entries are never changed: a wrong one is cancelled by a reversing entry (then post the right one)."""
    async with uow_factory() as uow:
        found = await uow.finance.entry(entry_id)
        if found is None:
            raise HTTPException(404, f"no journal entry {entry_id}")
        try:
            entry = reversal(found[1], datetime.now(UTC), f"{body.reason} ({actor})")
        except ValueError as error:
            raise HTTPException(409, str(error)) from None
        ids = await uow.finance.post([entry], actor, datetime.now(UTC))
        if not ids:
            raise HTTPException(409, f"journal entry {entry_id} is already reversed")
        await uow.commit()
    return await journal_entry(ids[0], uow_factory)


@router.get("/refunds")
async def refunds(uow_factory: UnitOfWork, status: RefundStatus | None = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    """`status=failed` is finance staff's exception queue: declined for good, to retry or settle by hand."""
    async with uow_factory() as uow:
        return _json([dict(row._mapping) for row in await uow.finance.refund_rows(status, limit)])


async def _failed_refund(uow, refund_id: str):
    refund = await uow.finance.refund(refund_id)
    if refund is None:
        raise HTTPException(404, f"no refund {refund_id}")
    if refund.status is not RefundStatus.failed:
        raise HTTPException(409, f"refund {refund_id} is {refund.status}; only a failed refund can be acted on")
    return refund


@router.post("/refunds/{refund_id}/retry")
async def retry_refund(refund_id: str, actor: Actor, uow_factory: UnitOfWork) -> dict[str, Any]:
    """After a final decline, e.g. once the customer's payment details are fixed: paid again with a new key."""
    async with uow_factory() as uow:
        refund = await _failed_refund(uow, refund_id)
        refund.retry()
        refund.last_error = f"retried by {actor} after: {refund.last_error}"
        await uow.finance.save_refunds([refund])
        await uow.commit()
    return {"refund_id": refund_id, "status": refund.status, "idempotency_key": refund.idempotency_key}


class ManualSettlementIn(Document):
    reference: str = Field(min_length=1, max_length=100, description="E.g. the bank transfer's reference")


@router.post("/refunds/{refund_id}/manual-settlement")
async def settle_refund_manually(refund_id: str, body: ManualSettlementIn, actor: Actor,
                                 uow_factory: UnitOfWork) -> dict[str, Any]:
    """The customer was paid outside the provider: posted and announced like any issued refund."""
    async with uow_factory() as uow:
        refund = await _failed_refund(uow, refund_id)
        refund.settle_manually(f"manual:{body.reference}", datetime.now(UTC))
        await uow.finance.save_refunds([refund])
        await issue(uow, [refund], posted_by=actor)
        await uow.commit()
    return {"refund_id": refund_id, "status": refund.status, "provider_reference": refund.provider_reference}


@router.get("/postings/pending")
async def pending_postings(uow_factory: UnitOfWork) -> list[dict[str, Any]]:
    """Facts not posted yet and what each waits for: order:<id>, rma:<id>, cost:<sku> (set it under /v1/costs)
    or review:<problem> (a person must look)."""
    async with uow_factory() as uow:
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


@router.get("/reports/trial-balance", response_model=None)
async def trial_balance(uow_factory: UnitOfWork, period: AccountingPeriod, format: Format = Format.json) -> Any:
    """Per account and currency: opening balance, debits, credits and closing balance for the period (UTC)."""
    if period is None:
        raise HTTPException(422, [{"loc": ["query", "period"], "msg": "give period=YYYY-MM, or from and to"}])
    async with uow_factory() as uow:
        report = await uow.reports.trial_balance(period.start, period.end)
    return _csv(report["accounts"], "trial-balance") if format is Format.csv else _json(report)


@router.get("/reports/refund-reconciliation", response_model=None)
async def refund_reconciliation(request: Request, uow_factory: UnitOfWork, no_receipt_days: Annotated[
        int | None, Query(ge=0, le=365, description="Flag refunds paid this long ago without any receipt")] = None,
        format: Format = Format.json) -> Any:
    days = request.app.state.runtime.settings.no_receipt_days if no_receipt_days is None else no_receipt_days
    async with uow_factory() as uow:
        report = await uow.reports.refund_reconciliation(datetime.now(UTC), days)
    return _csv(report["refunds"], "refund-reconciliation") if format is Format.csv else _json(report)


@router.get("/reports/refund-leakage", response_model=None)
async def refund_leakage(request: Request, uow_factory: UnitOfWork, format: Format = Format.json) -> Any:
    """Refunds above the price paid, repeated attempts and approvals, restocking fees not charged."""
    settings = request.app.state.runtime.settings
    async with uow_factory() as uow:
        report = await uow.reports.leakage(FeeRule(frozenset(settings.retailer_fault_reasons),
                                                   frozenset(settings.fee_grades), frozenset(settings.fee_conditions)))
    if format is Format.csv:
        return _csv([{"finding": name, **row} for name, rows in report.items() for row in rows], "refund-leakage")
    return _json(report)


@router.get("/reports/return-liability", response_model=None)
async def return_liability(uow_factory: UnitOfWork, format: Format = Format.json) -> Any:
    """Refunds approved and not paid yet, and units authorized for return and not received yet."""
    async with uow_factory() as uow:
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


@router.get("/reports/return-margin", response_model=None)
async def return_margin(uow_factory: UnitOfWork, period: AccountingPeriod,
                        by: MarginDimension = MarginDimension.sku, format: Format = Format.json) -> Any:
    """What returns cost per SKU, channel or reason: refunds, fees kept, write-offs, recovered value, freight,
    and the margin impact (recovered value − refunds − freight); for the period's entries, or all time."""
    async with uow_factory() as uow:
        rows = await uow.reports.margin_impact(by.value, *(period.start, period.end) if period else ())
    return _csv(rows, f"return-margin-by-{by.value}") if format is Format.csv else _json(rows)


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
