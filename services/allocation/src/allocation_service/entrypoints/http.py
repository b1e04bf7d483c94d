"""HTTP API: availability and reservations for connectors and staff; stock, rules and reconciliation for
supervisors and admins. Every route takes the issuer's bearer token (ecomops_common.access)."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from allocation_service.domain.rules import DEFAULT_RULES, SourcingRules, rules_for
from allocation_service.domain.soft_reservations import SoftReservation
from allocation_service.domain.supply import atp_by_date
from allocation_service.service_layer import soft_reservations
from allocation_service.service_layer.allocation import OrderUnknown, StockLevel, set_stock_levels
from allocation_service.service_layer.availability import availability, inbound_plan
from allocation_service.service_layer.reconcile import reconcile
from allocation_service.service_layer.rules import put_rules
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.access import caller
from ecomops_common.auth import (
    ADMIN,
    AUDITOR,
    CONNECTOR,
    CUSTOMER_SERVICE,
    STAFF_ROLES,
    SUPERVISOR,
    Principal,
)
from ecomops_common.contracts.allocation import AllocatedLine, BackorderedLine
from ecomops_common.contracts.catalog import SKU_PATTERN
from ecomops_common.contracts.inventory import AvailabilityChanged
from ecomops_common.contracts.types import INT4_MAX, Document, Money
from ecomops_common.errors import FieldProblem, Forbidden
from ecomops_common.http import entered_unit_of_work

router = APIRouter(prefix="/v1", tags=["allocation"])
NODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CHANNEL_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
RESERVATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
SOFT_RESERVERS = (CONNECTOR, CUSTOMER_SERVICE, SUPERVISOR)
ReservationId = Annotated[str, Path(pattern=RESERVATION_ID_PATTERN)]
UnitOfWork = Annotated[AllocationUnitOfWork, Depends(entered_unit_of_work)]


class StockLevelInput(Document):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    node: str = Field(pattern=NODE_PATTERN)
    on_hand: int | None = Field(default=None, ge=0, le=INT4_MAX, description="Sellable on-hand; omit to keep")
    safety_stock: int | None = Field(default=None, ge=0, le=INT4_MAX,
                                     description="Units never promised; omit to keep")

    @model_validator(mode="after")
    def _something_to_set(self) -> "StockLevelInput":
        if self.on_hand is None and self.safety_stock is None:
            raise ValueError("give on_hand, safety_stock or both")
        return self


class StockLevels(Document):
    levels: list[StockLevelInput] = Field(min_length=1, max_length=5000)


class StockApplied(BaseModel):
    applied: int = Field(description="Levels applied")


class AvailabilityPage(BaseModel):
    items: list[AvailabilityChanged]


class DatedAtpView(BaseModel):
    date: date
    inbound: int = Field(description="Units arriving that day that no backorder takes (overdue ones: the first day)")
    atp: int = Field(description="Available to promise by the end of that day")


class NodeAtpView(BaseModel):
    node: str
    on_hand: int
    reserved: int
    soft_reserved: int
    safety_stock: int
    dates: list[DatedAtpView]


class AtpView(BaseModel):
    sku: str
    as_of: datetime
    backordered: int = Field(description="Units waiting on backorder: they take inbound first, in queue order")
    nodes: list[NodeAtpView]
    total: list[DatedAtpView] = Field(description="The nodes shown, summed per day")


class SoftLineInput(Document):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=INT4_MAX)


class SoftReservationRequest(Document):
    model_config = ConfigDict(extra="forbid")

    reservation_id: str | None = Field(default=None, pattern=RESERVATION_ID_PATTERN,
                                       description="Yours, to resend safely; one is made when omitted")
    channel: str = Field(pattern=CHANNEL_PATTERN)
    node: str | None = Field(default=None, pattern=NODE_PATTERN, description="Hold at this node; omit for any")
    lines: list[SoftLineInput] = Field(min_length=1, max_length=500)
    expires_in_s: int | None = Field(default=None, ge=1, le=INT4_MAX,
                                     description="Seconds the units are held; the service's default when omitted")


class SoftHoldView(BaseModel):
    sku: str
    node: str
    quantity: int


class SoftReservationView(BaseModel):
    reservation_id: str
    channel: str
    node: str | None
    status: Literal["active", "released", "expired", "converted"]
    lines: list[SoftLineInput]
    holds: list[SoftHoldView] = Field(description="Where the units are (were) held")
    expires_at: datetime
    created_by: str
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None
    order_id: str | None = Field(description="The order that converted it")

    @classmethod
    def of(cls, reservation: SoftReservation) -> "SoftReservationView":
        return cls(reservation_id=reservation.reservation_id, channel=reservation.channel, node=reservation.node,
                   status=reservation.status.value,
                   lines=[SoftLineInput(sku=sku, quantity=qty) for sku, qty in reservation.lines],
                   holds=[SoftHoldView(sku=h.sku, node=h.node, quantity=h.qty) for h in reservation.holds],
                   expires_at=reservation.expires_at, created_by=reservation.created_by,
                   created_at=reservation.created_at, ended_by=reservation.ended_by, ended_at=reservation.ended_at,
                   order_id=reservation.order_id)


class ReservationsView(BaseModel):
    order_id: str
    channel: str
    status: Literal["held", "pending", "allocated", "partially_allocated", "backordered", "released"]
    revision: int
    lines: list[AllocatedLine] = Field(description="Units still reserved")
    backordered: list[BackorderedLine]
    picked: list[AllocatedLine] = Field(description="Units the warehouse has picked: no longer reserved")


class RulesDocument(Document):
    model_config = ConfigDict(extra="forbid")

    allow_split: StrictBool = True
    short_stock: Literal["partial", "backorder"] = Field(
        default="partial", description="partial: ship what exists, backorder the rest; backorder: all or nothing")
    protected_quantity: int = Field(default=0, ge=0, le=INT4_MAX,
                                    description="ATP per SKU and node this channel may not take")
    node_priority: dict[str, Annotated[list[str], Field(max_length=1000)]] = Field(
        default_factory=dict, max_length=1000, description="Ship-to country -> nodes, best first")
    node_cost: dict[str, Money] = Field(default_factory=dict, max_length=1000,
                                       description="Shipping cost per node, the tie-break")

    def as_rules(self) -> SourcingRules:
        return SourcingRules(allow_split=self.allow_split, short_stock=self.short_stock,
                             protected_quantity=self.protected_quantity, node_priority=self.node_priority,
                             node_cost=self.node_cost)

    @classmethod
    def of(cls, rules: SourcingRules) -> "RulesDocument":
        return cls(allow_split=rules.allow_split, short_stock=rules.short_stock,
                   protected_quantity=rules.protected_quantity,
                   node_priority={c: list(nodes) for c, nodes in rules.node_priority.items()},
                   node_cost=dict(rules.node_cost))


class ChannelRulesView(BaseModel):
    channel: str
    rules: RulesDocument
    default: bool = Field(description="True when the channel has no rules of its own")
    updated_by: str | None = None
    updated_at: datetime | None = None


class ExceptionView(BaseModel):
    id: str
    sku: str
    node: str
    shortfall: int
    affected_order_ids: list[str]
    raised_at: datetime


class DriftView(BaseModel):
    sku: str
    node: str
    counter: str = Field(description="reserved (orders' reservations) or soft_reserved (active soft reservations)")
    reserved: int | None = Field(description="The position's counter; null when it has no position at all")
    live: int = Field(description="Units the reservation records hold")


class ReconciliationReport(BaseModel):
    ok: bool
    drift: list[DriftView]


@router.put("/stock", response_model=StockApplied, dependencies=[caller(ADMIN)])
async def put_stock_levels(body: StockLevels, uow: UnitOfWork):
    """Seeds stock until the warehouse service publishes inventory.stock.v1 (same use case): admins only, since a
    level here is not a counted fact (supervisors correct stock through the warehouse's counts and approvals). An
    admin's level always applies and carries no version: the warehouse's next level replaces it, its older ones
    do not."""
    levels = [StockLevel(level.sku, level.node, level.on_hand, level.safety_stock) for level in body.levels]
    return StockApplied(applied=await set_stock_levels(uow, levels))


@router.get("/availability", response_model=AvailabilityPage, dependencies=[caller(CONNECTOR, *STAFF_ROLES)])
async def get_availability(uow: UnitOfWork, sku: Annotated[list[str], Query(min_length=1, max_length=500)]):
    """ATP per SKU: per node, in total, and per channel with rules of its own (any other channel sees atp); per
    node the units soft reservations hold and the inbound no backorder takes."""
    positions = await uow.allocation.positions_of(sku)
    rules = await uow.allocation.rules_by_channel()
    plan, _ = await inbound_plan(uow, sku)
    now = datetime.now(UTC)
    return AvailabilityPage(items=[availability(s, positions.values(), rules, now, plan.remaining)
                                   for s in dict.fromkeys(sku)])


@router.get("/atp/{sku:path}", response_model=AtpView, dependencies=[caller(CONNECTOR, *STAFF_ROLES)])
async def get_atp_by_date(request: Request, sku: Annotated[str, Path(pattern=SKU_PATTERN)], uow: UnitOfWork,
                          node: Annotated[str | None, Query(pattern=NODE_PATTERN)] = None,
                          days: Annotated[int | None, Query(ge=1, le=366)] = None):
    """ATP per node and day from today (UTC): today's ATP plus the open purchase orders and transfers arrived by
    then, net of the backorders queued before (they take inbound first). `days`: the service's default if
    omitted. A SKU allocation has never seen has no nodes."""
    days = days or request.app.state.runtime.settings.atp_days
    now = datetime.now(UTC)
    positions = [p for p in (await uow.allocation.positions_of([sku])).values() if node in (None, p.node)]
    plan, queue = await inbound_plan(uow, [sku])
    nodes = [NodeAtpView(node=p.node, on_hand=p.on_hand, reserved=p.reserved, soft_reserved=p.soft_reserved,
                         safety_stock=p.safety_stock,
                         dates=[DatedAtpView(date=d.day, inbound=d.inbound, atp=d.atp) for d in atp_by_date(
                             p.atp, plan.remaining.get(p.key, {}), now.date(), days)]) for p in positions]
    total = [DatedAtpView(date=dated[0].date, inbound=sum(d.inbound for d in dated), atp=sum(d.atp for d in dated))
             for dated in zip(*(n.dates for n in nodes), strict=True)]
    return AtpView(sku=sku, as_of=now, backordered=sum(entry.qty for entry, _ in queue.values()), nodes=nodes,
                   total=total)


@router.post("/soft-reservations", response_model=SoftReservationView, status_code=201,
             responses={409: {"description": "Not enough stock for the SKUs named (nothing held), or the "
                                             "reservation_id exists with other lines"},
                        422: {"description": "Malformed request, unknown node, TTL above the maximum"}})
async def post_soft_reservation(request: Request, body: SoftReservationRequest, uow: UnitOfWork,
                                by: Annotated[Principal, caller(*SOFT_RESERVERS)]):
    """Holds units for a cart or a quote until `expires_at` (all lines or nothing): orders cannot take them, and
    an order placed with this reservation_id converts them. A connector holds for its own channels only (403).
    Resending the same request answers the reservation made."""
    if not by.acts_for(body.channel):
        raise Forbidden("channel", f"{by.name} acts for the channels {', '.join(sorted(by.channels)) or 'none'}, "
                                   f"not {body.channel}")
    settings = request.app.state.runtime.settings
    expires_in_s = body.expires_in_s or settings.soft_reservation_default_ttl_s
    if expires_in_s > settings.soft_reservation_max_ttl_s:
        raise soft_reservations.InvalidSoftReservation([FieldProblem(
            "expires_in_s", f"at most {settings.soft_reservation_max_ttl_s} seconds")])
    reservation = await soft_reservations.hold(
        uow, body.reservation_id, body.channel, body.node, [(line.sku, line.quantity) for line in body.lines],
        expires_in_s, by.subject)
    return SoftReservationView.of(reservation)


@router.get("/soft-reservations/{reservation_id}", response_model=SoftReservationView)
async def get_soft_reservation(reservation_id: ReservationId, uow: UnitOfWork,
                               by: Annotated[Principal, caller(*SOFT_RESERVERS)]):
    """A connector sees its own channels' soft reservations only (another channel's is not found)."""
    return SoftReservationView.of(await _visible_soft_reservation(uow, reservation_id, by))


@router.delete("/soft-reservations/{reservation_id}", response_model=SoftReservationView)
async def delete_soft_reservation(reservation_id: ReservationId, uow: UnitOfWork,
                                  by: Annotated[Principal, caller(*SOFT_RESERVERS)]):
    """Gives the units back (recorded as ended by the caller); one that ended already is answered as it is."""
    reservation = await _visible_soft_reservation(uow, reservation_id, by)
    return SoftReservationView.of(await soft_reservations.release(uow, reservation, by.subject))


async def _visible_soft_reservation(uow: AllocationUnitOfWork, reservation_id: str, by: Principal) -> SoftReservation:
    reservation = await soft_reservations.get(uow, reservation_id)
    if not by.acts_for(reservation.channel):
        raise soft_reservations.SoftReservationUnknown(f"soft reservation {reservation_id} is unknown")
    return reservation


@router.get("/reservations", response_model=ReservationsView)
async def get_reservations(order_id: str, uow: UnitOfWork,
                           by: Annotated[Principal, caller(CONNECTOR, *STAFF_ROLES)]):
    """A connector sees its own channels' orders only (another channel's is not found)."""
    orders = await uow.allocation.load_orders([order_id], lock=False)
    if not orders or not by.acts_for(orders[0].demand.channel):
        raise OrderUnknown(f"order {order_id} is unknown to allocation")
    order = orders[0]
    return ReservationsView(
        order_id=order.order_id, channel=order.demand.channel, status=order.status.value, revision=order.revision,
        lines=[AllocatedLine(line_id=r.line_id, sku=r.sku, node=r.node, quantity=r.qty) for r in order.reservations],
        backordered=[BackorderedLine(line_id=b.line_id, sku=b.sku, quantity=b.qty,
                                     promised_date=order.promises.get(b.line_id)) for b in order.backorders],
        picked=[AllocatedLine(line_id=f.line_id, sku=f.sku, node=f.node, quantity=f.qty) for f in order.fulfilled])


@router.get("/channels/{channel}/rules", response_model=ChannelRulesView, dependencies=[caller(*STAFF_ROLES)])
async def get_channel_rules(channel: str, uow: UnitOfWork):
    row = await uow.allocation.rules_row(channel)
    rules = await uow.allocation.rules_by_channel()
    if row is None:
        return ChannelRulesView(channel=channel, rules=RulesDocument.of(DEFAULT_RULES), default=True)
    return ChannelRulesView(channel=channel, rules=RulesDocument.of(rules_for(channel, rules)), default=False,
                            updated_by=row["updated_by"], updated_at=row["updated_at"])


@router.put("/channels/{channel}/rules", response_model=ChannelRulesView,
            responses={422: {"description": "Malformed rules, unknown nodes or countries, listed per field"}})
async def put_channel_rules(channel: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")],
                            body: RulesDocument, uow: UnitOfWork, by: Annotated[Principal, caller(ADMIN)]):
    """Recorded as updated by the token's subject."""
    await put_rules(uow, channel, body.as_rules(), by.subject)
    return await get_channel_rules(channel, uow)


@router.get("/exceptions", response_model=list[ExceptionView], dependencies=[caller(*STAFF_ROLES)])
async def list_exceptions(uow: UnitOfWork, limit: Annotated[int, Query(ge=1, le=500)] = 50):
    """Stock that fell below reservations, newest first."""
    return await uow.allocation.recent_exceptions(limit)


@router.get("/reconciliation", response_model=ReconciliationReport, dependencies=[caller(SUPERVISOR, AUDITOR)])
async def get_reconciliation(uow: UnitOfWork):
    """Recomputes reserved quantities from live reservations; drift lists every position that disagrees."""
    drift = await reconcile(uow)
    return ReconciliationReport(ok=not drift, drift=[DriftView(**vars(d)) for d in drift])
