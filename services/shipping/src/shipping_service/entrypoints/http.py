"""HTTP API: carrier services and the channels' carrier rules (changed by supervisors), parcels and their labels
(failed ones retried by supervisors), tracking and promised-versus-actual delivery for staff. Every route takes the
issuer's bearer token and names its roles (ecomops_common.access); who made a change is the token's subject, never
a request field."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common.access import caller
from ecomops_common.auth import AUDITOR, CUSTOMER_SERVICE, FINANCE_CLERK, SUPERVISOR, WAREHOUSE_OPERATOR, Principal
from ecomops_common.contracts.types import Document
from ecomops_common.errors import NotFound
from ecomops_common.http import entered_unit_of_work
from shipping_service.domain.parcels import Parcel, ParcelKind, ParcelStatus
from shipping_service.domain.performance import delivery_performance
from shipping_service.domain.rates import CarrierService
from shipping_service.service_layer import configuration, labels
from shipping_service.service_layer.unit_of_work import ShippingUnitOfWork

router = APIRouter(prefix="/v1", tags=["shipping"])
UnitOfWork = Annotated[ShippingUnitOfWork, Depends(entered_unit_of_work)]
NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
SERVICE_KEY = r"^[a-z0-9][a-z0-9._-]{0,63}/[a-z0-9][a-z0-9._-]{0,63}$"
# Staff who read carrier services, parcels, tracking and delivery performance.
READERS = (SUPERVISOR, CUSTOMER_SERVICE, WAREHOUSE_OPERATOR, AUDITOR, FINANCE_CLERK)


class Input(Document):
    model_config = ConfigDict(extra="forbid")


class CarrierServiceInput(Input):
    transit_days: int = Field(ge=0, le=60, description="Business days from the ship date to delivery")
    cutoff: time = Field(description="HH:MM in the node's time zone: later parcels leave the next business day")
    hazmat_allowed: bool = Field(default=False, description="Carries dangerous goods (SKUs with a hazmat class)")
    max_weight_kg: float = Field(gt=0, le=1000)
    active: bool = True


class CarrierServiceView(BaseModel):
    carrier: str
    service: str
    transit_days: int
    cutoff: str
    hazmat_allowed: bool
    max_weight_kg: float
    active: bool
    updated_by: str
    updated_at: datetime


@router.get("/carrier-services", response_model=list[CarrierServiceView], dependencies=[caller(*READERS)])
async def list_carrier_services(uow: UnitOfWork):
    return await uow.shipping.carrier_services()


@router.put("/carrier-services/{carrier}/{service}", response_model=CarrierServiceView,
            responses={422: {"description": "Each field that is wrong"}})
async def put_carrier_service(carrier: Annotated[str, Path(pattern=NAME)], service: Annotated[str, Path(pattern=NAME)],
                              body: CarrierServiceInput, uow: UnitOfWork,
                              by: Annotated[Principal, caller(SUPERVISOR)]):
    """Adds or changes a carrier service: rate shopping uses it for the parcels planned from now on."""
    await configuration.put_carrier_service(uow, CarrierService(
        carrier, service, body.transit_days, body.cutoff.replace(second=0, microsecond=0, tzinfo=None),
        body.hazmat_allowed, body.max_weight_kg, body.active), by.subject)
    return next(row for row in await uow.shipping.carrier_services()
                if (row["carrier"], row["service"]) == (carrier, service))


class ChannelRuleInput(Input):
    carriers: list[Annotated[str, Field(pattern=NAME)]] | None = Field(
        default=None, max_length=50, description="The carriers the channel's parcels may go with; null: any")
    services: list[Annotated[str, Field(pattern=SERVICE_KEY)]] | None = Field(
        default=None, max_length=200, description="`carrier/service` the channel's parcels may go with; null: any")


class ChannelRuleView(BaseModel):
    channel: str
    carriers: list[str] | None
    services: list[str] | None
    updated_by: str | None = Field(description="Null: no rule was set, any carrier service may be used")
    updated_at: datetime | None


@router.get("/rules/carriers/{channel}", response_model=ChannelRuleView, dependencies=[caller(*READERS)])
async def get_channel_rule(channel: Annotated[str, Path(pattern=NAME)], uow: UnitOfWork):
    row = (await uow.shipping.channel_rules([channel])).get(channel)
    if row is None:
        return ChannelRuleView(channel=channel, carriers=None, services=None, updated_by=None, updated_at=None)
    return ChannelRuleView(channel=channel, **row["document"], updated_by=row["updated_by"],
                           updated_at=row["updated_at"])


@router.put("/rules/carriers/{channel}", response_model=ChannelRuleView,
            responses={422: {"description": "Each field that is wrong, e.g. services.0 naming no configured service"}})
async def put_channel_rule(channel: Annotated[str, Path(pattern=NAME)], body: ChannelRuleInput, uow: UnitOfWork,
                           by: Annotated[Principal, caller(SUPERVISOR)]):
    """Restricts the carriers and services a channel's parcels (and its return labels) may be bought with."""
    document = await configuration.put_channel_rule(uow, channel, body.carriers, body.services, by.subject)
    row = (await uow.shipping.channel_rules([channel]))[channel]
    return ChannelRuleView(channel=channel, **document, updated_by=row["updated_by"], updated_at=row["updated_at"])


