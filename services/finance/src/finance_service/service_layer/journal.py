"""Posting to the journal, which announces each new entry; finance staff's changes to the books: unit costs of SKUs
the SKU master does not cost (each announced as UnitCostChanged), channel fee rules, and reversals of wrong entries
(entries never change; a reversal takes a second person's approval, service_layer/approvals.py)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from ecomops_common.contracts import FINANCE_EVENTS
from ecomops_common.contracts.finance import JournalEntryPosted, UnitCostChanged
from ecomops_common.contracts.finance import JournalLine as PostedLine
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.errors import Conflict, NotFound
from finance_service.domain.approvals import ApprovalRequest
from finance_service.domain.journal import JournalEntry, check_reversible, reversal
from finance_service.domain.money import ZERO
from finance_service.domain.postings import ChannelFees, UnitCost
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork

SOURCE = "finance-service"
MAX_POSTED_LINES = JournalEntryPosted.model_fields["lines"].metadata[0].max_length


async def post(uow: FinanceUnitOfWork, entries: Sequence[JournalEntry], posted_by: str, now: datetime) -> list[int]:
    """Appends the entries (one whose fact is in the journal already is skipped) and publishes JournalEntryPosted
    for each new one, made from the entry in hand: no query per entry. Returns the new entry ids, in the order
    given."""
    posted = await uow.finance.post(entries, posted_by, now)
    for entry_id, entry in posted:
        uow.emit(entry_posted(entry_id, entry, now), FINANCE_EVENTS)
    return [entry_id for entry_id, _ in posted]


def entry_posted(entry_id: int, entry: JournalEntry, posted_at: datetime) -> EventEnvelope:
    """The entry as JournalEntryPosted (key: its order, else its RMA, else the entry). Its currency is that of its
    first line (an entry in two currencies, e.g. a sale at a cost in another, states the first one's debits). Lines
    beyond what the contract carries (a shipment of hundreds of lines) are summed per account and side."""
    currency = entry.lines[0].currency
    lines = [(line.account, line.debit, line.credit) for line in entry.lines]
    if len(lines) > MAX_POSTED_LINES:
        lines = _per_account(lines)
    order_id, rma_id = entry.dims.order_id, entry.dims.rma_id
    aggregate_type, key = ("order", order_id) if order_id else ("return", rma_id) if rma_id \
        else ("journal_entry", str(entry_id))
    return new_event("JournalEntryPosted", 1, SOURCE, aggregate_type, key, JournalEntryPosted(
        entry_id=str(entry_id), order_id=order_id, rma_id=rma_id, kind=entry.kind, currency=currency,
        amount=entry.totals()[currency][0], posted_at=posted_at,
        lines=[PostedLine(account=account, debit=debit, credit=credit) for account, debit, credit in lines]))


def _per_account(lines: list[tuple[str, Decimal, Decimal]]) -> list[tuple[str, Decimal, Decimal]]:
    """Debits and credits summed per account, each side a line of its own, in the order accounts first appear."""
    sums: dict[tuple[str, bool], Decimal] = {}
    for account, debit, credit in lines:
        sums[account, True] = sums.get((account, True), ZERO) + debit
        sums[account, False] = sums.get((account, False), ZERO) + credit
    return [(account, amount, ZERO) if is_debit else (account, ZERO, amount)
            for (account, is_debit), amount in sums.items() if amount]


class EntryNotFound(NotFound):
    pass


class AlreadyReversed(Conflict):
    pass


class CostFromCatalog(Conflict):
    """The SKU master costs this SKU: its cost changes there, not by hand."""


async def set_unit_cost(uow: FinanceUnitOfWork, sku: str, cost: UnitCost, actor: str) -> None:
    """A cost set by hand, for a SKU the SKU master does not cost. Used for facts posted from now on; the
    parked-facts job posts those that waited for it."""
    revision = await uow.finance.catalog_cost_revision(sku)
    if revision is not None:
        raise CostFromCatalog(f"the unit cost of {sku} comes from the SKU master (catalog revision {revision}); "
                              "change it in the catalog")
    await record_unit_cost(uow, sku, cost, actor, datetime.now(UTC))
    await uow.commit()


async def record_unit_cost(uow: FinanceUnitOfWork, sku: str, cost: UnitCost, actor: str, at: datetime) -> None:
    """Stores the SKU's cost and announces it: the warehouse values write-offs by it, returns its vendor claims.
    The caller commits."""
    await uow.finance.set_unit_cost(sku, cost, actor, at)
    uow.emit(new_event("UnitCostChanged", 1, SOURCE, "unit_cost", sku, UnitCostChanged(
        sku=sku, amount=cost.amount, currency=cost.currency, at=at)), FINANCE_EVENTS)


async def set_channel_fees(uow: FinanceUnitOfWork, channel: str, fees: ChannelFees, actor: str) -> None:
    """Applies to shipments and refunds posted from now on."""
    await uow.finance.set_channel_fees(channel, fees, actor, datetime.now(UTC))
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
    ids = await post(uow, [reversal(entry, now, f"{request.reason} (requested by {request.requested_by}, "
                                                f"approved by {request.decided_by})")], request.decided_by, now)
    if not ids:  # reversed meanwhile by another transaction
        raise AlreadyReversed(f"journal entry {request.target_id} is already reversed")
    return ids[0]
