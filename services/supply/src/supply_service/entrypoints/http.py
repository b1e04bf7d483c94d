"""HTTP API: demand history, replenishment suggestions with their explanation, and purchase orders with their
advance ship notices. Buyers and supervisors change things; finance clerks and auditors read too. Every route
takes the issuer's bearer token and names its roles (ecomops_common.access); who did something is always the
token's subject, never a request field."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common.access import caller
from ecomops_common.auth import AUDITOR, BUYER, FINANCE_CLERK, SUPERVISOR, Principal
from ecomops_common.contracts.catalog import SKU_PATTERN
from ecomops_common.contracts.supply import PurchaseOrderStatus
from ecomops_common.contracts.types import INT4_MAX, MAX_LINE_QUANTITY, CurrencyCode, Document, Money
from ecomops_common.http import entered_unit_of_work
from supply_service.adapters.repository import PO_DOCUMENT
from supply_service.domain.purchase_orders import AnnouncedUnits, PurchaseOrder
from supply_service.domain.replenishment import ServiceTargets
from supply_service.service_layer import purchase_orders, replenishment
from supply_service.service_layer.purchase_orders import LineRequest
from supply_service.service_layer.replenishment import HistoryDay, Planning
from supply_service.service_layer.unit_of_work import SupplyUnitOfWork
from supply_service.settings import SupplySettings

router = APIRouter(prefix="/v1", tags=["supply"])
UnitOfWork = Annotated[SupplyUnitOfWork, Depends(entered_unit_of_work)]
BUYERS = (BUYER, SUPERVISOR)  # who changes demand history and purchase orders
READERS = (*BUYERS, FINANCE_CLERK, AUDITOR)  # finance matches invoices to orders; an auditor reads everything
NODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"  # ids that are path segments
Node = Annotated[str, Field(pattern=NODE_PATTERN, description="The warehouse")]
Sku = Annotated[str, Field(pattern=SKU_PATTERN)]
Units = Annotated[int, Field(ge=0, le=INT4_MAX)]
Note = Annotated[str | None, Field(default=None, max_length=1000)]
PoId = Annotated[str, Path(min_length=1, max_length=64)]


def _settings(request: Request) -> SupplySettings:
    return request.app.state.runtime.settings


def _planning(request: Request) -> Planning:
    settings = _settings(request)
    return Planning(ServiceTargets(settings.service_level, settings.review_period_days,
                                   settings.default_lead_time_days), settings.history_days)


# --- demand history ----------------------------------------------------------------------------------------


class HistoryDayInput(Document):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    date: date
    shipped: Units = Field(description="Units shipped from the node that day")
    restocked: Units = Field(default=0, description="Units returned to the node sellable that day")


class DemandHistoryInput(Document):
    model_config = ConfigDict(extra="forbid")

    node: Node
    days: list[HistoryDayInput] = Field(max_length=10_000)


class DemandHistoryLoaded(BaseModel):
    node: str
    loaded: int


@router.post("/demand-history", response_model=DemandHistoryLoaded,
             responses={422: {"description": "Malformed, a day in the future or a SKU's day twice (named)"}})
async def load_demand_history(body: DemandHistoryInput, uow: UnitOfWork,
                              _by: Annotated[Principal, caller(*BUYERS)]):
    """Past days of a node's demand, for SKUs whose history predates the service: each day given replaces what
    that SKU's day held, so loading a file twice loads it once. Days after it add shipments and returns as the
    warehouse reports them."""
    days = [HistoryDay(day.sku, day.date, day.shipped, day.restocked) for day in body.days]
    return DemandHistoryLoaded(node=body.node, loaded=await replenishment.load_history(uow, body.node, days))


class DemandDayView(BaseModel):
    date: date
    shipped: int
    restocked: int
    net: int = Field(description="shipped − restocked: what the forecast is fitted on")


@router.get("/demand-history", response_model=list[DemandDayView], dependencies=[caller(*READERS)])
async def get_demand_history(sku: Annotated[str, Query(min_length=1, max_length=64)],
                             node: Annotated[str, Query(min_length=1, max_length=64)], uow: UnitOfWork,
                             days: Annotated[int, Query(ge=1, le=730)] = 182):
    """The recorded days of a SKU at a node, oldest first (days without a record had no demand)."""
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    recorded = (await uow.supply.demand(since, node, [sku])).get((sku, node), {})
    return [DemandDayView(date=day, shipped=shipped, restocked=restocked, net=shipped - restocked)
            for day, (shipped, restocked) in sorted(recorded.items())]


# --- replenishment ----------------------------------------------------------------------------------------


class SuggestionView(BaseModel):
    sku: str
    node: str
    vendor_id: str | None
    vendor_sku: str | None
    unit_cost: Money | None
    currency: str | None
    reorder_point: int
    order_up_to: int
    suggested_quantity: int = Field(description="0: nothing to order now")
    explanation: dict[str, Any] = Field(description="The forecast (method, parameters, level, trend, season by "
                                                    "weekday, σ of one-step errors), lead time and its source, "
                                                    "service level and z, safety stock, position, and why")


@router.get("/replenishment", response_model=list[SuggestionView], dependencies=[caller(*READERS)])
async def get_replenishment(request: Request, uow: UnitOfWork,
                            node: Annotated[str | None, Query(max_length=64)] = None,
                            vendor_id: Annotated[str | None, Query(max_length=64)] = None,
                            sku: Annotated[list[str] | None, Query(max_length=1000)] = None,
                            all: Annotated[bool, Query(description="Every SKU×node, also those not due")] = False):
    """Suggestions per SKU×node (with demand, stock or units on order), from the forecast of net demand (shipped
    minus returns restocked) and the position (on hand − reserved + on order); only those due unless ?all=true."""
    found = await replenishment.suggestions(uow, _planning(request), node, vendor_id, sku)
    return [SuggestionView(sku=s.sku, node=s.node, vendor_id=s.vendor_id, vendor_sku=s.vendor_sku,
                           unit_cost=s.unit_cost, currency=s.currency, reorder_point=s.suggestion.reorder_point,
                           order_up_to=s.suggestion.order_up_to, suggested_quantity=s.suggestion.quantity,
                           explanation=s.suggestion.explanation)
            for s in found if all or s.suggestion.quantity > 0]


class DraftRequest(Document):
    model_config = ConfigDict(extra="forbid")

    node: Node
    vendor_id: str | None = Field(default=None, max_length=64, description="Only this vendor's SKUs")
    skus: list[Sku] | None = Field(default=None, max_length=1000, description="Only these SKUs (those not due are "
                                                                             "listed as skipped, with why)")


class PoLineView(BaseModel):
    line_id: str
    sku: str
    vendor_sku: str | None
    quantity: int
    received: int
    open: int = Field(description="Units not yet received")
    in_transit: int = Field(description="Units on advance ship notices not yet received")
    unit_cost: Money
    expected_date: date
    discrepancy: int = Field(description="received − quantity once the line is closed: negative short, positive "
                                         "over")


class StepView(BaseModel):
    reason: str = Field(description="created, approved, sent, asn, received, closed_short, cancelled or "
                                    "received_after_close")
    actor: str = Field(description="The token's subject; for receipts, who booked them in at the warehouse")
    at: datetime
    note: str | None


class PurchaseOrderView(BaseModel):
    po_id: str
    revision: int
    vendor_id: str
    node: str
    status: PurchaseOrderStatus
    currency: str
    total: Money
    expected_date: date
    created_by: str
    approved_by: str | None
    lines: list[PoLineView]
    asns: list[dict[str, Any]] = Field(description="Advance ship notices: id, expected date, lines with lot, expiry "
                                                   "and units received against them, who issued them")
    timeline: list[StepView]


def _view(order: PurchaseOrder) -> PurchaseOrderView:
    document = PO_DOCUMENT.dump_python(order, mode="json")
    lines = [PoLineView(**line, open=order.lines[n].open, in_transit=order.in_transit(line["line_id"]))
             for n, line in enumerate(document["lines"])]
    return PurchaseOrderView(**{**document, "lines": lines, "total": order.total})


class DraftedOrders(BaseModel):
    purchase_orders: list[PurchaseOrderView]
    skipped: list[dict[str, str]] = Field(description="SKUs left out and why: no vendor or unit cost in the "
                                                      "catalog, or (asked for by name) nothing due")


@router.post("/replenishment/purchase-orders", response_model=DraftedOrders, status_code=status.HTTP_201_CREATED)
async def draft_from_suggestions(body: DraftRequest, request: Request, uow: UnitOfWork,
                                 by: Annotated[Principal, caller(*BUYERS)]):
    """The node's due suggestions as draft purchase orders, one per vendor and currency, created by the token's
    subject; quantities in whole case packs, at least the minimum order quantity."""
    orders, skipped = await replenishment.draft_purchase_orders(uow, _planning(request), body.node, by.subject,
                                                                body.vendor_id, body.skus)
    return DraftedOrders(purchase_orders=[_view(order) for order in orders], skipped=skipped)


# --- purchase orders -----------------------------------------------------------------------------------------


class PoLineInput(Document):
    model_config = ConfigDict(extra="forbid")

    line_id: str | None = Field(default=None, pattern=ID_PATTERN, description="Default: the line's position, 1...")
    sku: Sku
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)
    unit_cost: Annotated[Money | None, Field(ge=0)] = Field(default=None, description="Default: the catalog's, "
                                                                                     "in the order's currency")
    vendor_sku: str | None = Field(default=None, min_length=1, max_length=64, description="Default: the catalog's")
    expected_date: date | None = Field(default=None, description="Default: the order's")


class PurchaseOrderInput(Document):
    model_config = ConfigDict(extra="forbid")  # the creator is the token's subject, not a field

    po_id: str | None = Field(default=None, pattern=ID_PATTERN, description="Default: a new id")
    vendor_id: str = Field(min_length=1, max_length=64, description="As the catalog names vendors")
    node: Node
    currency: CurrencyCode
    expected_date: date
    lines: list[PoLineInput] = Field(min_length=1, max_length=1_000)
    note: Note


PO_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such purchase order"},
    409: {"description": "The order's status does not allow the step (the answer names it)"}}


@router.post("/purchase-orders", response_model=PurchaseOrderView, status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "po_id is taken"},
                        422: {"description": "Malformed, or a rule refuses a field (named): an unknown, bundle or "
                                             "discontinued SKU, no unit cost, a date in the past, a SKU twice"}})
async def create_purchase_order(body: PurchaseOrderInput, uow: UnitOfWork,
                                by: Annotated[Principal, caller(*BUYERS)]):
    """A draft, created by the token's subject."""
    lines = [LineRequest(line.sku, line.quantity, line.unit_cost, line.vendor_sku, line.expected_date, line.line_id)
             for line in body.lines]
    return _view(await purchase_orders.create(uow, body.vendor_id, body.node, body.currency, body.expected_date,
                                              lines, by.subject, po_id=body.po_id, note=body.note))


