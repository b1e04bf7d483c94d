"""HTTP API: return requests from channel connectors (their own channels only), customer service and supervisors;
the RMA with its timeline and the work queues for staff; inspections at the bench by inspectors; refund decisions
by refund approvers and write-off approvals by supervisors, never by who inspected the items; the rules for
admins; SKUs' vendors (the catalog's) and vendor claims for supervisors and finance clerks. Every route takes the
issuer's bearer token and names its roles (ecomops_common.access); what a route records as who did it is the
token's subject, never a request field."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common.access import caller
from ecomops_common.auth import (
    ADMIN,
    AUDITOR,
    CONNECTOR,
    CUSTOMER_SERVICE,
    FINANCE_CLERK,
    INSPECTOR,
    REFUND_APPROVER,
    SUPERVISOR,
    Principal,
)
from ecomops_common.contracts.returns import ReturnRequest
from ecomops_common.contracts.types import INT4_MAX, Document, Money
from ecomops_common.http import entered_unit_of_work
from returns_service.adapters.repository import CLAIM_DOCUMENT, RMA_DOCUMENT
from returns_service.domain.dispositions import GRADES
from returns_service.domain.policy import DEFAULT_POLICY as DEFAULT_RETURN_POLICY
from returns_service.domain.refunds import DEFAULT_POLICY as DEFAULT_REFUND_POLICY
from returns_service.domain.rma import RmaStatus, cycle_time_summary
from returns_service.domain.vendor_claims import VendorClaim
from returns_service.service_layer import handling, rules, vendor_claims
from returns_service.service_layer.handling import RmaNotFound
from returns_service.service_layer.intake import request_returns
from returns_service.service_layer.unit_of_work import ReturnsUnitOfWork

router = APIRouter(prefix="/v1", tags=["returns"])
CHANNEL = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
UnitOfWork = Annotated[ReturnsUnitOfWork, Depends(entered_unit_of_work)]
# Staff who read returns, queues, cycle times and rules (an auditor reads everything, changes nothing).
READERS = (INSPECTOR, REFUND_APPROVER, SUPERVISOR, CUSTOMER_SERVICE, AUDITOR)


class StageView(BaseModel):
    stage: str = Field(description="authorized, received, inspected, write_off_pending_approval, "
                                   "write_off_approved, write_off_rejected, refund_pending_approval, "
                                   "refund_approved, refund_denied, refunded, exchange_ordered, dispositioned, "
                                   "return_label_issued or closed")
    actor: str = Field(description="Who did it: the token's subject; `policy`, `warehouse`, `warehouse:<node>`, "
                                   "`channel:<channel>`, `finance`, `shipping` or `returns` for the platform's own "
                                   "steps")
    note: str | None
    at: datetime


class ReturnLabelView(BaseModel):
    carrier: str
    service: str
    tracking_number: str
    label_url: str | None
    cost: Money
    currency: str
    issued_at: datetime


class RmaView(BaseModel):
    id: str
    order_id: str
    channel: str
    customer_id: str
    reason: str
    node: str = Field(description="The warehouse the parcel goes to")
    status: RmaStatus
    resolution: str = Field(description="refund, exchange (a replacement order) or store_credit")
    refund_method: str | None = Field(description="A method other than the order's payment the customer asked the "
                                                  "refund paid by (a refund approver approves it)")
    currency: str
    expected_by: datetime | None
    lines: list[dict[str, Any]] = Field(description="Expected, received, inspected and dispositioned units per "
                                                    "line, with grades and dispositions")
    inspections: list[dict[str, Any]] = Field(description="Each with its id, grade, the disposition rule that "
                                                          "fired, and a write-off's approval")
    settlements: list[dict[str, Any]] = Field(description="Refunds or exchanges: amount, fee and tax breakdown, "
                                                          "method, risk signals, status and who decided")
    flags: list[str] = Field(description="For people to look at: unexpected items, serial mismatches")
    timeline: list[StageView] = Field(description="Every step from the audit log, oldest first")
    cycle_times_s: dict[str, float] = Field(description="Seconds from authorization to the first time of each "
                                                        "later stage")
    return_label: ReturnLabelView | None = Field(description="The prepaid label the shipping service issued for "
                                                           "the parcel; null until it has")



async def _view(uow: ReturnsUnitOfWork, rma_id: str, by: Principal) -> RmaView:
    """A connector sees its own channels' RMAs only (another channel's is not found). No customer's name, email,
    address or phone is part of an RMA, so there is nothing to mask."""
    rma = (await uow.returns.rmas([rma_id], lock=False)).get(rma_id)
    if rma is None or not by.acts_for(rma.channel):
        raise RmaNotFound(f"RMA {rma_id} not found")
    audit = await uow.returns.audit_of(rma_id)
    document = RMA_DOCUMENT.dump_python(rma, mode="json")
    return RmaView(**{**document, "timeline": audit, "cycle_times_s": rma.cycle_times()})


@router.post("/returns", status_code=status.HTTP_201_CREATED, response_model=RmaView,
             responses={200: {"description": "A resend (same channel and request_id): the RMA it made"},
                        403: {"description": "A connector asking for another channel (reason `channel`)"},
                        422: {"description": "Malformed, or refused by the return policy: each rule and field "
                                             "(`unknown_order`: no order of this channel has this id)"}})
async def request_return(body: ReturnRequest, request: Request, response: Response, uow: UnitOfWork,
                         by: Annotated[Principal, caller(CONNECTOR, CUSTOMER_SERVICE, SUPERVISOR, rate_limited=True)]):
    """A return request becomes an RMA or is refused with every policy rule it breaks. A connector asks for its
    own channels' orders only; the RMA records the caller's subject as who requested it."""
    [outcome] = await request_returns(uow, [body], request.app.state.runtime.settings.default_node, by)
    if outcome.refusals:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["body", *r.field.split(".")], "msg": r.message, "type": r.rule} for r in outcome.refusals]})
    response.status_code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/returns/{outcome.rma_id}"
    return await _view(uow, outcome.rma_id, by)


class StageCycleTime(BaseModel):
    count: int = Field(description="RMAs that reached the stage")
    median_s: float = Field(description="Median seconds from authorization")
    p90_s: float


@router.get("/returns/cycle-times", response_model=dict[str, StageCycleTime], dependencies=[caller(*READERS)])
async def get_cycle_times(uow: UnitOfWork, days: Annotated[int, Query(ge=1, le=366)] = 30):
    """Authorization → receipt → inspection → refund → close, over the RMAs authorized in the last `days`."""
    timelines = await uow.returns.timelines_since(datetime.now(UTC) - timedelta(days=days))
    return cycle_time_summary(timelines.values())


@router.get("/returns/{rma_id}", response_model=RmaView)
async def get_return(rma_id: str, uow: UnitOfWork, by: Annotated[Principal, caller(CONNECTOR, *READERS)]):
    """Staff read every RMA; a connector its own channels' only."""
    return await _view(uow, rma_id, by)


