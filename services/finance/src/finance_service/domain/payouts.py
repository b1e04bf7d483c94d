"""Refund payouts: what finance asks a payment provider and what the provider can answer. Plain Python.

A provider call has three outcomes. `paid` and `declined` are final. `unknown` (a timeout, a 5xx, a dropped
connection) means the money may or may not have moved: the refund is asked again with the same idempotency
key, and the provider answers the first result instead of paying twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from finance_service.domain.accounts import ORIGINAL_PAYMENT, STORE_CREDIT_METHOD


class ProviderOutcome(StrEnum):
    paid = "paid"
    declined = "declined"
    unknown = "unknown"


@dataclass(frozen=True)
class RefundInstruction:
    idempotency_key: str
    refund_id: str
    rma_id: str
    order_id: str
    customer_id: str
    amount: Decimal
    currency: str
    method: str = ORIGINAL_PAYMENT  # or another the refund approver agreed, e.g. bank_transfer


@dataclass(frozen=True)
class ProviderResult:
    outcome: ProviderOutcome
    reference: str | None = None  # the provider's id of the payment, when paid
    code: str | None = None  # why it was declined or is unknown, e.g. card_closed, timeout
    message: str | None = None


def idempotency_key(rma_id: str, refund_id: str, generation: int = 0) -> str:
    """One key per refund; a new generation only after a final decline, when nothing was paid."""
    key = f"refund:{rma_id}:{refund_id}"
    return key if generation == 0 else f"{key}:{generation}"


class RefundStatus(StrEnum):
    held = "held"  # unpaid until checked against its return and order (domain/refund_checks.py); hold_reason
    refused = "refused"  # failed that check: never paid; hold_reason says why
    pending = "pending"  # to be paid out (again, after an unknown outcome)
    issued = "issued"
    failed = "failed"  # declined for good: finance staff retry it or settle it by other means


# Refunds finance pays or paid: they take from what the customer paid for the order.
PAYABLE = (RefundStatus.pending, RefundStatus.failed, RefundStatus.issued)


@dataclass
class Refund:
    """An approved refund and its payout. Paid at most once: every attempt of one generation uses one
    idempotency key, and a new generation starts only after a final decline, when nothing was paid."""

    refund_id: str
    rma_id: str
    order_id: str
    channel: str
    customer_id: str
    amount: Decimal
    currency: str
    reason: str
    timing: str
    approved_at: datetime
    status: RefundStatus = RefundStatus.pending
    generation: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider_reference: str | None = None
    issued_at: datetime | None = None
    last_error: str | None = None
    duplicate_requests: int = 0  # approvals received again for this refund id
    hold_reason: str | None = None  # why a held refund waits, or why a refused one is refused
    method: str = ORIGINAL_PAYMENT  # how it is paid: store_credit is issued by finance, others by the provider

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.rma_id, self.refund_id, self.generation)

    def instruction(self) -> RefundInstruction:
        return RefundInstruction(self.idempotency_key, self.refund_id, self.rma_id, self.order_id,
                                 self.customer_id, self.amount, self.currency, self.method)

    def record(self, result: ProviderResult, now: datetime, retry_after: timedelta) -> bool:
        """Applies the provider's answer; True when the refund was paid now."""
        if self.status is not RefundStatus.pending:
            return False
        self.attempts += 1
        if result.outcome is ProviderOutcome.paid:
            self.status, self.provider_reference, self.issued_at = RefundStatus.issued, result.reference, now
            self.last_error = None
            return True
        self.last_error = f"{result.code}: {result.message}" if result.message else result.code
        if result.outcome is ProviderOutcome.declined:
            self.status = RefundStatus.failed
        else:
            # Unknown: the money may have moved. Ask again later with the same key; never a new one.
            self.next_attempt_at = now + retry_after * min(2 ** (self.attempts - 1), 12)
        return False

    def retry(self) -> None:
        """Staff retry after a final decline (e.g. the customer gave new card details): a new key."""
        if self.status is not RefundStatus.failed:
            raise ValueError(f"refund {self.refund_id} is {self.status}, only a failed refund is retried")
        self.status, self.generation, self.next_attempt_at = RefundStatus.pending, self.generation + 1, None

    def pay_back_like(self, order_payment_method: str) -> None:
        """Back to the original payment of an order paid with store credit is store credit again."""
        if self.method == ORIGINAL_PAYMENT and order_payment_method == STORE_CREDIT_METHOD:
            self.method = STORE_CREDIT_METHOD

    def issue_as_store_credit(self, reference: str, now: datetime) -> None:
        """Paid as store credit, at once and by finance itself: no provider call."""
        if self.status is not RefundStatus.pending:
            raise ValueError(f"refund {self.refund_id} is {self.status}, only a payable refund is issued")
        self.status, self.provider_reference, self.issued_at = RefundStatus.issued, reference, now

    def settle_manually(self, reference: str, now: datetime) -> None:
        """Paid outside the provider (e.g. bank transfer) after a final decline."""
        if self.status is not RefundStatus.failed:
            raise ValueError(f"refund {self.refund_id} is {self.status}, only a failed refund is settled by hand")
        self.status, self.provider_reference, self.issued_at = RefundStatus.issued, reference, now
