"""HTTP API: return requests from customer service and return portals, the RMA with its timeline, the work
queues, inspections at the bench, supervisors' refund decisions, and the rules and staff for admins."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common.contracts.returns import ReturnRequest
from ecomops_common.contracts.types import INT4_MAX, Document, Money
from ecomops_common.http import entered_unit_of_work, require_staff
from returns_service.adapters.repository import RMA_DOCUMENT
from returns_service.domain.dispositions import GRADES
from returns_service.domain.policy import DEFAULT_POLICY as DEFAULT_RETURN_POLICY
from returns_service.domain.refunds import DEFAULT_POLICY as DEFAULT_REFUND_POLICY
from returns_service.domain.rma import RmaStatus, cycle_time_summary
from returns_service.service_layer import handling, rules
from returns_service.service_layer.handling import RmaNotFound
from returns_service.service_layer.intake import request_returns
from returns_service.service_layer.unit_of_work import ReturnsUnitOfWork

router = APIRouter(prefix="/v1", tags=["returns"])
CHANNEL = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Actor = Annotated[str, Header(alias="x-actor", max_length=128)]
UnitOfWork = Annotated[ReturnsUnitOfWork, Depends(entered_unit_of_work)]


class StageView(BaseModel):
    stage: str = Field(description="authorized, received, inspected, refund_pending_approval, refund_approved, "
                                   "refund_denied, refunded, exchange_ordered, dispositioned or closed")
    actor: str
    note: str | None
    at: datetime


class RmaView(BaseModel):
    id: str
    order_id: str
    channel: str
    customer_id: str
    reason: str
    node: str = Field(description="The warehouse the parcel goes to")
    status: RmaStatus
    resolution: str = Field(description="refund, or exchange (a replacement order)")
    currency: str
    expected_by: datetime | None
    lines: list[dict[str, Any]] = Field(description="Expected, received, inspected and dispositioned units per "
                                                    "line, with grades and dispositions")
    inspections: list[dict[str, Any]] = Field(description="Each with its grade and the disposition rule that fired")
    settlements: list[dict[str, Any]] = Field(description="Refunds or exchanges: amount, fee breakdown, risk "
                                                          "signals, status and who decided")
    flags: list[str] = Field(description="For people to look at: unexpected items, serial mismatches")
    timeline: list[StageView] = Field(description="Every step from the audit log, oldest first")
    cycle_times_s: dict[str, float] = Field(description="Seconds from authorization to the first time of each "
                                                        "later stage")


async def _view(uow: ReturnsUnitOfWork, rma_id: str) -> RmaView:
    rma = (await uow.returns.rmas([rma_id], lock=False)).get(rma_id)
    if rma is None:
        raise RmaNotFound(f"RMA {rma_id} not found")
    audit = await uow.returns.audit_of(rma_id)
    document = RMA_DOCUMENT.dump_python(rma, mode="json")
    return RmaView(**{**document, "timeline": audit, "cycle_times_s": rma.cycle_times()})


@router.post("/returns", status_code=status.HTTP_201_CREATED, response_model=RmaView,
             responses={200: {"description": "A resend (same channel and request_id): the RMA it made"},
                        422: {"description": "Malformed, or refused by the return policy: each rule and field"}})
async def request_return(body: ReturnRequest, request: Request, response: Response, uow: UnitOfWork):
    """A return request becomes an RMA or is refused with every policy rule it breaks."""
    [outcome] = await request_returns(uow, [body], request.app.state.runtime.settings.default_node)
    if outcome.refusals:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["body", *r.field.split(".")], "msg": r.message, "type": r.rule} for r in outcome.refusals]})
    response.status_code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/returns/{outcome.rma_id}"
    return await _view(uow, outcome.rma_id)


class StageCycleTime(BaseModel):
    count: int = Field(description="RMAs that reached the stage")
    median_s: float = Field(description="Median seconds from authorization")
    p90_s: float


@router.get("/returns/cycle-times", response_model=dict[str, StageCycleTime])
async def get_cycle_times(uow: UnitOfWork, days: Annotated[int, Query(ge=1, le=366)] = 30):
    """Authorization → receipt → inspection → refund → close, over the RMAs authorized in the last `days`."""
    timelines = await uow.returns.timelines_since(datetime.now(UTC) - timedelta(days=days))
    return cycle_time_summary(timelines.values())


@router.get("/returns/{rma_id}", response_model=RmaView)
async def get_return(rma_id: str, uow: UnitOfWork):
    return await _view(uow, rma_id)


class Queue(StrEnum):
    awaiting_receipt = "awaiting_receipt"
    awaiting_inspection = "awaiting_inspection"
    awaiting_approval = "awaiting_approval"


class QueueItem(BaseModel):
    id: str
    order_id: str
    channel: str
    node: str
    status: RmaStatus
    authorized_at: datetime
    expected_by: datetime | None
    age_hours: float = Field(description="Since authorization")
    overdue: bool = Field(description="Awaiting receipt past the expected arrival")


@router.get("/returns", response_model=list[QueueItem])
async def list_queue(queue: Queue, uow: UnitOfWork, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """A work queue, oldest first."""
    status_of = {Queue.awaiting_receipt: RmaStatus.authorized, Queue.awaiting_inspection: RmaStatus.received}
    rows = await uow.returns.queue(status_of.get(queue), queue is Queue.awaiting_approval, limit)
    now = datetime.now(UTC)
    return [QueueItem(**row, age_hours=round((now - row["authorized_at"]).total_seconds() / 3600, 2),
                      overdue=row["status"] == RmaStatus.authorized and row["expected_by"] is not None
                      and row["expected_by"] < now) for row in rows]


class InspectionInput(Document):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)
    grade: str = Field(pattern=r"^[ABCD]$", description=", ".join(f"{g} {meaning}" for g, meaning in GRADES.items()))
    inspector: str = Field(min_length=1, max_length=128)
    serial: str | None = Field(default=None, max_length=128)
    missing_accessories: list[str] = Field(default_factory=list, max_length=50)


@router.post("/returns/{rma_id}/inspections", response_model=RmaView, dependencies=[require_staff("inspector")],
             responses={409: {"description": "More units than received and not yet inspected, or an unknown SKU"}})
async def record_inspection(rma_id: str, body: InspectionInput, uow: UnitOfWork):
    """Grades received units at the bench; the disposition rule table decides what becomes of them."""
    await handling.inspect_at_bench(uow, rma_id, body.sku, body.quantity, body.grade, body.inspector, body.serial,
                                    tuple(body.missing_accessories))
    return await _view(uow, rma_id)


class Approval(Document):
    approver: str = Field(min_length=1, max_length=128, description="The signed-in supervisor")
    amount: Money | None = Field(default=None, description="Less than quoted: a partial refund")
    note: str | None = Field(default=None, max_length=1000)


class Denial(Document):
    approver: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=1000)


DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The approver lacks the refund_approver role or inspected the items"},
    409: {"description": "The settlement is not waiting for a decision"}}


@router.post("/returns/{rma_id}/settlements/{settlement_id}/approve", response_model=RmaView,
             dependencies=[require_staff("refund-approver")], responses=DECISION_RESPONSES)
async def approve_settlement(rma_id: str, settlement_id: str, body: Approval, uow: UnitOfWork):
    await handling.decide(uow, rma_id, settlement_id, body.approver, True, body.note, body.amount)
    return await _view(uow, rma_id)


@router.post("/returns/{rma_id}/settlements/{settlement_id}/deny", response_model=RmaView,
             dependencies=[require_staff("refund-approver")], responses=DECISION_RESPONSES)
async def deny_settlement(rma_id: str, settlement_id: str, body: Denial, uow: UnitOfWork):
    await handling.decide(uow, rma_id, settlement_id, body.approver, False, body.reason)
    return await _view(uow, rma_id)


class RuleView(BaseModel):
    kind: str
    key: str
    rule: dict[str, Any]
    default: bool = Field(description="True: nothing stored, the built-in default applies")
    updated_by: str | None = None
    updated_at: datetime | None = None


RULE_PATHS = {"return-policies": rules.RETURN_POLICY, "refund-policies": rules.REFUND_POLICY}


async def _rule_view(uow: ReturnsUnitOfWork, kind: str, key: str) -> RuleView:
    rule, row = await rules.stored_rule(uow, kind, key)
    return RuleView(kind=kind, key=key, rule=rules.ADAPTERS[kind].dump_python(rule, mode="json"), default=row is None,
                    updated_by=row and row["updated_by"], updated_at=row and row["updated_at"])


async def _put_rule(uow: ReturnsUnitOfWork, kind: str, key: str, document: Document, actor: str) -> RuleView:
    await rules.put_rule(uow, kind, key, document.model_dump(mode="json"), actor)
    return await _rule_view(uow, kind, key)


def _policy_key(kind: str, channel: str, category: str | None) -> str:
    return rules.refund_key(channel, category) if kind == rules.REFUND_POLICY else channel


@router.get("/rules/{kind}/{channel}", response_model=RuleView)
async def get_policy(kind: Annotated[str, Path(pattern="^(return-policies|refund-policies)$")], channel: CHANNEL,
                     uow: UnitOfWork, category: Annotated[str | None, Query(max_length=64)] = None):
    """A channel's return policy, or its refund policy (per category with ?category=)."""
    kind = RULE_PATHS[kind]
    return await _rule_view(uow, kind, _policy_key(kind, channel, category))


