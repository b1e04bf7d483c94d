"""HTTP API: channel connectors place orders and send payment updates for their own channels and read only
their orders; customer service places phone orders; staff read orders (customers' personal data masked unless
their role needs it), supervisors release holds and set each channel's rule for orders with SKUs the catalog does
not know, finance records payments. Every route takes the issuer's bearer token and names the roles it needs
(ecomops_common.access); the actor recorded is the token's subject."""

import base64
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common import telemetry
from ecomops_common.access import caller
from ecomops_common.auth import CONNECTOR, CUSTOMER_SERVICE, FINANCE_CLERK, STAFF_ROLES, SUPERVISOR, Principal
from ecomops_common.batching import Coalescer
from ecomops_common.contracts.channel import ChannelOrder, PaymentStatus
from ecomops_common.contracts.orders import HoldReason, OrderStatus
from ecomops_common.contracts.returns import ReturnResolution, ReturnStatus
from ecomops_common.contracts.types import Document, Money, contains_nul
from ecomops_common.http import entered_unit_of_work
from order_service.domain.catalog import UnknownSkuAction
from order_service.domain.returns import OrderReturn, order_returns
from order_service.service_layer import catalog, lifecycle
from order_service.service_layer.callers import check_channel, order_document_for, readable_channels
from order_service.service_layer.intake import IntakeResult, Submission
from order_service.service_layer.lifecycle import OrderNotFound
from order_service.service_layer.unit_of_work import OrderUnitOfWork

router = APIRouter(prefix="/v1/orders", tags=["orders"])
rules_router = APIRouter(prefix="/v1/rules", tags=["rules"])
Channel = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


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
    promised_date: date | None = Field(default=None, description="Backordered units: when inbound supply should "
                                                                 "cover them (null: no supply on its way)")


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
    def of(cls, row: dict[str, Any], by: Principal, holds, history: list, allocation: Sequence[dict[str, Any]] = (),
           allocation_revision: int | None = None, returns: Sequence[OrderReturn] = ()) -> "OrderView":
        """The order as `by` may see it (ecomops_common.personal_data)."""
        return cls(**{**row, "rejections": json.loads(row["rejections"] or "[]"),
                      "order": order_document_for(by, row["channel"], json.loads(row["document"])),
                      "holds": sorted(holds), "history": [t if isinstance(t, dict) else vars(t) for t in history],
                      "allocation": allocation, "allocation_revision": allocation_revision, "returns": returns})


# The actor is the caller's token subject: a client still naming one gets a 422 saying it is not taken.
class HoldRelease(Document):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class Cancellation(Document):
    model_config = ConfigDict(extra="forbid")

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
    def of(cls, row: dict[str, Any], by: Principal) -> "OrderSummary":
        return cls(**{**row, "order": order_document_for(by, row["channel"], json.loads(row["document"]))})


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
async def place_order(document: ChannelOrder, response: Response, orders_intake: Intake, uow: UnitOfWork,
                      by: Annotated[Principal, caller(CONNECTOR, CUSTOMER_SERVICE, rate_limited=True)]):
    """A connector's order, for a channel its token names (403 otherwise); customer service's, taken on the
    phone, for any channel. The order's history records the caller as who placed it."""
    check_channel(by, document.channel)
    result = await orders_intake.submit(
        Submission(document, telemetry.correlation_id.get(), telemetry.current_traceparent(), by.subject))
    if result.rejections:
        return JSONResponse(status_code=422, content={
            "order_id": result.order_id, "status": result.status,
            "detail": [{"loc": ["body", *r.field.split(".")], "msg": r.message, "type": r.code}
                       for r in result.rejections],
        })
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/orders/{result.order_id}"
    if result.state is not None:
        return OrderView.of(result.row, by, result.state.holds, result.state.changes)
    return await _view(uow, result.order_id, by)


@router.get("/{order_id}", response_model=OrderView)
async def get_order(order_id: str, uow: UnitOfWork, by: Annotated[Principal, caller(CONNECTOR, *STAFF_ROLES)]):
    """A connector reads its own channels' orders only (another channel's is not found)."""
    return await _view(uow, order_id, by)


async def _view(uow: OrderUnitOfWork, order_id: str, by: Principal) -> OrderView:
    record = await uow.orders.get(order_id)
    if record is None or not by.acts_for(record.channel):
        raise OrderNotFound(f"order {order_id} not found")
    allocation_revision, allocation = await uow.orders.allocation_of(order_id)
    returns = order_returns(await uow.orders.return_steps_of(order_id))
    return OrderView.of(record.model_dump(), by, await uow.orders.holds_of(order_id),
                        await uow.orders.history_of(order_id), allocation, allocation_revision, returns)


