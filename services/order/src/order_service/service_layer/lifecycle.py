"""Commands on placed orders: hold releases, payment updates, cancellation. Each runs under the
order's row lock, records its transitions and announces them with OrderStatusChanged."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.orders import HoldReason, OrderStatus, OrderStatusChanged
from ecomops_common.envelope import EventEnvelope, new_event
from order_service.domain.lifecycle import OrderState, Transition
from order_service.service_layer.intake import AGGREGATE, SOURCE

E = TypeVar("E")


class OrderNotFound(Exception):
    pass


@dataclass(frozen=True)
class InboundEvent(Generic[E]):
    """Another service's event and where it came from: the status changes it causes carry its id and trace."""

    event: E
    event_id: str
    correlation_id: str | None = None
    traceparent: str | None = None


async def change_order(uow, order_id: str, command: Callable[[OrderState, datetime], None]) -> None:
    """Loads the order's state under lock, applies `command` (which may refuse), saves and announces it."""
    await apply_to_order(uow, order_id, command)
    await uow.commit()


async def apply_to_order(uow, order_id: str, command: Callable[[OrderState, datetime], None], **cause) -> None:
    """change_order without the commit, for callers that change many orders in one transaction.
    `cause`: causation_id, correlation_id and traceparent for the OrderStatusChanged events."""
    row = await uow.orders.get_for_update(order_id)
    if row is None:
        raise OrderNotFound(order_id)
    now = datetime.now(UTC)
    holds = {HoldReason(hold) for hold in await uow.orders.holds_of(order_id)}
    state = OrderState(order_id, OrderStatus(row["status"]), holds)
    command(state, now)
    await uow.orders.save_state(state, now)
    for transition in state.changes:
        uow.emit(status_changed(row, state, transition, **cause), ORDER_EVENTS)


def status_changed(row: dict[str, Any], state: OrderState, transition: Transition, *, causation_id: str | None = None,
                   correlation_id: str | None = None, traceparent: str | None = None) -> EventEnvelope:
    """OrderStatusChanged for one transition of the order whose row (id, channel, external id) is given."""
    return new_event("OrderStatusChanged", 1, SOURCE, AGGREGATE, row["id"], OrderStatusChanged(
        order_id=row["id"], channel=row["channel"], external_order_id=row["external_order_id"],
        from_status=transition.from_status, to_status=transition.to_status, holds=sorted(state.holds),
        actor=transition.actor, reason=transition.reason,
    ), causation_id=causation_id, correlation_id=correlation_id, traceparent=traceparent)


async def release_hold(uow, order_id: str, hold: HoldReason, actor: str, note: str | None) -> None:
    await change_order(uow, order_id, lambda state, at: state.release_hold(hold, actor, note, at))


async def cancel_order(uow, order_id: str, actor: str, reason: str) -> None:
    await change_order(uow, order_id, lambda state, at: state.cancel(actor, reason, at))


async def update_payment(uow, order_id: str, payment_status: str, actor: str, detail: str | None = None) -> None:
    await change_order(uow, order_id, lambda state, at: state.payment_changed(payment_status, actor, at, detail))


def payment_detail(amount, reference: str | None) -> str | None:
    parts = [f"amount {amount}" if amount is not None else None, f"ref {reference}" if reference else None]
    return ", ".join(part for part in parts if part) or None