@router.get("/purchase-orders", response_model=list[PurchaseOrderView], dependencies=[caller(*READERS)])
async def list_purchase_orders(uow: UnitOfWork, status: PurchaseOrderStatus | None = None,
                               vendor_id: Annotated[str | None, Query(max_length=64)] = None,
                               node: Annotated[str | None, Query(max_length=64)] = None,
                               limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Most recently changed first; ?status=draft lists those awaiting approval."""
    return [_view(order) for order in await uow.supply.purchase_orders(status and status.value, vendor_id, node,
                                                                        limit)]


@router.get("/purchase-orders/{po_id}", response_model=PurchaseOrderView, responses=PO_RESPONSES,
            dependencies=[caller(*READERS)])
async def get_purchase_order(po_id: PoId, uow: UnitOfWork):
    """With its notices and timeline: who did what, when."""
    order = await uow.supply.purchase_order(po_id, lock=False)
    if order is None:
        raise purchase_orders.PurchaseOrderNotFound(f"purchase order {po_id} not found")
    return _view(order)


class StepInput(Document):
    model_config = ConfigDict(extra="forbid")  # who took the step is the token's subject

    note: Note


@router.post("/purchase-orders/{po_id}/approve", response_model=PurchaseOrderView, responses={
    **PO_RESPONSES, 403: {"description": "Without the role; or `four_eyes`: the order totals more than the approval "
                                         "threshold and the caller created it"}})
async def approve_purchase_order(po_id: PoId, request: Request, uow: UnitOfWork,
                                 by: Annotated[Principal, caller(*BUYERS)], body: StepInput | None = None):
    """Approved by the token's subject; above `SUPPLY_PO_APPROVAL_THRESHOLD` (in the order's currency) not by
    its creator."""
    return _view(await purchase_orders.approve(uow, po_id, by.subject, _settings(request).po_approval_threshold,
                                               body and body.note))


@router.post("/purchase-orders/{po_id}/send", response_model=PurchaseOrderView, responses=PO_RESPONSES)
async def send_purchase_order(po_id: PoId, uow: UnitOfWork, by: Annotated[Principal, caller(*BUYERS)],
                              body: StepInput | None = None):
    """An approved order goes to the vendor."""
    return _view(await purchase_orders.send(uow, po_id, by.subject, body and body.note))


@router.post("/purchase-orders/{po_id}/cancel", response_model=PurchaseOrderView, responses=PO_RESPONSES)
async def cancel_purchase_order(po_id: PoId, uow: UnitOfWork, by: Annotated[Principal, caller(*BUYERS)],
                                body: StepInput | None = None):
    """Before any advance ship notice; after one, close it short."""
    return _view(await purchase_orders.cancel(uow, po_id, by.subject, body and body.note))


@router.post("/purchase-orders/{po_id}/close", response_model=PurchaseOrderView, responses=PO_RESPONSES)
async def close_purchase_order(po_id: PoId, uow: UnitOfWork, by: Annotated[Principal, caller(*BUYERS)],
                               body: StepInput | None = None):
    """Close short: nothing more is expected; each line keeps its discrepancy (received − ordered)."""
    return _view(await purchase_orders.close_short(uow, po_id, by.subject, body and body.note))


class AsnLineInput(Document):
    model_config = ConfigDict(extra="forbid")

    po_line_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    expiry: date | None = None


class AsnInput(Document):
    model_config = ConfigDict(extra="forbid")  # who issued it is the token's subject

    asn_id: str = Field(pattern=ID_PATTERN)
    expected_date: date
    lines: list[AsnLineInput] = Field(min_length=1, max_length=1_000)


@router.post("/purchase-orders/{po_id}/asns", response_model=PurchaseOrderView, status_code=status.HTTP_201_CREATED,
             responses={**PO_RESPONSES,
                        409: {"description": "The order is not sent (or partially received), or asn_id is taken"},
                        422: {"description": "Malformed, an unknown or repeated po_line_id, more than is open on "
                                             "a line (lines.N.quantity), a date in the past"}})
async def issue_asn(po_id: PoId, body: AsnInput, uow: UnitOfWork, by: Annotated[Principal, caller(*BUYERS)]):
    """The vendor's advance ship notice, recorded by the token's subject: the warehouse expects its units
    (AdvanceShipNoticeIssued), and the lines on it expect them on its date."""
    lines = [AnnouncedUnits(line.po_line_id, line.quantity, line.lot, line.expiry) for line in body.lines]
    return _view(await purchase_orders.issue_asn(uow, po_id, body.asn_id, body.expected_date, lines, by.subject))
