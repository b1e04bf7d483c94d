"""Finance staff's changes to the books: unit costs, and reversals of wrong entries (entries never change)."""

from datetime import UTC, datetime

from ecomops_common.errors import Conflict, NotFound
from finance_service.domain.journal import reversal
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


async def reverse_entry(uow: FinanceUnitOfWork, entry_id: int, reason: str, actor: str) -> int:
    """Posts the entry that cancels entry `entry_id`; returns the reversal's id."""
    found = await uow.finance.entry(entry_id)
    if found is None:
        raise EntryNotFound(f"no journal entry {entry_id}")
    ids = await uow.finance.post([reversal(found[1], datetime.now(UTC), f"{reason} ({actor})")], actor,
                                 datetime.now(UTC))
    if not ids:
        raise AlreadyReversed(f"journal entry {entry_id} is already reversed")
    await uow.commit()
    return ids[0]
