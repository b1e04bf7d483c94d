"""The exception inbox: the kinds of things someone has to act on, who owns each, how long they may take, and the
actions that resolve them. An item opens and closes on events (projection.py); it shows from `visible_from`.
The supervisor queues escalate: an open item older than its queue's configured age (ControlSettings)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecomops_common.auth import (
    ADMIN,
    AUDITOR,
    BUYER,
    CUSTOMER_SERVICE,
    FINANCE_CLERK,
    INSPECTOR,
    REFUND_APPROVER,
    SUPERVISOR,
)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    bulk: bool = False  # safe to apply to many items at once (nothing to decide per item)


RELEASE_HOLD = Action("release_hold", "Release hold", bulk=True)
CANCEL_ORDER = Action("cancel_order", "Cancel order")
ACKNOWLEDGE = Action("acknowledge", "Acknowledge", bulk=True)
RESOLVE_SCAN = Action("resolve_scan", "Resolve")
APPROVE_SCAN = Action("approve_scan", "Approve receipt")
APPROVE_VARIANCE = Action("approve_variance", "Approve variance")
REJECT_VARIANCE = Action("reject_variance", "Reject variance")
APPROVE_SHORT_PICK = Action("approve_short_pick", "Approve short pick")
REJECT_SHORT_PICK = Action("reject_short_pick", "Reject short pick")
APPROVE_REFUND = Action("approve_refund", "Approve refund")
DENY_REFUND = Action("deny_refund", "Deny refund")
RETRY_REFUND = Action("retry_refund", "Request retry")
REDRIVE = Action("redrive", "Redrive", bulk=True)
APPROVE_PURCHASE_ORDER = Action("approve_purchase_order", "Approve")
CANCEL_PURCHASE_ORDER = Action("cancel_purchase_order", "Cancel purchase order")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    owner_role: str
    sla: timedelta  # to resolve, once visible
    actions: tuple[Action, ...]


KINDS = {kind.name: kind for kind in (
    Kind("order_hold", "Order on hold", SUPERVISOR, timedelta(hours=4), (RELEASE_HOLD, CANCEL_ORDER)),
    Kind("backorder", "Backorder past its promise", SUPERVISOR, timedelta(days=1), (CANCEL_ORDER, ACKNOWLEDGE)),
    Kind("allocation_exception", "Stock below reservations (re-sourced)", SUPERVISOR, timedelta(hours=4),
         (ACKNOWLEDGE,)),
    Kind("scan_exception", "Scan exception", SUPERVISOR, timedelta(hours=4), (RESOLVE_SCAN, APPROVE_SCAN)),
    Kind("count_variance", "Count variance awaiting approval", SUPERVISOR, timedelta(days=1),
         (APPROVE_VARIANCE, REJECT_VARIANCE)),
    Kind("short_pick", "Short pick awaiting approval", SUPERVISOR, timedelta(hours=4),
         (APPROVE_SHORT_PICK, REJECT_SHORT_PICK)),
    Kind("refund_approval", "Refund awaiting approval", REFUND_APPROVER, timedelta(days=1),
         (APPROVE_REFUND, DENY_REFUND)),
    Kind("refund_failed", "Refund declined or held", FINANCE_CLERK, timedelta(days=1), (RETRY_REFUND, ACKNOWLEDGE)),
    Kind("return_receipt_overdue", "Return not received", CUSTOMER_SERVICE, timedelta(days=7), (ACKNOWLEDGE,)),
    Kind("return_inspection_overdue", "Return not inspected", INSPECTOR, timedelta(days=1), (ACKNOWLEDGE,)),
    Kind("order_stuck", "Order stuck in its status", SUPERVISOR, timedelta(hours=4), (ACKNOWLEDGE,)),
    Kind("dead_letter", "Dead letter", SUPERVISOR, timedelta(hours=1), (REDRIVE, ACKNOWLEDGE)),
    Kind("reconciliation_drift", "Warehouse and allocation disagree on stock", SUPERVISOR, timedelta(hours=1),
         (ACKNOWLEDGE,)),
    # Decided in the owning services (warehouse, returns); their facts close these items.
    Kind("qa_decision", "Quarantined units awaiting a QA decision", SUPERVISOR, timedelta(days=2), ()),
    Kind("write_off", "Write-off awaiting a second supervisor's approval", SUPERVISOR, timedelta(days=1), ()),
    Kind("vendor_claim", "Vendor claim awaiting submission or the vendor's answer", SUPERVISOR, timedelta(days=7),
         ()),
    # The carriers' and the supply side's: closed by the parcel's next tracking event (or its delivery) and by the
    # purchase order's approval or cancellation.
    Kind("tracking_exception", "Parcel exception at the carrier", SUPERVISOR, timedelta(hours=4), (ACKNOWLEDGE,)),
    Kind("late_label", "Label bought that misses the promised date", CUSTOMER_SERVICE, timedelta(hours=4),
         (ACKNOWLEDGE,)),
    Kind("po_approval", "Purchase order awaiting approval", BUYER, timedelta(days=1),
         (APPROVE_PURCHASE_ORDER, CANCEL_PURCHASE_ORDER)),
)}
# The supervisor queues that escalate past a configured age (their kinds' SLAs are the defaults).
ESCALATING = ("refund_approval", "qa_decision", "write_off", "vendor_claim")
SEES_EVERY_KIND = frozenset({ADMIN, SUPERVISOR, AUDITOR})


def kinds_for(roles: frozenset[str]) -> list[str]:
    """The kinds a person's inbox shows: supervisors, auditors and admins see all, others what their role owns."""
    if roles & SEES_EVERY_KIND:
        return list(KINDS)
    return [name for name, kind in KINDS.items() if kind.owner_role in roles]


@dataclass(frozen=True)
class OpenItem:
    item_id: str
    kind: str
    since: datetime
    visible_from: datetime
    summary: str
    reference: dict[str, Any]
    order_id: str | None = None
    rma_id: str | None = None
    node: str | None = None
    channel: str | None = None
    sku: str | None = None
    # A later statement of the same wait (a draft claim gaining a line): an item already open keeps its beginning,
    # so its age (and escalation) counts from when the wait began.
    keeps_since: bool = False


@dataclass(frozen=True)
class CloseItem:
    item_id: str
    at: datetime
    by: str | None = None
    # Closed by a fact of another topic than the one opening it, which may be read first: the closing is kept so
    # the later opening cannot show what is already over.
    may_precede_open: bool = False

    @property
    def kind(self) -> str:
        return self.item_id.split(":", 1)[0]


def ageing(since: datetime, visible_from: datetime, sla: timedelta, now: datetime) -> dict[str, Any]:
    """An item's age (from when it began), when its SLA falls due and whether it is breached."""
    due = visible_from + sla
    return {"age_s": int((now - since).total_seconds()), "due_at": due, "breached": now > due}


@dataclass(frozen=True)
class Escalation:
    escalated: bool
    escalated_at: datetime | None  # the moment the item passed its queue's age
    sla_seconds: int | None  # the queue's age; None: the queue does not escalate
    age_seconds: int


def escalation(kind: str, since: datetime, escalated_at: datetime | None, now: datetime,
               slas: Mapping[str, timedelta]) -> Escalation:
    """An open item is escalated once it is older than its queue's age (exactly that age is not yet). Once
    recorded, `escalated_at` stays, whatever the ages are configured to later."""
    sla = slas.get(kind)
    age = now - since
    if escalated_at is None and sla is not None and age > sla:
        escalated_at = since + sla
    return Escalation(escalated_at is not None, escalated_at, None if sla is None else int(sla.total_seconds()),
                      int(age.total_seconds()))
