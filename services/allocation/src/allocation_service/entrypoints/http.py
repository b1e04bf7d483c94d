"""HTTP API: availability and reservations for connectors and staff; stock, rules and reconciliation for
supervisors and admins. Every route takes the issuer's bearer token (ecomops_common.access)."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from allocation_service.domain.rules import DEFAULT_RULES, SourcingRules, rules_for
from allocation_service.service_layer.allocation import OrderUnknown, StockLevel, availability, set_stock_levels
from allocation_service.service_layer.reconcile import reconcile
from allocation_service.service_layer.rules import put_rules
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.access import caller
from ecomops_common.auth import ADMIN, AUDITOR, CONNECTOR, STAFF_ROLES, SUPERVISOR, Principal
from ecomops_common.contracts.allocation import AllocatedLine, BackorderedLine
from ecomops_common.contracts.inventory import AvailabilityChanged
from ecomops_common.contracts.types import INT4_MAX, Document, Money
from ecomops_common.http import entered_unit_of_work

router = APIRouter(prefix="/v1", tags=["allocation"])
NODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
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
    reserved: int | None
    live: int


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
    """ATP per SKU: per node, in total, and per channel with rules of its own (any other channel sees atp)."""
    positions = await uow.allocation.positions_of(sku)
    rules = await uow.allocation.rules_by_channel()
    now = datetime.now(UTC)
    return AvailabilityPage(items=[availability(s, positions.values(), rules, now) for s in dict.fromkeys(sku)])


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
        backordered=[BackorderedLine(line_id=b.line_id, sku=b.sku, quantity=b.qty) for b in order.backorders],
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
