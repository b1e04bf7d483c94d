"""HTTP API: POST /v1/orders for channel connectors, GET for operators and connectors."""

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common import telemetry
from ecomops_common.batching import Coalescer
from ecomops_common.contracts.channel import ChannelOrder, PaymentStatus
from ecomops_common.contracts.orders import HoldReason, OrderStatus
from ecomops_common.contracts.returns import ReturnResolution, ReturnStatus
from ecomops_common.contracts.types import Document, Money, contains_nul
from ecomops_common.http import entered_unit_of_work, require_staff
from order_service.domain.returns import OrderReturn, order_returns
from order_service.service_layer import lifecycle
from order_service.service_layer.intake import IntakeResult, Submission
from order_service.service_layer.lifecycle import OrderNotFound
from order_service.service_layer.unit_of_work import OrderUnitOfWork

router = APIRouter(prefix="/v1/orders", tags=["orders"])


class RejectionView(BaseModel):
    field: str
    code: str
    message: str


class TransitionView(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    reason: str | None
    at: datetime


class AllocationView(BaseModel):
    line_id: str
    sku: str
    node: str | None = Field(description="The fulfilment node shipping these units; null: backordered units")
    quantity: int


class ReturnLineView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_id: str
    sku: str
    quantity: int = Field(description="Units of the line the customer may send back")


class ReturnStepView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: ReturnStatus
    actor: str = Field(description="Who or what took the step; `returns`: the returns service authorized by policy")
    note: str | None = Field(description="Why; on the authorized step, the return's reason code")
    at: datetime


class ReturnView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rma_id: str
    status: ReturnStatus = Field(description="The latest step's status")
    resolution: ReturnResolution | None = Field(description="Refund or exchange; null: authorization not recorded")
    lines: list[ReturnLineView] = Field(description="The units authorized back; empty: authorization not recorded")
    steps: list[ReturnStepView] = Field(description="Every step of the RMA in time order: who or what, when, why")


class OrderView(BaseModel):
    id: str
    channel: str
    external_order_id: str
    status: OrderStatus
    holds: list[HoldReason]
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    rejections: list[RejectionView]
    order: dict[str, Any]
    history: list[TransitionView] = Field(description="Every status change: who or what, when, why")
    allocation: list[AllocationView] = Field(default_factory=list,
                                             description="Units per line and node as the allocation service reports")
    allocation_revision: int | None = Field(default=None, description="null: no allocation reported yet")
    returns: list[ReturnView] = Field(default_factory=list,
                                      description="The RMAs by authorization time, as the returns service reports "
                                                  "them; they leave the order's status as it is")

    @classmethod
    def of(cls, row: dict[str, Any], holds, history: list, allocation: Sequence[dict[str, Any]] = (),
           allocation_revision: int | None = None, returns: Sequence[OrderReturn] = ()) -> "OrderView":
        return cls(**{**row, "rejections": json.loads(row["rejections"] or "[]"), "order": json.loads(row["document"]),
                      "holds": sorted(holds), "history": [t if isinstance(t, dict) else vars(t) for t in history],
                      "allocation": allocation, "allocation_revision": allocation_revision, "returns": returns})


class HoldRelease(Document):
    actor: str = Field(min_length=1, max_length=128, description="The supervisor releasing the hold")
    note: str | None = Field(default=None, max_length=1000)


class Cancellation(Document):
    actor: str = Field(min_length=1, max_length=128, description="e.g. supervisor:jane or channel:web-eu")
    reason: str = Field(min_length=1, max_length=1000)


class PaymentChange(Document):
    status: PaymentStatus
    amount: Money | None = None
    reference: str | None = Field(default=None, max_length=128)


class OrderSummary(BaseModel):
    id: str
    channel: str
    external_order_id: str
    status: OrderStatus
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    order: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> "OrderSummary":
        return cls(**{**row, "order": json.loads(row["document"])})


class OrderPage(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None


async def intake(request: Request) -> Coalescer[Submission, IntakeResult]:
    return request.app.state.intake


UnitOfWork = Annotated[OrderUnitOfWork, Depends(entered_unit_of_work)]
Intake = Annotated[Coalescer, Depends(intake)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderView,
             responses={200: {"description": "A resend: the order already stored"},
                        422: {"description": "Malformed, or well-formed but rejected by a business rule"}})
async def place_order(document: ChannelOrder, response: Response, orders_intake: Intake, uow: UnitOfWork):
    result = await orders_intake.submit(
        Submission(document, telemetry.correlation_id.get(), telemetry.current_traceparent()))
    if result.rejections:
        return JSONResponse(status_code=422, content={
            "order_id": result.order_id, "status": result.status,
            "detail": [{"loc": ["body", *r.field.split(".")], "msg": r.message, "type": r.code}
                       for r in result.rejections],
        })
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/orders/{result.order_id}"
    if result.state is not None:
        return OrderView.of(result.row, result.state.holds, result.state.changes)
    return await _view(uow, result.order_id)


@router.get("/{order_id}", response_model=OrderView)
async def get_order(order_id: str, uow: UnitOfWork):
    return await _view(uow, order_id)


async def _view(uow: OrderUnitOfWork, order_id: str) -> OrderView:
    record = await uow.orders.get(order_id)
    if record is None:
        raise OrderNotFound(f"order {order_id} not found")
    allocation_revision, allocation = await uow.orders.allocation_of(order_id)
    returns = order_returns(await uow.orders.return_steps_of(order_id))
    return OrderView.of(record.model_dump(), await uow.orders.holds_of(order_id),
                        await uow.orders.history_of(order_id), allocation, allocation_revision, returns)


@router.post("/{order_id}/holds/{hold}/release", response_model=OrderView, dependencies=[require_staff("supervisor")],
             responses={409: {"description": "The order does not have this hold"}})
async def release_order_hold(order_id: str, hold: HoldReason, release: HoldRelease, uow: UnitOfWork):
    """A supervisor releases one hold; without holds left the order goes on to allocation."""
    await lifecycle.release_hold(uow, order_id, hold, release.actor, release.note)
    return await _view(uow, order_id)


@router.post("/{order_id}/cancel", response_model=OrderView,
             dependencies=[require_staff("supervisor", "customer-service")],
             responses={409: {"description": "Shipped, delivered, rejected or already cancelled"}})
async def cancel_order(order_id: str, cancellation: Cancellation, uow: UnitOfWork):
    """Cancels before shipment; allocation releases the order's reservations on OrderStatusChanged."""
    await lifecycle.cancel_order(uow, order_id, cancellation.actor, cancellation.reason)
    return await _view(uow, order_id)


@router.post("/{order_id}/payment", response_model=OrderView,
             responses={409: {"description": "The payment change does not fit the order's status"}})
async def change_payment(order_id: str, change: PaymentChange, uow: UnitOfWork):
    """The channel's payment update: authorized/captured releases a payment hold, failed rejects."""
    detail = lifecycle.payment_detail(change.amount, change.reference)
    await lifecycle.update_payment(uow, order_id, change.status.value, "channel:payment", detail)
    return await _view(uow, order_id)


@router.get("", response_model=OrderPage)
async def list_orders(
    uow: UnitOfWork,
    channel: str | None = None,
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after_id = _decode_cursor(cursor) if cursor else None
    records = await uow.orders.page(channel=channel, status=status_filter, limit=limit, after_id=after_id)
    next_cursor = _encode_cursor(records[-1].id) if len(records) == limit else None
    return OrderPage(items=[OrderSummary.of(record.model_dump()) for record in records], next_cursor=next_cursor)


def _encode_cursor(order_id: str) -> str:
    return base64.urlsafe_b64encode(order_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        order_id = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
        if order_id and not contains_nul(order_id):
            return order_id
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8 (UnicodeDecodeError)
        pass
    raise HTTPException(422, detail=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}])