class Queue(StrEnum):
    awaiting_receipt = "awaiting_receipt"
    awaiting_inspection = "awaiting_inspection"
    awaiting_approval = "awaiting_approval"  # a refund approver's decision
    awaiting_write_off_approval = "awaiting_write_off_approval"  # a supervisor's


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


@router.get("/returns", response_model=list[QueueItem], dependencies=[caller(*READERS)])
async def list_queue(queue: Queue, uow: UnitOfWork, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """A work queue, oldest first."""
    status_of = {Queue.awaiting_receipt: RmaStatus.authorized, Queue.awaiting_inspection: RmaStatus.received}
    waiting_for = {Queue.awaiting_approval: "refund", Queue.awaiting_write_off_approval: "write_off"}
    rows = await uow.returns.queue(status_of.get(queue), waiting_for.get(queue), limit)
    now = datetime.now(UTC)
    return [QueueItem(**row, age_hours=round((now - row["authorized_at"]).total_seconds() / 3600, 2),
                      overdue=row["status"] == RmaStatus.authorized and row["expected_by"] is not None
                      and row["expected_by"] < now) for row in rows]


class InspectionInput(Document):
    model_config = ConfigDict(extra="forbid")  # the inspector is the token's subject, not a field

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)
    grade: str = Field(pattern=r"^[ABCD]$", description=", ".join(f"{g} {meaning}" for g, meaning in GRADES.items()))
    serial: str | None = Field(default=None, max_length=128)
    missing_accessories: list[str] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(default=None, max_length=2000, description="The inspector's, evidence of a vendor claim")


@router.post("/returns/{rma_id}/inspections", response_model=RmaView,
             responses={409: {"description": "More units than received and not yet inspected, or an unknown SKU"}})
