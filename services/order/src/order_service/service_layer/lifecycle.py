"""Commands on placed orders: hold releases, payment updates, store-credit settlements, cancellation. Each runs
under the order's row lock, records its transitions and announces them with OrderStatusChanged. Over HTTP the actor
recorded is the caller's token subject, and a connector may change only its own channels' orders."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ecomops_common.auth import Principal
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.channel import PaymentUpdate
from ecomops_common.contracts.finance import StoreCreditChanged
from ecomops_common.contracts.orders import HoldReason, OrderStatus, OrderStatusChanged
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.errors import NotFound
from ecomops_common.handlers import Received
from order_service.domain.lifecycle import OrderState, Transition
from order_service.service_layer.callers import check_channel
from order_service.service_layer.intake import AGGREGATE, SOURCE
from order_service.service_layer.unit_of_work import OrderUnitOfWork

log = logging.getLogger(__name__)
STORE_CREDIT_ACTOR = "finance:store-credit"  # StoreCreditChanged names no person: finance's redemption decided
SETTLING_KINDS = ("redeemed", "declined")  # the store-credit movements that settle an order's payment


class OrderNotFound(NotFound):
    pass


async def change_order(uow: OrderUnitOfWork, order_id: str, command: Callable[[OrderState, datetime], None],
                       by: Principal | None = None) -> None:
    """Loads the order's state under lock, applies `command` (which may refuse), saves and announces it.
    `by`: the caller, refused unless they act for the order's channel."""
    await apply_to_order(uow, order_id, command, by)
    await uow.commit()


async def apply_to_order(uow: OrderUnitOfWork, order_id: str, command: Callable[[OrderState, datetime], None],
                         by: Principal | None = None, **cause: str | None) -> OrderState:
    """change_order without the commit, for callers that change many orders in one transaction; the order's
    state after the command. `cause`: causation_id, correlation_id and traceparent for the OrderStatusChanged
    events."""
    row = await uow.orders.get_for_update(order_id)
    if row is None:
        raise OrderNotFound(f"order {order_id} not found")
    if by is not None:
        check_channel(by, row["channel"])
    now = datetime.now(UTC)
    holds = {HoldReason(hold) for hold in await uow.orders.holds_of(order_id)}
    state = OrderState(order_id, OrderStatus(row["status"]), holds,
                       payment_method=json.loads(row["document"])["payment"]["method"])
    command(state, now)
    await uow.orders.save_state(state, now)
    for transition in state.changes:
        uow.emit(status_changed(row, state, transition, **cause), ORDER_EVENTS)
    return state


async def states_of_locked(uow: OrderUnitOfWork, order_ids: list[str],
                           rows: dict[str, dict[str, Any]]) -> dict[str, OrderState]:
    """The states of orders whose rows the caller locked (a batch's, with one statement for their holds). An
    unknown order fails the batch, to be dead-lettered and redriven once the order exists."""
    if missing := [order_id for order_id in order_ids if order_id not in rows]:
        raise OrderNotFound(f"no order {', '.join(missing)}")
    holds = await uow.orders.holds_of_orders(order_ids)
    return {order_id: OrderState(order_id, OrderStatus(rows[order_id]["status"]),
                                 {HoldReason(hold) for hold in holds.get(order_id, ())}) for order_id in order_ids}


def status_changed(row: dict[str, Any], state: OrderState, transition: Transition, *, causation_id: str | None = None,
                   correlation_id: str | None = None, traceparent: str | None = None) -> EventEnvelope:
    """OrderStatusChanged for one transition of the order whose row (id, channel, external id) is given."""
    return new_event("OrderStatusChanged", 1, SOURCE, AGGREGATE, row["id"], OrderStatusChanged(
        order_id=row["id"], channel=row["channel"], external_order_id=row["external_order_id"],
        from_status=transition.from_status, to_status=transition.to_status, holds=sorted(state.holds),
        actor=transition.actor, reason=transition.reason,
    ), causation_id=causation_id, correlation_id=correlation_id, traceparent=traceparent)


async def release_hold(uow: OrderUnitOfWork, order_id: str, hold: HoldReason, by: Principal,
                       note: str | None) -> None:
    await change_order(uow, order_id, lambda state, at: state.release_hold(hold, by.subject, note, at), by)


async def cancel_order(uow: OrderUnitOfWork, order_id: str, by: Principal, reason: str) -> None:
    await change_order(uow, order_id, lambda state, at: state.cancel(by.subject, reason, at), by)


async def update_payment(uow: OrderUnitOfWork, order_id: str, payment_status: str, by: Principal,
                         detail: str | None = None) -> None:
    """A payment update over HTTP: from the order's own channel's connector or finance."""
    await _change_payment(uow, order_id, payment_status, by.subject, detail, by)


async def _change_payment(uow: OrderUnitOfWork, order_id: str, payment_status: str, actor: str,
                          detail: str | None, by: Principal | None = None) -> None:
    await change_order(uow, order_id, lambda state, at: state.payment_changed(payment_status, actor, at, detail),
                       by)


async def update_channel_payments(uow: OrderUnitOfWork, updates: list[Received[PaymentUpdate]]) -> None:
    """channel.payments.v1: few, and idempotent by state (authorized twice releases the hold once). An unknown
    order or a refused change fails the message, which is dead-lettered with the reason."""
    for received in updates:
        update = received.message
        order_id = await uow.orders.find_id(update.channel, update.external_order_id)
        if order_id is None:
            raise OrderNotFound(f"no order {update.channel}:{update.external_order_id}")
        await _change_payment(uow, order_id, update.status.value, f"channel:{update.channel}",
                              payment_detail(update.amount, update.reference))


async def settle_store_credit(uow: OrderUnitOfWork, movements: list[Received[StoreCreditChanged]]) -> None:
    """finance.events.v1 (redeemed or declined, with an order): finance's answer to an order paid with store credit
    releases its payment hold as an authorized payment would, or rejects the order as a failed payment does. Few,
    and once each (the inbox); an unknown order, or one that does not wait for the redemption (another payment
    method, settled, cancelled), is only logged."""
    for received in movements:
        await _settle_store_credit(uow, received)
    await uow.commit()


async def _settle_store_credit(uow: OrderUnitOfWork, received: Received[StoreCreditChanged]) -> None:
    movement = received.message
    redeemed = movement.kind == "redeemed"
    detail = ", ".join(part for part in (f"amount {movement.amount} {movement.currency}",
                                         f"movement {movement.movement_id}", movement.reason) if part)
    try:
        state = await apply_to_order(
            uow, movement.order_id, lambda state, at: state.store_credit_settled(redeemed, STORE_CREDIT_ACTOR, at,
                                                                                detail),
            causation_id=received.event_id, correlation_id=received.correlation_id, traceparent=received.traceparent)
    except OrderNotFound:
        log.warning("store credit %s for order %s, which is not stored here: ignored", movement.kind,
                    movement.order_id)
        return
    if not state.changes:
        log.info("order %s (paid with %s, %s) does not wait for a store-credit redemption: %s ignored",
                 movement.order_id, state.payment_method, state.status, movement.kind)


def payment_detail(amount, reference: str | None) -> str | None:
    parts = [f"amount {amount}" if amount is not None else None, f"ref {reference}" if reference else None]
    return ", ".join(part for part in parts if part) or None
