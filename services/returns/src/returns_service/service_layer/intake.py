"""Return requests, checked against what the order shipped, the catalog's rules of its SKUs and the channel's return
and refund policies, and the placed orders this needs (prices, categories, final sale, shipping fee and tax,
payment method) from the order service's events."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ecomops_common.auth import Principal
from ecomops_common.contracts import RETURNS_EVENTS
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import (
    ReturnAuthorized,
    ReturnLine,
    ReturnRefusal,
    ReturnRefused,
    ReturnRequest,
)
from ecomops_common.envelope import new_event
from ecomops_common.errors import Forbidden
from ecomops_common.handlers import Received
from ecomops_common.ids import new_id
from returns_service.domain.policy import (
    AskedLine,
    Refusal,
    as_catalog_says,
    check_request,
    resolve_lines,
    return_node,
)
from returns_service.domain.refunds import check_settlement, other_refund_method
from returns_service.domain.rma import Rma, RmaLine, Stage
from returns_service.service_layer.handling import progress
from returns_service.service_layer.rules import Rules, load_rules
from returns_service.service_layer.unit_of_work import SOURCE, ReturnsUnitOfWork


@dataclass(frozen=True)
class RequestOutcome:
    rma_id: str | None
    refusals: list[Refusal] = field(default_factory=list)
    created: bool = False  # False: a resend of a request already authorized


async def follow_orders(uow: ReturnsUnitOfWork, orders_placed: list[Received[OrderPlaced]]) -> None:
    """Placed orders: what each line cost, its category and whether it was final sale. An upsert: a
    redelivered order changes nothing, so no inbox row is needed."""
    placed = [order.message for order in orders_placed]
    orders = {event.order_id: {
        "order_id": event.order_id, "channel": event.channel, "external_order_id": event.external_order_id,
        "customer_id": event.customer.id, "currency": event.currency, "shipping_fee": event.shipping_fee,
        "tax": event.tax,
        "goods": sum((line.unit_price * line.quantity for line in event.lines), Decimal(0)),
        "placed_at": event.placed_at, "document": event.model_dump_json()} for event in placed}
    lines = {(event.order_id, line.line_id): {
        "order_id": event.order_id, "line_id": line.line_id, "sku": line.sku, "category": line.category,
        "final_sale": line.final_sale, "quantity": line.quantity, "unit_price": line.unit_price}
        for event in placed for line in event.lines}
    await uow.returns.upsert_orders(list(orders.values()), list(lines.values()))
    await uow.commit()


async def take_channel_returns(uow: ReturnsUnitOfWork, requests: list[Received[ReturnRequest]],
                               default_node: str) -> None:
    """channel.returns.v1: idempotent by (channel, request_id), so no inbox row is needed; a refusal is
    published as ReturnRefused, not dead-lettered."""
    await request_returns(uow, [request.message for request in requests], default_node)


async def request_returns(uow: ReturnsUnitOfWork, requests: Sequence[ReturnRequest], default_node: str,
                          by: Principal | None = None) -> list[RequestOutcome]:
    """Each request authorized as an RMA or refused with every rule it breaks, in one transaction. A resent
    request (same channel and request_id) answers with the RMA it made; refusals are not kept, so a request
    refused too early (say, before the order shipped) may be sent again.

    `by` is the caller over HTTP: a connector asks only for its own channels (403 `channel` otherwise), and the
    RMA records the caller's subject as who requested it; a request from the channel's topic, the channel."""
    if by is not None and (foreign := sorted({r.channel for r in requests if not by.acts_for(r.channel)})):
        raise Forbidden("channel", f"{by.client or by.subject} may not request returns for channel "
                                   f"{', '.join(foreign)}")
    now = datetime.now(UTC)
    rules = await load_rules(uow)
    outcomes, created = [], []
    for request in requests:
        actor = by.subject if by is not None else f"channel:{request.channel}"
        outcome, rma = await _authorize(uow, request, rules, default_node, now, actor)
        outcomes.append(outcome)
        if rma is not None:
            created.append(rma)
        elif outcome.refusals:
            uow.emit(new_event("ReturnRefused", 1, SOURCE, "return_request", request.idempotency_key, ReturnRefused(
                channel=request.channel, request_id=request.request_id, order_id=request.order_id,
                refusals=[ReturnRefusal(**r._asdict()) for r in outcome.refusals])), RETURNS_EVENTS)
    await progress(uow, created, rules, now)
    await uow.commit()
    return outcomes


async def _authorize(uow: ReturnsUnitOfWork, request: ReturnRequest, rules: Rules, default_node: str,
                     now: datetime, actor: str) -> tuple[RequestOutcome, Rma | None]:
    order_id = request.order_id or await uow.returns.find_order_id(request.channel, request.external_order_id)
    # Locking the order serializes requests for it, so two cannot both take the last returnable unit.
    order = await uow.returns.order(order_id, lock=True) if order_id else None
    # Only an order placed on the request's channel (OrderPlaced names it; one heard of from the warehouse alone
    # has no channel), so nobody opens a return, or is paid an instant refund, for an order this service never
    # saw sold or for another channel's.
    if order is None or order["channel"] != request.channel:
        field_name = "order_id" if request.order_id else "external_order_id"
        unknown = Refusal("unknown_order", field_name, "no order of this channel has this id")
        return RequestOutcome(None, [unknown]), None
    answered = await uow.returns.request(request.channel, request.request_id)
    if answered is not None:
        return RequestOutcome(answered["rma_id"]), None
    policy = rules.return_policy(request.channel)
    lines_of_order = await uow.returns.order_lines(order_id)
    catalog = await uow.returns.catalog_skus(line.sku for line, _ in lines_of_order.values())
    shipped = {line_id: as_catalog_says(line, catalog.get(line.sku)) for line_id, (line, _) in lines_of_order.items()}
    requested, refusals = resolve_lines([AskedLine(line.sku, line.quantity, line.line_id) for line in request.lines],
                                        shipped)
    refusals += check_request(requested, request.reason, shipped, order["delivered_at"], now, policy)
    order_method = json.loads(order["document"])["payment"]["method"] if order["document"] else None
    refund_method = other_refund_method(request.refund_method, order_method)
    if requested:  # the refund policy that will settle the RMA: its first line's category's, as progress() uses
        refund_policy = rules.refund_policy(request.channel, shipped[requested[0].line_id].category)
        refusals += check_settlement(refund_policy, request.reason, request.resolution.value, refund_method)
    if refusals:
        return RequestOutcome(None, refusals), None
    details = {line_id: row for line_id, (_, row) in lines_of_order.items()}
    lines = [RmaLine(line.line_id, details[line.line_id]["sku"], shipped[line.line_id].category, line.quantity,
                     details[line.line_id]["unit_price"] or Decimal(0), tuple(details[line.line_id]["serials"]),
                     order_quantity=details[line.line_id]["quantity"]) for line in requested]
    node = return_node(policy, requested, shipped, default_node)
    rma = Rma(f"RMA-{new_id()}", order_id, request.channel, order["customer_id"], request.reason, node, lines,
              timeline=[Stage("authorized", now, actor, request.comment)], currency=order["currency"],
              resolution=request.resolution.value, shipping_fee=order["shipping_fee"] or Decimal(0),
              order_goods=order["goods"] or Decimal(0), order_tax=order["tax"] or Decimal(0),
              refund_method=refund_method, photos=list(request.photos),
              expected_by=now + timedelta(days=policy.transit_days))
    await uow.returns.add_requested(order_id, {line.line_id: line.quantity for line in requested})
    await uow.returns.add_request(request.channel, request.request_id, rma.id, now)
    uow.emit(new_event("ReturnAuthorized", 1, SOURCE, "return", rma.id, ReturnAuthorized(
        rma_id=rma.id, order_id=order_id, channel=rma.channel, node=node, authorized_at=now, reason=rma.reason,
        expected_by=rma.expected_by, resolution=request.resolution,
        lines=[ReturnLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity) for line in lines])),
        RETURNS_EVENTS)
    return RequestOutcome(rma.id, created=True), rma