async def record_inspection(rma_id: str, body: InspectionInput, request: Request, uow: UnitOfWork,
                            by: Annotated[Principal, caller(INSPECTOR)]):
    """Grades received units at the bench, recorded as inspected by the token's subject; the disposition rule
    table decides what becomes of them (a hazardous category goes to quarantine; a write-off above
    `write_off_approval_value` waits for a supervisor). Defective units of a SKU with a vendor join its claim."""
    await handling.inspect_at_bench(uow, rma_id, body.sku, body.quantity, body.grade, by.subject, body.serial,
                                    tuple(body.missing_accessories),
                                    request.app.state.runtime.settings.write_off_approval_value, body.notes)
    return await _view(uow, rma_id, by)


class Approval(Document):
    model_config = ConfigDict(extra="forbid")  # the approver is the token's subject, not a field

    amount: Money | None = Field(default=None, description="Less than quoted: a partial refund")
    note: str | None = Field(default=None, max_length=1000)


class Denial(Document):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Without the role; or `segregation_of_duties`: the caller inspected the items or "
                         "requested the return"},
    409: {"description": "Not waiting for a decision"}}


@router.post("/returns/{rma_id}/settlements/{settlement_id}/approve", response_model=RmaView,
             responses=DECISION_RESPONSES)
async def approve_settlement(rma_id: str, settlement_id: str, body: Approval, uow: UnitOfWork,
                             by: Annotated[Principal, caller(REFUND_APPROVER)]):
    """Approved by the token's subject, which RefundApproved names as approved_by."""
    await handling.decide(uow, rma_id, settlement_id, by.subject, True, body.note, body.amount)
    return await _view(uow, rma_id, by)


@router.post("/returns/{rma_id}/settlements/{settlement_id}/deny", response_model=RmaView,
             responses=DECISION_RESPONSES)
async def deny_settlement(rma_id: str, settlement_id: str, body: Denial, uow: UnitOfWork,
                          by: Annotated[Principal, caller(REFUND_APPROVER)]):
    await handling.decide(uow, rma_id, settlement_id, by.subject, False, body.reason)
    return await _view(uow, rma_id, by)


class WriteOffApproval(Document):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class WriteOffRejection(Document):
    model_config = ConfigDict(extra="forbid")

    instead: Literal["restock", "refurbish", "quarantine", "vendor_return"] = Field(
        default="quarantine", description="Where the units go instead of being written off")
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/returns/{rma_id}/inspections/{inspection_id}/write-off/approve", response_model=RmaView,
             responses=DECISION_RESPONSES)
async def approve_write_off(rma_id: str, inspection_id: str, body: WriteOffApproval, uow: UnitOfWork,
                            by: Annotated[Principal, caller(SUPERVISOR)]):
    """A scrap or liquidate disposition waiting for approval goes to the warehouse, approved by the token's
    subject (not the inspector)."""
    await handling.decide_write_off(uow, rma_id, inspection_id, by.subject, body.note)
    return await _view(uow, rma_id, by)


@router.post("/returns/{rma_id}/inspections/{inspection_id}/write-off/reject", response_model=RmaView,
             responses=DECISION_RESPONSES)
async def reject_write_off(rma_id: str, inspection_id: str, body: WriteOffRejection, uow: UnitOfWork,
                           by: Annotated[Principal, caller(SUPERVISOR)]):
    """The units go to another disposition instead (quarantine unless said), decided by the token's subject."""
    await handling.decide_write_off(uow, rma_id, inspection_id, by.subject, body.reason, body.instead)
    return await _view(uow, rma_id, by)


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


async def _put_rule(uow: ReturnsUnitOfWork, kind: str, key: str, document: Document, by: Principal) -> RuleView:
    """Recorded as updated by the token's subject."""
    await rules.put_rule(uow, kind, key, document.model_dump(mode="json"), by.subject)
    return await _rule_view(uow, kind, key)


def _policy_key(kind: str, channel: str, category: str | None) -> str:
    return rules.refund_key(channel, category) if kind == rules.REFUND_POLICY else channel


@router.get("/rules/{kind}/{channel}", response_model=RuleView, dependencies=[caller(*READERS)])
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
    store_credit_reasons: list[Code] | None = Field(
        default=None, max_length=100, description="The reasons store credit is offered for: null every reason, "
                                                  "[] none")


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


