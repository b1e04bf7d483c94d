"""An order's life after intake: statuses, holds and the audited transitions between them."""

from dataclasses import dataclass, field
from datetime import datetime

from ecomops_common.contracts.orders import HoldReason, OrderStatus
from ecomops_common.errors import Conflict
from order_service.domain.catalog import UnknownSkuAction

S = OrderStatus
_BEFORE_SHIPMENT = {S.received, S.on_hold, S.awaiting_allocation, S.allocated, S.partially_allocated,
                    S.backordered, S.released_to_warehouse, S.picking, S.packed, S.exception}
ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.received: frozenset({S.on_hold, S.awaiting_allocation, S.rejected}),
    S.on_hold: frozenset({S.awaiting_allocation, S.rejected}),
    S.awaiting_allocation: frozenset({S.allocated, S.partially_allocated, S.backordered, S.on_hold, S.exception}),
    # Shrinkage re-sourcing can take stock away from an allocated order, a backorder filled gives it back.
    S.allocated: frozenset({S.partially_allocated, S.backordered, S.released_to_warehouse, S.awaiting_allocation,
                            S.exception}),
    S.partially_allocated: frozenset({S.allocated, S.backordered, S.released_to_warehouse, S.awaiting_allocation,
                                      S.exception}),
    S.backordered: frozenset({S.allocated, S.partially_allocated, S.exception}),
    S.released_to_warehouse: frozenset({S.picking, S.exception}),
    S.picking: frozenset({S.packed, S.exception}),
    S.packed: frozenset({S.shipped, S.exception}),
    S.shipped: frozenset({S.delivered, S.exception}),
    S.exception: frozenset({S.awaiting_allocation, S.on_hold}),
    S.delivered: frozenset(),
    S.cancelled: frozenset(),
    S.rejected: frozenset(),
}
# Cancellation (by channel or supervisor) is possible from every status before shipment.
ALLOWED = {status: targets | ({S.cancelled} if status in _BEFORE_SHIPMENT else set())
           for status, targets in ALLOWED.items()}

ALLOCATION_ACTOR = "allocation"
ALLOCATION_OUTCOMES = frozenset({S.allocated, S.partially_allocated, S.backordered})
# Only an order waiting for stock or holding it takes allocation results as its status; later on
# (released to the warehouse, ...) or off the path (on hold, cancelled, ...) its own status stands.
_TAKES_ALLOCATION_RESULTS = ALLOCATION_OUTCOMES | {S.awaiting_allocation}
VOID = frozenset({S.cancelled, S.rejected})  # orders that will never ship
# Paid from the customer's store credit, whose balance only finance keeps: neither the channel nor a payment update
# can settle such a payment, only finance redeeming (or declining) the credit (StoreCreditChanged).
STORE_CREDIT = "store_credit"
STORE_CREDIT_WAIT = "waiting for finance to redeem the store credit"


class LifecycleError(Conflict):
    """A command the order's current state does not allow; the message says why."""


@dataclass(frozen=True)
class Transition:
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class IntakePolicy:
    fraud_review_threshold: int = 80
    unknown_sku_action: UnknownSkuAction = UnknownSkuAction.hold  # for channels without a rule of their own


