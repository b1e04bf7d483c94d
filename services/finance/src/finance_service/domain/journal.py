"""Journal entries: balanced per currency, immutable once posted; a correction is a reversing entry."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from ecomops_common.errors import Conflict
from ecomops_common.money import minor_unit
from finance_service.domain.accounts import ACCOUNTS
from finance_service.domain.money import ZERO


@dataclass(frozen=True)
class Dimensions:
    """What a line is about, for reports: any may be None."""

    order_id: str | None = None
    rma_id: str | None = None
    sku: str | None = None
    channel: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class JournalLine:
    account: str
    debit: Decimal
    credit: Decimal
    currency: str
    dims: Dimensions = Dimensions()
    memo: str | None = None

    @property
    def net(self) -> Decimal:
        return self.debit - self.credit


class UnbalancedEntry(ValueError):
    pass


class IrreversibleEntry(Conflict):
    """A reversal is not reversed: the right entry is posted instead."""


@dataclass(frozen=True)
class JournalEntry:
    """One entry per operational fact: `kind` and `source_id` name the fact (an event id, a refund id)."""

    kind: str
    source_id: str
    occurred_at: datetime
    lines: tuple[JournalLine, ...]
    description: str = ""
    reverses: str | None = None  # the source_id of the entry this one reverses
    dims: Dimensions = field(default_factory=Dimensions)

    def __post_init__(self) -> None:
        problems = entry_problems(self.lines)
        if problems:
            raise UnbalancedEntry(f"{self.kind} {self.source_id}: " + "; ".join(problems))

    def totals(self) -> dict[str, tuple[Decimal, Decimal]]:
        """(debits, credits) per currency."""
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for line in self.lines:
            sums[line.currency][0] += line.debit
            sums[line.currency][1] += line.credit
        return {currency: (d, c) for currency, (d, c) in sums.items()}


def entry_problems(lines: Iterable[JournalLine]) -> list[str]:
    """Why lines cannot form an entry (empty: they can)."""
    lines = list(lines)
    problems = [] if lines else ["an entry needs lines"]
    balance: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for number, line in enumerate(lines):
        if line.account not in ACCOUNTS:
            problems.append(f"line {number}: unknown account {line.account}")
        if line.debit < 0 or line.credit < 0 or (line.debit and line.credit):
            problems.append(f"line {number}: a line is a debit or a credit, never negative")
        if (line.debit + line.credit) % minor_unit(line.currency):
            problems.append(f"line {number}: {line.debit + line.credit} is not in {line.currency} minor units")
        balance[line.currency] += line.net
    problems += [f"{currency} debits and credits differ by {diff}" for currency, diff in balance.items() if diff]
    return problems


def signed_line(account: str, amount: Decimal, currency: str, dims: Dimensions = Dimensions(),
                memo: str | None = None) -> JournalLine:
    """A debit for a positive amount, a credit for a negative one."""
    return JournalLine(account, max(amount, ZERO), max(-amount, ZERO), currency, dims, memo)


def build_entry(kind: str, source_id: str, occurred_at: datetime, lines: Iterable[JournalLine], *,
                description: str = "", dims: Dimensions = Dimensions()) -> JournalEntry:
    """An entry without zero lines (a zero freight or fee posts nothing); a fact worth nothing at all (a unit
    costed at zero) keeps its zero lines, so the journal still shows it was posted."""
    lines = tuple(lines)
    return JournalEntry(kind, source_id, occurred_at, tuple(line for line in lines if line.debit or line.credit)
                        or lines, description, dims=dims)


def check_reversible(entry: JournalEntry) -> None:
    """A reversal is not reversed (post the right entry instead)."""
    if entry.kind == "reversal":
        raise IrreversibleEntry("a reversal cannot be reversed; post a correcting entry instead")


def reversal(entry: JournalEntry, occurred_at: datetime, reason: str) -> JournalEntry:
    """The entry that cancels `entry`: every line on the other side. Its source is the reversed entry, so an
    entry is reversed at most once."""
    check_reversible(entry)
    return JournalEntry(
        "reversal", f"{entry.kind}:{entry.source_id}", occurred_at,
        tuple(replace(line, debit=line.credit, credit=line.debit) for line in entry.lines),
        f"reverses {entry.kind} {entry.source_id}: {reason}", reverses=f"{entry.kind}:{entry.source_id}",
        dims=entry.dims)


def balances(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], Decimal]:
    """Net debit balance per (account, currency): what a trial balance shows."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        for line in entry.lines:
            totals[(line.account, line.currency)] += line.net
    return dict(totals)