# The rule documents as PUT: their shape and sizes; the business rules are the domain's (validate()).
Code = Annotated[str, Field(min_length=1, max_length=64)]  # category, reason code, grade, role, rule id
Days = Annotated[int, Field(le=36_500)]  # a longer span would overflow date arithmetic
Decimal4 = Annotated[Decimal, Field(max_digits=17, decimal_places=4)]


class ReturnPolicyInput(Document):
    model_config = ConfigDict(extra="forbid")

    return_window_days: Days = DEFAULT_RETURN_POLICY.return_window_days
    window_days_by_category: dict[Code, Days] = Field(default_factory=dict, max_length=1000)
    non_returnable_categories: set[Code] = Field(default=set(DEFAULT_RETURN_POLICY.non_returnable_categories),
                                                 max_length=1000)
    reason_codes: set[Code] = Field(default=set(DEFAULT_RETURN_POLICY.reason_codes), max_length=1000)
    return_node: str | None = Field(default=None, max_length=64,
                                    description="Where parcels go; null: back to the node that shipped the units")
    transit_days: Days = DEFAULT_RETURN_POLICY.transit_days


class RefundPolicyInput(Document):
    model_config = ConfigDict(extra="forbid")

    timing: str = Field(default=DEFAULT_REFUND_POLICY.timing, max_length=64,
                        description="instant, on_receipt or after_inspection")
    instant_max_amount: Decimal4 = DEFAULT_REFUND_POLICY.instant_max_amount
    restocking_fee_by_grade: dict[Code, Decimal4] = Field(default_factory=dict, max_length=10,
                                                          description="Grade -> share of the goods amount kept")
    refund_shipping: bool = DEFAULT_REFUND_POLICY.refund_shipping
    approval_threshold: Decimal4 = DEFAULT_REFUND_POLICY.approval_threshold
    max_returns_90d: int = Field(default=DEFAULT_REFUND_POLICY.max_returns_90d, le=INT4_MAX)


