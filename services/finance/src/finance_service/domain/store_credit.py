"""Store credit: a customer's balance per currency, changed only by movements. Plain Python.

A refund paid as store credit issues it; an order paid with it redeems it (or is declined when the balance is
short); a redeemed order cancelled restores it. Each movement has an id made of what it is about (the refund, the
order), so a fact delivered again finds its movement already there and changes nothing: issued exactly once per
refund, one redemption decision per order, restored at most once.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

INSUFFICIENT = "insufficient_store_credit"


class MovementKind(StrEnum):
    issued = "issued"
    redeemed = "redeemed"
    declined = "declined"  # a redemption refused: the balance does not change
    restored = "restored"


@dataclass(frozen=True)
class Movement:
    movement_id: str
    customer_id: str
    kind: MovementKind
    amount: Decimal
    currency: str
    balance: Decimal  # after the movement
    at: datetime
    order_id: str | None = None
    rma_id: str | None = None
    refund_id: str | None = None
    reason: str | None = None


def issued_id(refund_id: str) -> str:
    return f"issued:{refund_id}"


def redemption_id(order_id: str) -> str:
    """Redeemed or declined: one decision per order."""
    return f"redemption:{order_id}"


def restored_id(order_id: str) -> str:
    return f"restored:{order_id}"


@dataclass
class StoreCreditBalance:
    customer_id: str
    currency: str
    balance: Decimal

    def issue(self, amount: Decimal, refund_id: str, rma_id: str, order_id: str, at: datetime) -> Movement:
        self.balance += amount
        return Movement(issued_id(refund_id), self.customer_id, MovementKind.issued, amount, self.currency,
                        self.balance, at, order_id=order_id, rma_id=rma_id, refund_id=refund_id)

    def redeem(self, amount: Decimal, order_id: str, at: datetime) -> Movement:
        """Redeemed when the balance covers the whole amount, else declined (nothing is taken)."""
        if amount < 0 or self.balance < amount:
            return Movement(redemption_id(order_id), self.customer_id, MovementKind.declined, amount, self.currency,
                            self.balance, at, order_id=order_id, reason=INSUFFICIENT)
        self.balance -= amount
        return Movement(redemption_id(order_id), self.customer_id, MovementKind.redeemed, amount, self.currency,
                        self.balance, at, order_id=order_id)

    def restore(self, redeemed: Movement, at: datetime) -> Movement:
        self.balance += redeemed.amount
        return Movement(restored_id(redeemed.order_id), self.customer_id, MovementKind.restored, redeemed.amount,
                        self.currency, self.balance, at, order_id=redeemed.order_id, reason="order_cancelled")
