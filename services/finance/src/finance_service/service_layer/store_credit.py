"""Store credit (domain/store_credit.py): issued for refunds paid as store credit, redeemed by orders paid with it
(or declined), restored when such an order is cancelled. Every movement is announced as StoreCreditChanged in the
transaction that records it; the caller commits."""

from collections.abc import Sequence
from datetime import UTC, datetime

from ecomops_common.contracts import FINANCE_EVENTS
from ecomops_common.contracts.finance import StoreCreditChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.envelope import new_event
from finance_service.domain.payouts import Refund
from finance_service.domain.postings import post_store_credit_payment
from finance_service.domain.store_credit import Movement, MovementKind, redemption_id
from finance_service.service_layer.journal import SOURCE, post
from finance_service.service_layer.payouts import announce_issued
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork

SYSTEM = "system"


async def issue_store_credit(uow: FinanceUnitOfWork, refunds: Sequence[Refund]) -> None:
    """Payable refunds paid as store credit: credited to the customer at once (the approval's entry already
    owes it on store credit), and issued like any refund, referenced by the movement."""
    now = _now()
    for refund in refunds:
        balance = await uow.finance.store_credit_balance(refund.customer_id, refund.currency)
        movement = balance.issue(refund.amount, refund.refund_id, refund.rma_id, refund.order_id, now)
        if await uow.finance.add_movement(movement, balance):
            _announce(uow, movement)
        refund.issue_as_store_credit(f"store-credit:{movement.movement_id}", now)
        announce_issued(uow, refund)


async def redeem_store_credit(uow: FinanceUnitOfWork, orders: Sequence[OrderPlaced]) -> None:
    """Orders paid with store credit: redeemed when the customer's balance in the order's currency covers the
    payment (the customer prepaid: store credit pays the receivable), else declined; one decision per order."""
    entries = []
    for placed in orders:
        balance = await uow.finance.store_credit_balance(placed.customer.id, placed.currency)
        movement = balance.redeem(placed.payment.amount, placed.order_id, _now())
        if not await uow.finance.add_movement(movement, balance):
            continue
        _announce(uow, movement)
        if movement.kind is MovementKind.redeemed:
            entries.append(post_store_credit_payment("redeemed", placed.order_id, placed.channel, movement.amount,
                                                     movement.currency, movement.at))
    await post(uow, entries, SYSTEM, _now())


async def restore_store_credit(uow: FinanceUnitOfWork, cancelled: Sequence[OrderStatusChanged]) -> None:
    """Cancelled orders that redeemed store credit give it back, once."""
    entries, now = [], _now()
    for changed in cancelled:
        redeemed = await uow.finance.movement(redemption_id(changed.order_id))
        if redeemed is None or redeemed.kind is not MovementKind.redeemed:
            continue
        balance = await uow.finance.store_credit_balance(redeemed.customer_id, redeemed.currency)
        movement = balance.restore(redeemed, now)
        if await uow.finance.add_movement(movement, balance):
            _announce(uow, movement)
            entries.append(post_store_credit_payment("restored", changed.order_id, changed.channel, movement.amount,
                                                     movement.currency, now))
    await post(uow, entries, SYSTEM, now)


def _announce(uow: FinanceUnitOfWork, movement: Movement) -> None:
    uow.emit(new_event("StoreCreditChanged", 1, SOURCE, "store_credit", movement.customer_id, StoreCreditChanged(
        movement_id=movement.movement_id, customer_id=movement.customer_id, kind=movement.kind.value,
        amount=movement.amount, currency=movement.currency, balance=movement.balance, order_id=movement.order_id,
        rma_id=movement.rma_id, refund_id=movement.refund_id, reason=movement.reason, at=movement.at)),
        FINANCE_EVENTS)


def _now() -> datetime:
    return datetime.now(UTC)