class DispositionRuleInput(Document):
    model_config = ConfigDict(extra="forbid")

    id: Code
    disposition: Code
    categories: set[Code] | None = Field(default=None, max_length=1000, description="null: any")
    grades: set[Code] | None = Field(default=None, max_length=10, description="null: any")
    reasons: set[Code] | None = Field(default=None, max_length=1000, description="null: any")


class DispositionTableInput(Document):
    model_config = ConfigDict(extra="forbid")

    rules: list[DispositionRuleInput] = Field(max_length=1000, description="The first that matches decides")


@router.put("/rules/return-policies/{channel}", response_model=RuleView, dependencies=[require_staff()],
            responses={422: {"description": "Every invalid field"}})
async def put_return_policy(channel: CHANNEL, body: ReturnPolicyInput, uow: UnitOfWork, actor: Actor = "admin"):
    return await _put_rule(uow, rules.RETURN_POLICY, channel, body, actor)


@router.put("/rules/refund-policies/{channel}", response_model=RuleView, dependencies=[require_staff()],
            responses={422: {"description": "Every invalid field"}})
async def put_refund_policy(channel: CHANNEL, body: RefundPolicyInput, uow: UnitOfWork, actor: Actor = "admin",
                            category: Annotated[str | None, Query(max_length=64)] = None):
    return await _put_rule(uow, rules.REFUND_POLICY, rules.refund_key(channel, category), body, actor)


@router.get("/rules/dispositions", response_model=RuleView)
async def get_dispositions(uow: UnitOfWork):
    """The disposition rule table: the first rule that matches category, grade and reason decides."""
    return await _rule_view(uow, rules.DISPOSITIONS, rules.TABLE_KEY)


@router.put("/rules/dispositions", response_model=RuleView, dependencies=[require_staff()],
            responses={422: {"description": "Every invalid field"}})
async def put_dispositions(body: DispositionTableInput, uow: UnitOfWork, actor: Actor = "admin"):
    return await _put_rule(uow, rules.DISPOSITIONS, rules.TABLE_KEY, body, actor)


class StaffInput(Document):
    roles: list[Code] = Field(max_length=20, description="e.g. refund_approver, inspector")


@router.put("/staff/{actor}", response_model=StaffInput, dependencies=[require_staff()])
async def put_staff(actor: Annotated[str, Path(max_length=128)], body: StaffInput, uow: UnitOfWork):
    return StaffInput(roles=await rules.put_staff(uow, actor, body.roles))
