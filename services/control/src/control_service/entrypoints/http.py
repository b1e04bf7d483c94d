"""HTTP API of the control tower: KPIs (JSON or CSV), the exception inbox and its actions, order 360, inventory,
the returns pipeline and business alerts. Every route takes the issuer's bearer token (ecomops_common.access);
actions are done by the owning services with that same token (service_layer/actions.py)."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from control_service.domain.inbox import KINDS, ageing, escalation, kinds_for
from control_service.domain.kpis import KPIS, Window
from control_service.domain.vendors import Claim, vendor_kpis
from control_service.service_layer.actions import Outcome, ServiceClient, perform
from control_service.service_layer.unit_of_work import ControlUnitOfWork
from ecomops_common.access import bearer_token, caller
from ecomops_common.auth import AUDITOR, FINANCE_CLERK, REFUND_APPROVER, STAFF_ROLES, SUPERVISOR, Principal
from ecomops_common.contracts.types import Document
from ecomops_common.http import entered_unit_of_work
from ecomops_common.personal_data import masked_text

router = APIRouter(prefix="/v1", tags=["control"])
UnitOfWork = Annotated[ControlUnitOfWork, Depends(entered_unit_of_work)]
Staff = Annotated[Principal, caller(*STAFF_ROLES)]
Token = Annotated[str, Depends(bearer_token)]
# Who may see money: the finance pages and the KPIs in a currency.
FINANCE_VIEWERS = (FINANCE_CLERK, AUDITOR, SUPERVISOR, REFUND_APPROVER)
MONEY_KPIS = frozenset({"pending_return_liability", "margin_impact_of_returns"})
MAX_DAYS = {"hour": 31, "day": 400, "week": 800, "month": 1200}
Name = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")]


def now() -> datetime:
    return datetime.now(UTC)


def may_see_money(principal: Principal) -> bool:
    return principal.has_role(*FINANCE_VIEWERS)


def services(request: Request) -> ServiceClient:
    return request.app.state.services


def escalation_slas(request: Request) -> dict[str, timedelta]:
    return request.app.state.runtime.settings.escalation_slas()


Slas = Annotated[dict[str, timedelta], Depends(escalation_slas)]


# --- KPIs -------------------------------------------------------------------------------------------------------


class KpiDefinition(BaseModel):
    name: str
    title: str
    definition: str
    unit: str
    filters: list[str]
    per_period: bool
    group_by: list[str]


class KpiResult(BaseModel):
    kpi: KpiDefinition
    start: datetime | None
    end: datetime | None
    grain: str | None
    filters: dict[str, str]
    rows: list[dict[str, Any]]


def definition(name: str) -> KpiDefinition:
    kpi = KPIS[name]
    return KpiDefinition(name=kpi.name, title=kpi.title, definition=kpi.definition, unit=kpi.unit,
                         filters=list(kpi.filters), per_period=kpi.per_period, group_by=list(kpi.group_by))


@router.get("/kpis", response_model=list[KpiDefinition])
async def list_kpis(by: Staff):
    """Every KPI with its written definition and what it can be filtered and broken down by."""
    return [definition(name) for name in KPIS if name not in MONEY_KPIS or may_see_money(by)]


def _utc(moment: datetime) -> datetime:
    """In UTC; a time without a zone is taken as UTC."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def kpi_window(start: datetime | None, end: datetime | None, grain: str) -> Window:
    end = _utc(end) if end else now()
    start = _utc(start) if start else end - timedelta(days=7)
    if start >= end:
        raise HTTPException(422, "from: must be before to")
    if end - start > timedelta(days=MAX_DAYS[grain]):
        raise HTTPException(422, f"from: at most {MAX_DAYS[grain]} days per {grain}")
    return Window(start, end, grain)


def kpi_filters(name: str, given: dict[str, str | None], by: str | None) -> dict[str, str]:
    kpi = KPIS[name]
    filters = {field: value for field, value in given.items() if value is not None}
    for field in filters:
        if field not in kpi.filters:
            raise HTTPException(422, f"{field}: {name} cannot be filtered by {field}; it takes "
                                     f"{', '.join(kpi.filters) or 'no filters'}")
    if by is not None and by not in kpi.group_by:
        raise HTTPException(422, f"by: {name} " + (f"is broken down by one of {', '.join(kpi.group_by)}"
                                                   if kpi.group_by else "takes no breakdown"))
    return filters