@router.post("/{order_id}/holds/{hold}/release", response_model=OrderView,
             responses={409: {"description": "The order does not have this hold, or it is the payment hold of an "
                                             "order paid with store credit"}})
async def release_order_hold(order_id: str, hold: HoldReason, release: HoldRelease, uow: UnitOfWork,
                             by: Annotated[Principal, caller(SUPERVISOR)]):
    """A supervisor releases one hold; without holds left the order goes on to allocation. The payment hold of an
    order paid with store credit only finance's redemption releases."""
    await lifecycle.release_hold(uow, order_id, hold, by, release.note)
    return await _view(uow, order_id, by)


@router.post("/{order_id}/cancel", response_model=OrderView,
             responses={409: {"description": "Shipped, delivered, rejected or already cancelled"}})
async def cancel_order(order_id: str, cancellation: Cancellation, uow: UnitOfWork,
                       by: Annotated[Principal, caller(SUPERVISOR, CUSTOMER_SERVICE, CONNECTOR)]):
    """Cancels before shipment (a connector: its own channels' orders only); allocation releases the order's
    reservations on OrderStatusChanged."""
    await lifecycle.cancel_order(uow, order_id, by, cancellation.reason)
    return await _view(uow, order_id, by)


@router.post("/{order_id}/payment", response_model=OrderView,
             responses={409: {"description": "The payment change does not fit the order's status, or the order is "
                                             "paid with store credit"}})
async def change_payment(order_id: str, change: PaymentChange, uow: UnitOfWork,
                         by: Annotated[Principal, caller(CONNECTOR, FINANCE_CLERK, rate_limited=True)]):
    """A payment update from the order's own channel's connector, or recorded by finance: authorized/captured
    releases a payment hold, failed rejects. An order paid with store credit (payment.method store_credit) is
    settled only by finance redeeming or declining the credit (StoreCreditChanged on finance.events.v1)."""
    detail = lifecycle.payment_detail(change.amount, change.reference)
    await lifecycle.update_payment(uow, order_id, change.status.value, by, detail)
    return await _view(uow, order_id, by)


@router.get("", response_model=OrderPage)
async def list_orders(
    uow: UnitOfWork,
    by: Annotated[Principal, caller(CONNECTOR, *STAFF_ROLES)],
    channel: str | None = None,
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    """A connector pages through its own channels' orders only."""
    after_id = _decode_cursor(cursor) if cursor else None
    records = await uow.orders.page(channel=channel, status=status_filter, limit=limit, after_id=after_id,
                                    channels=readable_channels(by))
    next_cursor = _encode_cursor(records[-1].id) if len(records) == limit else None
    return OrderPage(items=[OrderSummary.of(record.model_dump(), by) for record in records], next_cursor=next_cursor)


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


class UnknownSkuRuleIn(Document):
    model_config = ConfigDict(extra="forbid")

    action: UnknownSkuAction = Field(description="hold: on_hold with inventory_hold until the catalog knows every "
                                                 "SKU of the order; reject: OrderRejected naming lines.N.sku")


class UnknownSkuRuleView(BaseModel):
    channel: str
    action: UnknownSkuAction
    updated_by: str | None = Field(description="null: the channel has no rule, the service's default applies")
    updated_at: datetime | None


@rules_router.get("/unknown-skus/{channel}", response_model=UnknownSkuRuleView)
async def get_unknown_sku_rule(channel: Channel, request: Request, uow: UnitOfWork,
                               by: Annotated[Principal, caller(SUPERVISOR)]):
    """What the channel's orders for SKUs the catalog does not know (or discontinued) get: its own rule, else
    the service's default (ORDER_UNKNOWN_SKU_ACTION)."""
    return await _unknown_sku_rule_view(uow, request, channel)


@rules_router.put("/unknown-skus/{channel}", response_model=UnknownSkuRuleView)
async def put_unknown_sku_rule(channel: Channel, body: UnknownSkuRuleIn, request: Request, uow: UnitOfWork,
                               by: Annotated[Principal, caller(SUPERVISOR)]):
    """Sets the channel's rule for orders placed from now on; recorded as set by the token's subject."""
    await catalog.set_unknown_sku_rule(uow, channel, body.action, by)
    return await _unknown_sku_rule_view(uow, request, channel)


async def _unknown_sku_rule_view(uow: OrderUnitOfWork, request: Request, channel: str) -> UnknownSkuRuleView:
    rule = await uow.orders.unknown_sku_rule(channel)
    if rule is None:
        return UnknownSkuRuleView(channel=channel, action=request.app.state.runtime.settings.unknown_sku_action,
                                  updated_by=None, updated_at=None)
    return UnknownSkuRuleView(**rule)
