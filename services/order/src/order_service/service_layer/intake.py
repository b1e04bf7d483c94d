"""Order intake: the same use case behind POST /v1/orders and the channel.orders.v1 consumer."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.contracts.orders import OrderRejected, RejectionReason
from ecomops_common.envelope import new_event
from ecomops_common.handlers import Received
from ecomops_common.ids import new_id
from order_service.domain.catalog import unorderable_skus
from order_service.domain.lifecycle import IntakePolicy, OrderState
from order_service.domain.model import Order, OrderLine, OrderStatus, Rejection, address_complete
from order_service.service_layer.unit_of_work import OrderUnitOfWork

SOURCE = "order"
AGGREGATE = "order"


@dataclass(frozen=True)
class IntakeResult:
    created: bool
    row: dict[str, Any]  # the stored order's columns, so callers need not read it back
    state: OrderState | None = None  # holds and transitions of an order created now

    @property
    def order_id(self) -> str:
        return self.row["id"]

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def rejections(self) -> list[Rejection]:
        return [Rejection(**reason) for reason in json.loads(self.row["rejections"] or "[]")]


def order_of(order_id: str, document: ChannelOrder) -> Order:
    return Order(
        id=order_id, channel=document.channel, external_order_id=document.external_order_id,
        currency=document.currency,
        lines=[OrderLine(line.line_id, line.sku, line.quantity, line.unit_price, line.category, line.final_sale)
               for line in document.lines],
        shipping_fee=document.shipping_fee, tax=document.tax, payment_amount=document.payment.amount,
        payment_status=document.payment.status.value, payment_method=document.payment.method,
        fraud_score=document.fraud_score,
        address_complete=address_complete(document.ship_to),
    )


@dataclass(frozen=True)
class Submission:
    """A channel order and where it came from: its trace and correlation id follow it into the events, who
    placed it (the token's subject, over HTTP) into its history."""

    document: ChannelOrder
    correlation_id: str | None = None
    traceparent: str | None = None
    placed_by: str | None = None


async def take_orders(uow: OrderUnitOfWork, submissions: list[Submission],
                      policy: IntakePolicy = IntakePolicy()) -> list[IntakeResult]:
    """Stores each channel order once, accepted or rejected, and emits OrderPlaced or OrderRejected.

    Resends (same channel and external id) get the stored order back and emit nothing, also when the
    copies arrive in one batch or in two transactions at the same instant (the unique key decides).
    """
    now = datetime.now(UTC)
    keys = [(s.document.channel, s.document.external_order_id) for s in submissions]
    first_index: dict[tuple[str, str], int] = {}
    for index, key in enumerate(keys):
        first_index.setdefault(key, index)

    # The batch's graded variants and catalog entries in one statement each: intake is the hot path.
    skus = {line.sku for index in first_index.values() for line in submissions[index].document.lines}
    graded_variants = await uow.orders.graded_variants(skus)
    catalog = await uow.orders.catalog_entries(skus)
    # Channel rules only where they decide something: an order with a SKU the catalog cannot place as it stands.
    actions = await uow.orders.unknown_sku_actions(
        {submissions[index].document.channel for index in first_index.values()
         if any(unorderable_skus(line.sku, catalog) for line in submissions[index].document.lines)})
    orders: dict[tuple[str, str], Order] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key, index in first_index.items():
        document = submissions[index].document
        order = orders[key] = order_of(new_id(), document)
        order.screen(policy, now, submissions[index].placed_by, graded_variants, catalog,
                     actions.get(document.channel))
        rows[key] = {
            "id": order.id, "channel": order.channel, "external_order_id": order.external_order_id,
            "status": order.status.value, "placed_at": document.placed_at,
            "document": document.model_dump_json(),
            "rejections": json.dumps([vars(r) for r in order.rejections]) if order.rejections else None,
            "created_at": now, "updated_at": now,
        }

    inserted = await uow.orders.add_new(list(rows.values()))
    await uow.orders.add_states([order.state for order in orders.values() if order.id in inserted])
    await uow.orders.add_awaited_skus({order.id: order.awaited_skus for order in orders.values()
                                       if order.id in inserted and order.awaited_skus})
    for key, order in orders.items():
        if order.id in inserted:
            submission = submissions[first_index[key]]
            uow.emit(_event_for(order, rows[key]["document"], submission), ORDER_EVENTS)
    stored = await uow.orders.get_by_channel_ids([key for key, order in orders.items() if order.id not in inserted])
    await uow.commit()

    return [
        IntakeResult(index == first_index[key], rows[key], orders[key].state) if orders[key].id in inserted
        else IntakeResult(False, stored[key])
        for index, key in enumerate(keys)
    ]


async def take_orders_in_one_transaction(unit_of_work: Callable[[], OrderUnitOfWork], policy: IntakePolicy,
                                         submissions: list[Submission]) -> list[IntakeResult]:
    """POST /v1/orders: concurrent requests are coalesced into one call, one transaction (ecomops_common.batching)."""
    async with unit_of_work() as uow:
        return await take_orders(uow, submissions, policy)


async def take_channel_orders(uow: OrderUnitOfWork, orders: list[Received[ChannelOrder]],
                              policy: IntakePolicy) -> None:
    """channel.orders.v1: idempotent by (channel, external order id), so no inbox row is needed."""
    await take_orders(uow, [Submission(o.message, o.correlation_id or o.message.idempotency_key, o.traceparent)
                            for o in orders], policy)


def _event_for(order: Order, document_json: str, submission: Submission):
    if order.status is OrderStatus.rejected:
        payload: dict[str, Any] = OrderRejected(
            order_id=order.id, channel=order.channel, external_order_id=order.external_order_id,
            reasons=[RejectionReason(field=r.field, code=r.code, message=r.message) for r in order.rejections],
        ).model_dump(mode="json")
    else:
        # The OrderPlaced contract is the validated channel order plus id and total: built from the JSON
        # already made for the row instead of validating it all over again (tests hold it to the model).
        payload = {**json.loads(document_json), "order_id": order.id, "total": str(order.total),
                   "status": order.status.value, "holds": sorted(order.state.holds)}
        if order.placed_lines != order.lines:  # bundles placed as components, or the catalog's flags
            payload["lines"] = [_line_json(line) for line in order.placed_lines]
        if order.bundles:
            payload["bundles"] = [{"line_id": b.line_id, "sku": b.sku, "quantity": b.quantity,
                                   "unit_price": str(b.unit_price), "component_line_ids": list(b.component_line_ids)}
                                  for b in order.bundles]
    return new_event("OrderRejected" if order.rejections else "OrderPlaced", 1, SOURCE, AGGREGATE, order.id,
                     payload, correlation_id=submission.correlation_id, traceparent=submission.traceparent)


def _line_json(line: OrderLine) -> dict[str, Any]:
    return {"line_id": line.line_id, "sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price),
            "category": line.category, "final_sale": line.final_sale}
