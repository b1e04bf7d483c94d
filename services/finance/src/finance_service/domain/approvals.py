"""Segregation of duties on finance staff's corrections: the requester of a refund retry, a manual settlement or
a journal reversal may not approve it. A finance clerk requests; another finance clerk or a supervisor approves,
and only that approval changes money or the books, once. Plain Python."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ecomops_common.errors import Conflict, Forbidden


class RequestKind(StrEnum):
    refund_retry = "refund_retry"  # pay a declined refund again, with a new idempotency key
    manual_settlement = "manual_settlement"  # a declined refund was paid outside the provider
    journal_reversal = "journal_reversal"  # cancel a wrong entry (a write-off of what it posted)


class RequestStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    denied = "denied"


class RequestDecided(Conflict):
    """A request is approved or denied once."""


def refund_target(refund_id: str) -> str:
    return f"refund:{refund_id}"


def entry_target(entry_id: int) -> str:
    return f"entry:{entry_id}"


@dataclass
class ApprovalRequest:
    kind: RequestKind
    target: str  # refund:<refund id> or entry:<journal entry id>; one open request per target
    requested_by: str
    requested_at: datetime
    reason: str | None = None  # why (a reversal's reason)
    reference: str | None = None  # a manual settlement's payment reference
    id: int | None = None
    status: RequestStatus = RequestStatus.requested
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    outcome: str | None = None  # what the approval did: a new idempotency key, a reference, a reversing entry

    @property
    def target_id(self) -> str:
        return self.target.partition(":")[2]

    def approve(self, by: str, at: datetime) -> None:
        if by == self.requested_by:
            raise Forbidden("segregation_of_duties", f"{by} requested {self.kind} {self.id} and may not approve it: "
                                                     "another finance clerk or a supervisor approves it")
        self._decide(RequestStatus.approved, by, at, None)

    def deny(self, by: str, at: datetime, note: str) -> None:
        """By whoever may approve, the requester included (who withdraws it): nothing happens."""
        self._decide(RequestStatus.denied, by, at, note)

    def _decide(self, status: RequestStatus, by: str, at: datetime, note: str | None) -> None:
        if self.status is not RequestStatus.requested:
            raise RequestDecided(f"request {self.id} was already {self.status} by {self.decided_by}")
        self.status, self.decided_by, self.decided_at, self.decision_note = status, by, at, note
