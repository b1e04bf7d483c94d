"""Finance staff's changes to the books: unit costs, and reversals of wrong entries (entries never change; a
reversal takes a second person's approval, service_layer/approvals.py)."""

from datetime import UTC, datetime

from ecomops_common.errors import Conflict, NotFound
from finance_service.domain.approvals import ApprovalRequest
from finance_service.domain.journal import JournalEntry, check_reversible, reversal
from finance_service.domain.postings import UnitCost
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork


class EntryNotFound(NotFound):
    pass


class AlreadyReversed(Conflict):
    pass


async def set_unit_cost(uow: FinanceUnitOfWork, sku: str, cost: UnitCost, actor: str) -> None:
    """Used for facts posted from now on; the parked-facts job posts those that waited for it."""
    await uow.finance.set_unit_cost(sku, cost, actor, datetime.now(UTC))
    await uow.commit()


async def reversible_entry(uow: FinanceUnitOfWork, entry_id: int) -> JournalEntry:
    """The entry a reversal may cancel: it exists, is no reversal itself and has none yet."""
    found = await uow.finance.entry(entry_id)
    if found is None:
        raise EntryNotFound(f"no journal entry {entry_id}")
    entry = found[1]
    check_reversible(entry)
    if await uow.finance.reversed(f"{entry.kind}:{entry.source_id}"):
        raise AlreadyReversed(f"journal entry {entry_id} is already reversed")
    return entry


async def reverse_entry(uow: FinanceUnitOfWork, request: ApprovalRequest) -> int:
    """An approved reversal: posts (by the approver) the entry that cancels the request's entry and returns its
    id. The caller commits."""
    entry = await reversible_entry(uow, int(request.target_id))
    now = datetime.now(UTC)
    ids = await uow.finance.post([reversal(entry, now, f"{request.reason} (requested by {request.requested_by}, "
                                                       f"approved by {request.decided_by})")], request.decided_by, now)
    if not ids:  # reversed meanwhile by another transaction
        raise AlreadyReversed(f"journal entry {request.target_id} is already reversed")
    return ids[0]