# Rules decide how much is paid out, when, and without whom (instant refunds, approval thresholds): admins only.
@router.put("/rules/return-policies/{channel}", response_model=RuleView,
            responses={422: {"description": "Every invalid field"}})
async def put_return_policy(channel: CHANNEL, body: ReturnPolicyInput, uow: UnitOfWork,
                            by: Annotated[Principal, caller(ADMIN)]):
    return await _put_rule(uow, rules.RETURN_POLICY, channel, body, by)


@router.put("/rules/refund-policies/{channel}", response_model=RuleView,
            responses={422: {"description": "Every invalid field"}})
async def put_refund_policy(channel: CHANNEL, body: RefundPolicyInput, uow: UnitOfWork,
                            by: Annotated[Principal, caller(ADMIN)],
                            category: Annotated[str | None, Query(max_length=64)] = None):
    return await _put_rule(uow, rules.REFUND_POLICY, rules.refund_key(channel, category), body, by)


@router.get("/rules/dispositions", response_model=RuleView, dependencies=[caller(*READERS)])
async def get_dispositions(uow: UnitOfWork):
    """The disposition rule table: the first rule that matches category, grade and reason decides."""
    return await _rule_view(uow, rules.DISPOSITIONS, rules.TABLE_KEY)


@router.put("/rules/dispositions", response_model=RuleView, responses={422: {"description": "Every invalid field"}})
async def put_dispositions(body: DispositionTableInput, uow: UnitOfWork, by: Annotated[Principal, caller(ADMIN)]):
    return await _put_rule(uow, rules.DISPOSITIONS, rules.TABLE_KEY, body, by)



class HazardousCategoriesInput(Document):
    model_config = ConfigDict(extra="forbid")

    categories: set[Code] = Field(max_length=1000, description="Their returned units always go to quarantine")


@router.get("/rules/hazardous-categories", response_model=RuleView, dependencies=[caller(*READERS)])
async def get_hazardous_categories(uow: UnitOfWork):
    return await _rule_view(uow, rules.HAZARDOUS, rules.TABLE_KEY)


@router.put("/rules/hazardous-categories", response_model=RuleView,
            responses={422: {"description": "Every invalid field"}})
async def put_hazardous_categories(body: HazardousCategoriesInput, uow: UnitOfWork,
                                   by: Annotated[Principal, caller(ADMIN)]):
    """Inspected units of these categories go to quarantine whatever the disposition table says."""
    return await _put_rule(uow, rules.HAZARDOUS, rules.TABLE_KEY, body, by)


class ClaimRuleInput(Document):
    model_config = ConfigDict(extra="forbid")

    reasons: set[Code] = Field(max_length=100, description="Return reasons claimed from the vendor")
    grades: set[Code] = Field(max_length=10, description="Grades claimed from the vendor")


# Readers of vendors and claims: staff, and finance, which posts the vendor receivable and the credit.
CLAIM_READERS = (*READERS, FINANCE_CLERK)


@router.get("/rules/vendor-claims", response_model=RuleView, dependencies=[caller(*CLAIM_READERS)])
async def get_claim_rule(uow: UnitOfWork):
    return await _rule_view(uow, rules.VENDOR_CLAIMS, rules.TABLE_KEY)


@router.put("/rules/vendor-claims", response_model=RuleView, responses={422: {"description": "Every invalid field"}})
async def put_claim_rule(body: ClaimRuleInput, uow: UnitOfWork, by: Annotated[Principal, caller(ADMIN)]):
    """Inspected units whose RMA reason and grade are both listed join their vendor's draft claim."""
    return await _put_rule(uow, rules.VENDOR_CLAIMS, rules.TABLE_KEY, body, by)


class SkuVendorView(BaseModel):
    sku: str
    vendor_id: str
    vendor_sku: str | None
    assigned_by: str = Field(description="Who changed the SKU's vendor in the catalog")
    assigned_at: datetime


@router.get("/vendors/skus", response_model=list[SkuVendorView], dependencies=[caller(*CLAIM_READERS)])
async def list_sku_vendors(uow: UnitOfWork, vendor_id: Annotated[str | None, Query(max_length=64)] = None,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 1000):
    """SKUs with their vendor as the catalog names it (catalog.skus.v1), in SKU order."""
    return list((await uow.returns.sku_vendors(vendor_id=vendor_id, limit=limit)).values())


