"""Two-step corrections (domain/approvals.py): a finance clerk requests a refund retry, a manual settlement or a
journal reversal; a second person approves or denies it. Only the approval acts, in the transaction that records
it, so a correction happens once or not at all."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from ecomops_common.errors import Conflict, NotFound
from finance_service.domain.approvals import ApprovalRequest, RequestKind, entry_target, refund_target
from finance_service.service_layer.journal import reverse_entry, reversible_entry
from finance_service.service_layer.payouts import failed_refund, retry_refund, settle_refund_manually
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork


class RequestNotFound(NotFound):
    pass


class AlreadyRequested(Conflict):
    """A refund or an entry has one open request at a time."""


async def request_retry(uow: FinanceUnitOfWork, refund_id: str, by: str) -> ApprovalRequest:
    await failed_refund(uow, refund_id)
    return await _open(uow, ApprovalRequest(RequestKind.refund_retry, refund_target(refund_id), by, _now()))


async def request_manual_settlement(uow: FinanceUnitOfWork, refund_id: str, reference: str,
                                    by: str) -> ApprovalRequest:
    await failed_refund(uow, refund_id)
    return await _open(uow, ApprovalRequest(RequestKind.manual_settlement, refund_target(refund_id), by, _now(),
                                            reference=reference))


async def request_reversal(uow: FinanceUnitOfWork, entry_id: int, reason: str, by: str) -> ApprovalRequest:
    await reversible_entry(uow, entry_id)
    return await _open(uow, ApprovalRequest(RequestKind.journal_reversal, entry_target(entry_id), by, _now(),
                                            reason=reason))


async def _retry(uow: FinanceUnitOfWork, request: ApprovalRequest) -> str:
    return (await retry_refund(uow, request)).idempotency_key


async def _settle(uow: FinanceUnitOfWork, request: ApprovalRequest) -> str:
    return (await settle_refund_manually(uow, request)).provider_reference


async def _reverse(uow: FinanceUnitOfWork, request: ApprovalRequest) -> str:
    return entry_target(await reverse_entry(uow, request))


# What an approval does, answering its outcome: the retry's new idempotency key, the settlement's reference or the
# reversing entry.
EFFECTS: dict[RequestKind, Callable[[FinanceUnitOfWork, ApprovalRequest], Awaitable[str]]] = {
    RequestKind.refund_retry: _retry, RequestKind.manual_settlement: _settle, RequestKind.journal_reversal: _reverse}


async def approve(uow: FinanceUnitOfWork, request_id: int, by: str) -> ApprovalRequest:
    """By anyone but the requester (403 segregation_of_duties); the correction happens now, or nothing does (e.g.
    the refund was acted on meanwhile: 409, and the request stays open to be denied)."""
    request = await _request(uow, request_id)
    request.approve(by, _now())
    request.outcome = await EFFECTS[request.kind](uow, request)
    await uow.finance.save_request(request)
    await uow.commit()
    return request


async def deny(uow: FinanceUnitOfWork, request_id: int, note: str, by: str) -> ApprovalRequest:
    request = await _request(uow, request_id)
    request.deny(by, _now(), note)
    await uow.finance.save_request(request)
    await uow.commit()
    return request


async def _open(uow: FinanceUnitOfWork, request: ApprovalRequest) -> ApprovalRequest:
    request.id = await uow.finance.add_request(request)
    if request.id is None:
        waiting = await uow.finance.open_request(request.target)
        raise AlreadyRequested(f"{request.target} already waits for approval" + (
            f": request {waiting.id} ({waiting.kind}) by {waiting.requested_by}" if waiting else ""))
    await uow.commit()
    return request


async def _request(uow: FinanceUnitOfWork, request_id: int) -> ApprovalRequest:
    request = await uow.finance.request(request_id)
    if request is None:
        raise RequestNotFound(f"no approval request {request_id}")
    return request


def _now() -> datetime:
    return datetime.now(UTC)