@dataclass
class OrderState:
    """The part of an order that moves: its status and holds; `changes` are the new transitions."""

    order_id: str
    status: OrderStatus
    holds: set[HoldReason] = field(default_factory=set)
    changes: list[Transition] = field(default_factory=list)
    payment_method: str | None = None  # as the channel sent it; None where no command depends on it

    def move(self, to_status: OrderStatus, actor: str, reason: str | None, at: datetime) -> None:
        if to_status not in ALLOWED[self.status]:
            raise LifecycleError(f"an order that is {self.status} cannot become {to_status}")
        self.changes.append(Transition(self.status, to_status, actor, reason, at))
        self.status = to_status

    def hold(self, holds: set[HoldReason], actor: str, at: datetime, note: str | None = None) -> None:
        """Holds stop allocation; an order without holds waits for allocation. `note`: what the holds wait for."""
        self.holds |= holds
        if self.holds:
            if self.status is not S.on_hold:
                self.move(S.on_hold, actor, ", ".join(sorted(self.holds)) + (f" ({note})" if note else ""), at)
        else:
            self.move(S.awaiting_allocation, actor, None, at)

    def release_hold(self, hold: HoldReason, actor: str, note: str | None, at: datetime) -> None:
        """A supervisor's release. A store-credit payment is not theirs to confirm: the order would ship whether or
        not finance redeems the credit (it may still be cancelled)."""
        if hold is HoldReason.payment_hold and self.payment_method == STORE_CREDIT and hold in self.holds:
            raise LifecycleError(f"order {self.order_id} is paid with {STORE_CREDIT}: only finance's store-credit "
                                 f"redemption releases its {hold}")
        self._release(hold, actor, note, at)

    def _release(self, hold: HoldReason, actor: str, note: str | None, at: datetime) -> None:
        if hold not in self.holds:
            raise LifecycleError(f"order {self.order_id} has no {hold}")
        self.holds.discard(hold)
        reason = f"{hold} released" + (f": {note}" if note else "")
        if not self.holds and self.status is S.on_hold:
            self.move(S.awaiting_allocation, actor, reason, at)
        else:  # other holds remain: the release is still part of the audit trail
            self.changes.append(Transition(self.status, self.status, actor, reason, at))

    def catalog_caught_up(self, actor: str, note: str, at: datetime) -> bool:
        """Every SKU the order waits for is known and active now: its inventory hold goes, the others stay.
        False, nothing changed, when it has none (released by a supervisor, cancelled)."""
        if HoldReason.inventory_hold not in self.holds:
            return False
        self._release(HoldReason.inventory_hold, actor, note, at)
        return True

    def payment_changed(self, payment_status: str, actor: str, at: datetime, detail: str | None = None) -> None:
        """A payment update (channel, connector, finance clerk); `detail` (amount, provider reference) goes into the
        audit trail with the change. Refused for store credit: only its redemption settles it."""
        if self.payment_method == STORE_CREDIT:
            raise LifecycleError(f"order {self.order_id} is paid with {STORE_CREDIT}: only finance's store-credit "
                                 f"redemption settles its payment, not a payment update")
        self._settle_payment(payment_status, f"payment {payment_status}" + (f" ({detail})" if detail else ""),
                             actor, at)

    def store_credit_settled(self, redeemed: bool, actor: str, at: datetime, detail: str) -> bool:
        """Finance redeemed the order's store credit (the payment counts as authorized) or declined it (as failed).
        False, nothing changed, when the order does not wait for it: not paid with store credit, or settled,
        cancelled or released already."""
        if self.payment_method != STORE_CREDIT or HoldReason.payment_hold not in self.holds:
            return False
        self._settle_payment("authorized" if redeemed else "failed",
                             f"store credit {'redeemed' if redeemed else 'declined'} ({detail})", actor, at)
        return True

    def _settle_payment(self, payment_status: str, note: str, actor: str, at: datetime) -> None:
        if payment_status in ("authorized", "captured"):
            if HoldReason.payment_hold in self.holds:
                self._release(HoldReason.payment_hold, actor, note, at)
        elif payment_status == "failed":
            self.holds.clear()
            self.move(S.rejected, actor, note, at)

    def allocation_changed(self, outcome: OrderStatus, reason: str, at: datetime) -> bool:
        """The allocation service's result; False (nothing recorded) when the order's status does not take it.

        The same outcome again (e.g. re-sourced to another node) is kept in the audit trail.
        """
        if outcome not in ALLOCATION_OUTCOMES:
            raise LifecycleError(f"{outcome} is not an allocation outcome")
        if self.status not in _TAKES_ALLOCATION_RESULTS:
            return False
        if outcome is self.status:
            self.changes.append(Transition(self.status, self.status, ALLOCATION_ACTOR, reason, at))
        else:
            self.move(outcome, ALLOCATION_ACTOR, reason, at)
        return True

    def cancel(self, actor: str, reason: str, at: datetime) -> None:
        if S.cancelled not in ALLOWED[self.status]:
            raise LifecycleError(f"an order that is {self.status} can no longer be cancelled")
        self.holds.clear()
        self.move(S.cancelled, actor, reason, at)


FULFILMENT = (S.released_to_warehouse, S.picking, S.packed, S.shipped, S.delivered)


def follow_fulfilment(state: OrderState, stage: OrderStatus, actor: str, reason: str | None, at: datetime) -> bool:
    """Moves the order along released_to_warehouse → picking → packed → shipped → delivered up to `stage`,
    through any steps the warehouse went through at once. False when the order is elsewhere (e.g. cancelled),
    or already further: then nothing changes."""
    if state.status in FULFILMENT and FULFILMENT.index(state.status) >= FULFILMENT.index(stage):
        return False
    if state.status not in FULFILMENT and S.released_to_warehouse not in ALLOWED[state.status]:
        return False
    steps = FULFILMENT[FULFILMENT.index(state.status) + 1 if state.status in FULFILMENT else 0:
                       FULFILMENT.index(stage) + 1]
    for step in steps:
        state.move(step, actor, reason, at)
    return True


def intake_holds(policy: IntakePolicy, payment_status: str, fraud_score: int | None,
                 address_complete: bool) -> set[HoldReason]:
    holds = set()
    if payment_status == "pending":
        holds.add(HoldReason.payment_hold)
    if fraud_score is not None and fraud_score >= policy.fraud_review_threshold:
        holds.add(HoldReason.fraud_review)
    if not address_complete:
        holds.add(HoldReason.address_hold)
    return holds