class ParcelView(BaseModel):
    parcel_id: str = Field(description="`<order_id>@<node>`, or `return:<rma_id>` for a return label")
    kind: ParcelKind
    node: str = Field(description="Where it leaves from; for a return, where it goes to")
    order_id: str | None
    rma_id: str | None
    channel: str | None
    lines: list[dict[str, Any]]
    status: ParcelStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None = Field(description="Why it has no label (yet)")
    weight_kg: float | None
    hazmat: bool | None
    carrier: str | None
    service: str | None
    ship_date: date | None
    estimated_delivery: date | None
    promised_date: date | None
    meets_promise: bool | None
    tracking_number: str | None
    label_url: str | None
    cost: Decimal | None
    currency: str | None
    purchased_at: datetime | None
    dispatched_at: datetime | None
    handed_over_at: datetime | None
    tracking_status: str | None
    delivered_at: datetime | None
    retried_by: str | None
    retried_at: datetime | None


def parcel_view(parcel: Parcel) -> ParcelView:
    return ParcelView(**{**parcel.__dict__, "lines": [{"sku": sku, "quantity": n} for sku, n in parcel.lines]})


@router.get("/parcels", response_model=list[ParcelView], dependencies=[caller(*READERS)])
async def list_parcels(uow: UnitOfWork, status: ParcelStatus | None = None,
                       order_id: Annotated[str | None, Query(max_length=64)] = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Newest first; `status=failed` lists those waiting for a supervisor."""
    return [parcel_view(p) for p in await uow.shipping.parcels(status, order_id, limit)]


@router.get("/parcels/{parcel_id}", response_model=ParcelView, dependencies=[caller(*READERS)])
async def get_parcel(parcel_id: Annotated[str, Path(max_length=160)], uow: UnitOfWork):
    parcel = await uow.shipping.parcel(parcel_id)
    if parcel is None:
        raise labels.ParcelNotFound(f"no parcel {parcel_id}")
    return parcel_view(parcel)


@router.post("/parcels/{parcel_id}/retry", response_model=ParcelView,
             responses={404: {"description": "No such parcel"}, 409: {"description": "The parcel has not failed"}})
async def retry_parcel(parcel_id: Annotated[str, Path(max_length=160)], uow: UnitOfWork,
                       by: Annotated[Principal, caller(SUPERVISOR)]):
    """A failed parcel is tried again (e.g. after a carrier service was changed): with its kept plan and key if a
    label may have been sold already, else choosing a service again."""
    return parcel_view(await labels.retry_parcel(uow, parcel_id, by.subject))


class TrackingEventView(BaseModel):
    event_id: str
    status: str
    description: str | None
    occurred_at: datetime


class TrackingView(BaseModel):
    tracking_number: str
    parcel: ParcelView
    events: list[TrackingEventView] = Field(description="Oldest first")


@router.get("/tracking/{tracking_number}", response_model=TrackingView, dependencies=[caller(*READERS)])
async def get_tracking(tracking_number: Annotated[str, Path(max_length=128)], uow: UnitOfWork):
    parcel = (await uow.shipping.parcels_by_tracking([tracking_number])).get(tracking_number)
    if parcel is None:
        raise NotFound(f"no parcel has tracking number {tracking_number}")
    events = await uow.shipping.tracking_events(tracking_number)
    return TrackingView(tracking_number=tracking_number, parcel=parcel_view(parcel),
                        events=[TrackingEventView(**event) for event in events])


class PerformanceView(BaseModel):
    carrier: str
    service: str
    delivered: int
    with_promise: int = Field(description="Delivered parcels whose order had a promised date")
    on_time: int = Field(description="Delivered by the promised date")
    late: int
    on_time_rate: float | None = Field(description="on_time / with_promise")
    on_estimate: int = Field(description="Delivered by the carrier service's estimate at purchase")
    after_estimate: int
    average_days_late: float | None = Field(description="Days after the promised date, over the late parcels")


@router.get("/delivery-performance", response_model=list[PerformanceView], dependencies=[caller(*READERS)])
async def get_delivery_performance(uow: UnitOfWork, carrier: Annotated[str | None, Query(max_length=64)] = None,
                                   service: Annotated[str | None, Query(max_length=64)] = None,
                                   since: Annotated[date | None, Query(alias="from")] = None,
                                   until: Annotated[date | None, Query(alias="to")] = None):
    """Promised versus actual delivery of delivered parcels per carrier and service; `from` and `to` (both
    included) bound the delivery date (UTC)."""
    if since and until and until < since:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "to"),
                                       "msg": "must not be before from"}])
    deliveries = await uow.shipping.deliveries(
        carrier, service, None if since is None else datetime.combine(since, time(0), UTC),
        None if until is None or until == date.max else datetime.combine(until + timedelta(days=1), time(0), UTC))
    return [PerformanceView(**figures.__dict__) for figures in delivery_performance(deliveries)]
