"""HTTP API: POST /v1/orders for channel connectors, GET for operators and connectors."""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ecomops_common import telemetry
from ecomops_common.batching import Coalescer
from ecomops_common.contracts.channel import ChannelOrder
from order_service.domain.model import OrderStatus
from order_service.service_layer.intake import IntakeResult, Submission

router = APIRouter(prefix="/v1/orders", tags=["orders"])


class RejectionView(BaseModel):
    field: str
    code: str
    message: str


class OrderView(BaseModel):
    id: str
    channel: str
    external_order_id: str
    status: str
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    rejections: list[RejectionView]
    order: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> "OrderView":
        return cls(**{**row, "rejections": json.loads(row["rejections"] or "[]"), "order": json.loads(row["document"])})


class OrderPage(BaseModel):
    items: list[OrderView]
    next_cursor: str | None


async def unit_of_work(request: Request) -> Callable:  # async: a plain def would run in a thread
    return request.app.state.unit_of_work


async def intake(request: Request) -> Coalescer[Submission, IntakeResult]:
    return request.app.state.intake


UnitOfWork = Annotated[Callable, Depends(unit_of_work)]
Intake = Annotated[Coalescer, Depends(intake)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderView,
             responses={200: {"description": "A resend: the order already stored"},
                        422: {"description": "Malformed, or well-formed but rejected by a business rule"}})
async def place_order(document: ChannelOrder, response: Response, orders_intake: Intake):
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
    return OrderView.of(result.row)


@router.get("/{order_id}", response_model=OrderView)
async def get_order(order_id: str, new_unit_of_work: UnitOfWork):
    async with new_unit_of_work() as uow:
        record = await uow.orders.get(order_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"order {order_id} not found")
    return OrderView.of(record.model_dump())


@router.get("", response_model=OrderPage)
async def list_orders(
    new_unit_of_work: UnitOfWork,
    channel: str | None = None,
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after_id = _decode_cursor(cursor) if cursor else None
    async with new_unit_of_work() as uow:
        records = await uow.orders.list(channel=channel, status=status_filter, limit=limit, after_id=after_id)
    next_cursor = _encode_cursor(records[-1].id) if len(records) == limit else None
    return OrderPage(items=[OrderView.of(record.model_dump()) for record in records], next_cursor=next_cursor)


def _encode_cursor(order_id: str) -> str:
    return base64.urlsafe_b64encode(order_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        order_id = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
        if order_id:
            return order_id
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise HTTPException(422, detail=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}])