class ClaimStepView(BaseModel):
    action: str = Field(description="opened, line_added, submitted, accepted, partially_accepted, rejected or "
                                    "credited")
    at: datetime
    actor: str = Field(description="The token's subject (an inspector for line_added; `returns` opened it)")
    note: str | None


class VendorClaimView(BaseModel):
    id: str
    vendor_id: str
    status: str = Field(description="draft, submitted, accepted, partially_accepted, rejected or credited")
    currency: str | None
    claimed_amount: Money
    accepted_amount: Money | None
    credited_amount: Money | None
    credit_reference: str | None
    lines: list[dict[str, Any]] = Field(description="Units claimed with their evidence: RMA, SKU, vendor SKU, "
                                                    "grade, reason, unit cost, serials, inspector's notes, photos")
    timeline: list[ClaimStepView]


def _claim_view(claim: VendorClaim) -> VendorClaimView:
    return VendorClaimView(**{**CLAIM_DOCUMENT.dump_python(claim, mode="json"), "currency": claim.currency,
                              "claimed_amount": claim.claimed_amount})


ClaimStatus = Literal["draft", "submitted", "accepted", "partially_accepted", "rejected", "credited"]


@router.get("/vendor-claims", response_model=list[VendorClaimView], dependencies=[caller(*CLAIM_READERS)])
async def list_vendor_claims(uow: UnitOfWork, vendor_id: Annotated[str | None, Query(max_length=64)] = None,
                             status: ClaimStatus | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Most recently changed first."""
    return [_claim_view(claim) for claim in await uow.returns.claims(vendor_id, status, limit)]


@router.get("/vendor-claims/{claim_id}", response_model=VendorClaimView, dependencies=[caller(*CLAIM_READERS)])
async def get_vendor_claim(claim_id: str, uow: UnitOfWork):
    """With its timeline: who did what, when."""
    claim = await uow.returns.claim(claim_id, lock=False)
    if claim is None:
        raise vendor_claims.ClaimNotFound(f"vendor claim {claim_id} not found")
    return _claim_view(claim)


class ClaimSubmission(Document):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class VendorResponse(Document):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accepted", "partially_accepted", "rejected"]
    accepted_amount: Money | None = Field(default=None, description="Only for partially_accepted: more than 0, "
                                                                    "less than claimed")
    note: str | None = Field(default=None, max_length=1000)


class VendorCredit(Document):
    model_config = ConfigDict(extra="forbid")

    amount: Money = Field(description="The credit note's amount: at most what the vendor accepted")
    reference: str = Field(min_length=1, max_length=128, description="The vendor's credit note")


CLAIM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such claim"},
    409: {"description": "The claim's status does not allow the step (the answer names it), or lines without a "
                         "unit cost (named)"},
    422: {"description": "An amount out of range (named)"}}


@router.post("/vendor-claims/{claim_id}/submit", response_model=VendorClaimView, responses=CLAIM_RESPONSES)
async def submit_vendor_claim(claim_id: str, body: ClaimSubmission, uow: UnitOfWork,
                              by: Annotated[Principal, caller(SUPERVISOR)]):
    """A draft with lines, each with a unit cost (costs known by now are filled in), goes to the vendor."""
    return _claim_view(await vendor_claims.submit(uow, claim_id, by.subject, body.note))


@router.post("/vendor-claims/{claim_id}/vendor-response", response_model=VendorClaimView, responses=CLAIM_RESPONSES)
async def record_vendor_response(claim_id: str, body: VendorResponse, uow: UnitOfWork,
                                 by: Annotated[Principal, caller(SUPERVISOR, FINANCE_CLERK)]):
    """The vendor's answer to a submitted claim: accepted (the claimed amount), partially_accepted (the amount
    given) or rejected."""
    return _claim_view(await vendor_claims.record_vendor_response(uow, claim_id, body.outcome, body.accepted_amount,
                                                                  body.note, by.subject))


@router.post("/vendor-claims/{claim_id}/credit", response_model=VendorClaimView, responses=CLAIM_RESPONSES)
async def credit_vendor_claim(claim_id: str, body: VendorCredit, uow: UnitOfWork,
                              by: Annotated[Principal, caller(FINANCE_CLERK)]):
    """The vendor's credit note for an accepted or partially accepted claim, at most the accepted amount."""
    return _claim_view(await vendor_claims.record_credit(uow, claim_id, body.amount, body.reference, by.subject))
