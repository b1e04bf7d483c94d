"""Paying approved refunds out through the payment provider, exactly once.

Due refunds are claimed with row locks (another replica skips them), the provider is called with each refund's
idempotency key, and the outcomes, the journal entries and `RefundIssued` (`RefundFailed` when declined) commit
together. A crash between the provider's payment and the commit leaves the refund pending: the next attempt uses
the same key and the provider answers with the payment it already made.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Literal

from prometheus_client import Counter

from ecomops_common.contracts import FINANCE_EVENTS
from ecomops_common.contracts.finance import RefundFailed, RefundIssued
from ecomops_common.envelope import new_event
from ecomops_common.errors import Conflict, NotFound
from finance_service.adapters.payment_provider import PaymentProvider
from finance_service.domain.approvals import ApprovalRequest
from finance_service.domain.payouts import ProviderOutcome, ProviderResult, Refund, RefundStatus
from finance_service.domain.postings import post_refund_issued
from finance_service.service_layer.journal import SOURCE, post
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork

log = logging.getLogger(__name__)
PAYOUT_ANSWERS = Counter("ecomops_refund_payout_answers_total", "Payment provider answers to refund payouts: "
                         "paid, declined (a refund for finance staff) or unknown (asked again)", ["outcome"])
# Payouts hold their refunds' row locks across the provider calls, so they open their own transactions.
NewUnitOfWork = Callable[[], AbstractAsyncContextManager[FinanceUnitOfWork]]


class RefundNotFound(NotFound):
    pass


class RefundNotFailed(Conflict):
    """Staff act only on a refund declined for good."""


async def pay_out_due_refunds(unit_of_work: NewUnitOfWork, provider: PaymentProvider, *, batch_size: int,
                              concurrency: int, retry_after: timedelta) -> int:
    """One round: returns how many refunds were attempted (a full batch means: go again)."""
    async with unit_of_work() as uow:
        refunds = await uow.finance.due_refunds(_now(), batch_size)
        if not refunds:
            return 0
        slots = asyncio.Semaphore(concurrency)

        async def attempt(refund: Refund) -> ProviderResult:
            async with slots:
                try:
                    return await provider.refund(refund.instruction())
                except Exception as error:  # whatever went wrong, the money may have moved: ask again later
                    log.exception("payment provider call failed for refund %s", refund.refund_id)
                    return ProviderResult(ProviderOutcome.unknown, code="error", message=type(error).__name__)

        results = await asyncio.gather(*(attempt(refund) for refund in refunds))
        for result in results:
            PAYOUT_ANSWERS.labels(outcome=result.outcome).inc()
        now = _now()
        paid = [refund for refund, result in zip(refunds, results, strict=True)
                if refund.record(result, now, retry_after)]
        for refund in refunds:
            if refund.status is RefundStatus.failed:
                log.error("refund %s of %s declined for good (%s): finance staff must retry or settle it",
                          refund.refund_id, refund.rma_id, refund.last_error)
                announce_failure(uow, refund, "declined", refund.last_error or "declined", now)
        await uow.finance.save_refunds(refunds)
        await issue(uow, paid)
        await uow.commit()
        return len(refunds)


async def issue(uow: FinanceUnitOfWork, refunds: list[Refund], posted_by: str = "system") -> None:
    """Paid refunds: the entry that settles the liability and `RefundIssued` for returns and orders."""
    await post(uow, [post_refund_issued(
        r.refund_id, r.order_id, r.rma_id, r.channel, r.reason, r.currency, r.amount, r.provider_reference,
        r.issued_at) for r in refunds], posted_by, _now())
    for refund in refunds:
        announce_issued(uow, refund)


def announce_issued(uow: FinanceUnitOfWork, refund: Refund) -> None:
    """`RefundIssued`: the returns service settles the RMA, whether paid out or issued as store credit."""
    uow.emit(new_event("RefundIssued", 1, SOURCE, "return", refund.rma_id, RefundIssued(
        refund_id=refund.refund_id, rma_id=refund.rma_id, order_id=refund.order_id, amount=refund.amount,
        currency=refund.currency, provider_reference=refund.provider_reference, issued_at=refund.issued_at)),
        FINANCE_EVENTS)


def announce_failure(uow: FinanceUnitOfWork, refund: Refund, outcome: Literal["declined", "held", "refused"],
                     reason: str, at: datetime) -> None:
    """A refund not paid, for finance staff: declined by the provider, or held or refused by finance's checks.
    `reason` starts with its code, e.g. card_closed, order_unknown, exceeds_payment."""
    uow.emit(new_event("RefundFailed", 1, SOURCE, "return", refund.rma_id, RefundFailed(
        refund_id=refund.refund_id, rma_id=refund.rma_id, order_id=refund.order_id, amount=refund.amount,
        currency=refund.currency, outcome=outcome, reason=reason, at=at)), FINANCE_EVENTS)


async def pay_out_until_idle(unit_of_work: NewUnitOfWork, provider: PaymentProvider, *, batch_size: int,
                             concurrency: int, retry_after: timedelta) -> None:
    while await pay_out_due_refunds(unit_of_work, provider, batch_size=batch_size, concurrency=concurrency,
                                    retry_after=retry_after) >= batch_size:
        pass


async def retry_refund(uow: FinanceUnitOfWork, request: ApprovalRequest) -> Refund:
    """An approved retry after a final decline (e.g. the customer's payment details were fixed): paid again with
    a new key. The caller commits."""
    refund = await failed_refund(uow, request.target_id)
    refund.retry()
    refund.last_error = (f"retry requested by {request.requested_by}, approved by {request.decided_by}, after: "
                         f"{refund.last_error}")
    await uow.finance.save_refunds([refund])
    return refund


async def settle_refund_manually(uow: FinanceUnitOfWork, request: ApprovalRequest) -> Refund:
    """An approved manual settlement: the customer was paid outside the provider; posted (by the approver) and
    announced like any issued refund. The caller commits."""
    refund = await failed_refund(uow, request.target_id)
    refund.settle_manually(f"manual:{request.reference}", _now())
    await uow.finance.save_refunds([refund])
    await issue(uow, [refund], posted_by=request.decided_by)
    return refund


async def failed_refund(uow: FinanceUnitOfWork, refund_id: str) -> Refund:
    """The refund staff act on, locked until commit: only one declined for good."""
    refund = await uow.finance.refund(refund_id)
    if refund is None:
        raise RefundNotFound(f"no refund {refund_id}")
    if refund.status is not RefundStatus.failed:
        raise RefundNotFailed(f"refund {refund_id} is {refund.status}; only a failed refund can be acted on")
    return refund


def _now() -> datetime:
    return datetime.now(UTC)