async def compute_kpi(uow: ControlUnitOfWork, principal: Principal, name: str, start: datetime | None,
                      end: datetime | None, grain: str, given: dict[str, str | None], by: str | None, *,
                      slas: dict[str, timedelta]) -> KpiResult:
    """One KPI for the API and the console: checked (name, role, filters, window) then computed."""
    if name not in KPIS:
        raise HTTPException(404, f"name: no KPI {name!r}; see GET /v1/kpis")
    if name in MONEY_KPIS and not may_see_money(principal):
        raise HTTPException(403, f"{name} is for roles {', '.join(FINANCE_VIEWERS)}")
    filters = kpi_filters(name, given, by)
    window = kpi_window(start, end, grain)
    rows = await uow.read_model.kpi(name, window, filters, now(), by=by, slas=slas)
    per_period = KPIS[name].per_period
    return KpiResult(kpi=definition(name), start=window.start if per_period else None,
                     end=window.end if per_period else None, grain=grain if per_period else None, filters=filters,
                     rows=rows)


def as_csv(result: KpiResult) -> Response:
    out = io.StringIO()
    columns = list(result.rows[0]) if result.rows else ["period", "value"]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        writer.writerow({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{result.kpi.name}.csv"'})


class VendorKpiRow(BaseModel):
    vendor_id: str
    units_shipped: int = Field(description="Units shipped of the SKUs the vendor supplies")
    defective_units: int = Field(description="Units on the vendor's claims (each claim's latest state)")
    defect_rate: float | None = Field(description="defective_units ÷ units_shipped; null when none shipped")
    currency: str | None = Field(description="Of the amounts; null while no claim of the vendor has a cost")
    claimed: Decimal = Field(description="Claims submitted or later")
    accepted: Decimal
    credited: Decimal
    recovery_rate: float | None = Field(description="credited ÷ claimed; null when nothing is claimed")
    open_claims: int = Field(description="Drafts with lines and claims awaiting the vendor's answer or credit")


async def supplier_kpis(uow: ControlUnitOfWork, principal: Principal) -> list[VendorKpiRow]:
    """Defect and recovery rates per vendor and currency, for the roles that may see money."""
    if not may_see_money(principal):
        raise HTTPException(403, f"supplier KPIs are for roles {', '.join(FINANCE_VIEWERS)}")
    claims = [Claim(**row) for row in await uow.read_model.vendor_claims()]
    return [VendorKpiRow(**vars(row)) for row in vendor_kpis(await uow.read_model.units_shipped_per_vendor(),
                                                              claims)]


@router.get("/kpis/vendors", response_model=list[VendorKpiRow],
            responses={403: {"description": "Not a role that may see money (as the money KPIs)"}})
async def get_vendor_kpis(uow: UnitOfWork, by: Staff):
    """Supplier defect rate and recovery rate per vendor (and currency of its claims), over everything seen;
    shipped units count for a SKU's current vendor."""
    return await supplier_kpis(uow, by)


@router.get("/kpis/{name}", response_model=KpiResult, responses={200: {"content": {"text/csv": {}}}})
async def get_kpi(name: Annotated[str, Path(max_length=64)], uow: UnitOfWork, by: Staff, slas: Slas,
                  start: Annotated[datetime | None, Query(alias="from", description="Default: 7 days before")] = None,
                  end: Annotated[datetime | None, Query(alias="to", description="Default: now")] = None,
                  grain: Literal["hour", "day", "week", "month"] = "day", channel: Name | None = None,
                  node: Name | None = None, sku: Name | None = None, category: Name | None = None,
                  carrier: Name | None = None, service: Name | None = None,
                  breakdown: Annotated[str | None, Query(alias="by", max_length=16)] = None,
                  format: Literal["json", "csv"] = "json"):
    """One KPI per period (or now, for positions), filtered as it allows; `format=csv` for a spreadsheet."""
    result = await compute_kpi(uow, by, name, start, end, grain, {
        "channel": channel, "node": node, "sku": sku, "category": category, "carrier": carrier, "service": service},
        breakdown, slas=slas)
    return as_csv(result) if format == "csv" else result


# --- the exception inbox ------------------------------------------------------------------------------------------


class ActionView(BaseModel):
    name: str
    label: str
    bulk: bool


class InboxItem(BaseModel):
    item_id: str
    kind: str
    title: str
    owner_role: str
    summary: str
    since: datetime
    age_s: int
    due_at: datetime
    breached: bool
    escalated: bool = Field(description="Older than its queue's escalation age (supervisor queues only)")
    escalated_at: datetime | None = Field(description="When it passed that age; it stays once recorded")
    sla_seconds: int | None = Field(description="Its queue's escalation age; null: the queue does not escalate")
    age_seconds: int
    order_id: str | None
    rma_id: str | None
    node: str | None
    channel: str | None
    sku: str | None
    reference: dict[str, Any]
    actions: list[ActionView]


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    page: int
    page_size: int
    counts: dict[str, int] = Field(description="Open items per kind the caller sees (whatever the filters)")


def inbox_item(row: dict[str, Any], at: datetime, slas: dict[str, timedelta]) -> InboxItem:
    kind = KINDS[row["kind"]]
    escalated = escalation(kind.name, row["since"], row["escalated_at"], at, slas)
    return InboxItem(**{key: row[key] for key in ("item_id", "kind", "summary", "since", "order_id", "rma_id", "node",
                                                  "channel", "sku", "reference")},
                     title=kind.title, owner_role=kind.owner_role,
                     # an escalating queue is due at its configured age
                     **ageing(row["since"], row["visible_from"], slas.get(kind.name, kind.sla), at),
                     **vars(escalated),
                     actions=[ActionView(name=a.name, label=a.label, bulk=a.bulk) for a in kind.actions])


async def inbox_page(uow: ControlUnitOfWork, principal: Principal, slas: dict[str, timedelta], *, kind: str | None,
                     node: str | None, channel: str | None, min_age_hours: float | None, escalated: bool | None,
                     page: int, page_size: int) -> InboxPage:
    kinds = kinds_for(principal.roles)
    if kind is not None and kind not in KINDS:
        raise HTTPException(422, f"kind: one of {', '.join(KINDS)}")
    at = now()
    found = await uow.read_model.inbox(kinds, at, kind=kind, node=node, channel=channel,
                                       min_age_s=int(min_age_hours * 3600) if min_age_hours else None,
                                       escalated=escalated, slas=slas, page=page, page_size=page_size)
    return InboxPage(items=[inbox_item(row, at, slas) for row in found.items], total=found.total, page=page,
                     page_size=page_size, counts=await uow.read_model.open_counts(kinds, at))


Page = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


@router.get("/inbox", response_model=InboxPage)
async def get_inbox(uow: UnitOfWork, by: Staff, slas: Slas, kind: Name | None = None, node: Name | None = None,
                    channel: Name | None = None,
                    min_age_hours: Annotated[float | None, Query(ge=0, le=24 * 3650)] = None,
                    escalated: Annotated[bool | None, Query(description="true: only escalated items; false: "
                                                                        "only the others")] = None,
                    page: Page = 1, page_size: PageSize = 50):
    """Open items of the kinds the caller's roles own (supervisors, auditors, admins: all), oldest first."""
    return await inbox_page(uow, by, slas, kind=kind, node=node, channel=channel, min_age_hours=min_age_hours,
                            escalated=escalated, page=page, page_size=page_size)


class ActionRequest(Document):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000, description="Recorded by the owning service")


class BulkActionRequest(ActionRequest):
    item_ids: list[Annotated[str, Field(max_length=300)]] = Field(min_length=1, max_length=100)


class ActionResult(BaseModel):
    item_id: str
    status: int
    message: str
    detail: Any = None


async def act(uow: ControlUnitOfWork, principal: Principal, token: str, client: ServiceClient, item_id: str,
              action: str, note: str | None) -> Outcome:
    item = await uow.read_model.inbox_item(item_id)
    if item is None or item["kind"] not in kinds_for(principal.roles):
        return Outcome(404, f"item_id: no inbox item {item_id!r} for your roles")
    return await perform(action, item, token=token, actor=principal.subject, note=note, uow=uow, services=client)


@router.post("/inbox/{item_id}/actions/{action}", response_model=ActionResult,
             responses={404: {"description": "No such item for the caller's roles"},
                        409: {"description": "Closed already, or the owning service refused"},
                        422: {"description": "The action does not apply to the item"}})
async def act_on_item(item_id: Annotated[str, Path(max_length=300)], action: Annotated[str, Path(max_length=64)],
                      request: ActionRequest, uow: UnitOfWork, by: Staff, token: Token,
                      client: Annotated[ServiceClient, Depends(services)], response: Response):
    """Done by the service owning what it changes, with the caller's token: it checks the caller's role and
    segregation of duties, and its answer is passed on."""
    outcome = await act(uow, by, token, client, item_id, action, request.note)
    if not outcome.ok:
        raise HTTPException(outcome.status, outcome.message)
    response.status_code = outcome.status
    return ActionResult(item_id=item_id, status=outcome.status, message=outcome.message, detail=outcome.detail)


@router.post("/inbox/actions/{action}", response_model=list[ActionResult])
async def act_on_items(action: Annotated[str, Path(max_length=64)], request: BulkActionRequest, uow: UnitOfWork,
                       by: Staff, token: Token, client: Annotated[ServiceClient, Depends(services)]):
    """One action on many items, where nothing is decided per item (release holds, acknowledge, redrive); each
    item's own outcome is listed."""
    if not any(a.name == action and a.bulk for kind in KINDS.values() for a in kind.actions):
        raise HTTPException(422, f"action: {action!r} is not a bulk action")
    results = []
    for item_id in dict.fromkeys(request.item_ids):
        outcome = await act(uow, by, token, client, item_id, action, request.note)
        results.append(ActionResult(item_id=item_id, status=outcome.status, message=outcome.message,
                                    detail=outcome.detail))
    return results


# --- orders, inventory, returns, alerts -----------------------------------------------------------------------------


class OrderPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int


def shown_order(row: dict[str, Any], principal: Principal) -> dict[str, Any]:
    if not principal.sees_personal_data:
        row = {**row, "customer_id": masked_text(row.get("customer_id"))}
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


@router.get("/orders", response_model=OrderPage)
async def search_orders(uow: UnitOfWork, by: Staff,
                        q: Annotated[str | None, Query(max_length=128, description="Order id, the channel's order "
                                                       "id, or (personal-data roles) the customer id")] = None,
                        channel: Name | None = None, status: Name | None = None, page: Page = 1,
                        page_size: PageSize = 50):
    found = await uow.read_model.orders(query=q, channel=channel, status=status, by_customer=by.sees_personal_data,
                                        page=page, page_size=page_size)
    return OrderPage(items=[shown_order(row, by) for row in found.items], total=found.total, page=page,
                     page_size=page_size)


class OrderView(BaseModel):
    order: dict[str, Any] | None = Field(description="What the topics told of the order; null if only events "
                                                     "naming it were seen")
    returns: list[dict[str, Any]]
    timeline: list[dict[str, Any]] = Field(description="Every fact naming the order or its returns, in time order")


async def order_view(uow: ControlUnitOfWork, principal: Principal, order_id: str) -> OrderView:
    order = await uow.read_model.order(order_id)
    timeline = await uow.read_model.timeline(order_id)
    if order is None and not timeline:
        raise HTTPException(404, f"order_id: no order {order_id!r} in the read model")
    return OrderView(order=shown_order(order, principal) if order else None,
                     returns=await uow.read_model.returns_of(order_id), timeline=timeline)


@router.get("/orders/{order_id}", response_model=OrderView)
async def get_order(order_id: Annotated[str, Path(max_length=64)], uow: UnitOfWork, by: Staff):
    """Order 360: the order as every service told of it, its returns and its cross-service timeline."""
    return await order_view(uow, by, order_id)


@router.get("/inventory", response_model=OrderPage)
async def get_inventory(uow: UnitOfWork, by: Staff, sku: Name | None = None, node: Name | None = None,
                        page: Page = 1, page_size: PageSize = 50):
    """ATP per SKU and node (allocation) beside the warehouse's units per status."""
    found = await uow.read_model.inventory(sku=sku, node=node, page=page, page_size=page_size)
    return OrderPage(items=found.items, total=found.total, page=page, page_size=page_size)


@router.get("/returns/pipeline", response_model=list[dict[str, Any]])
async def get_returns_pipeline(uow: UnitOfWork, by: Staff):
    """Returns per stage, with how long they have been in it."""
    return await uow.read_model.returns_pipeline(now())


@router.get("/alerts", response_model=list[dict[str, Any]])
async def get_alerts(uow: UnitOfWork, by: Staff):
    """Business alerts firing now (also exported to Prometheus as ecomops_business_alerts_firing)."""
    return await uow.read_model.alerts()

