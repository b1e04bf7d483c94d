"""The order's allocation as the allocation service last reported it: each report replaces the whole of it."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from ecomops_common.contracts.allocation import AllocationStatus
from ecomops_common.contracts.orders import OrderStatus
from order_service.domain.lifecycle import VOID, OrderState


@dataclass(frozen=True)
class AllocatedQuantity:
    line_id: str
    sku: str
    node: str | None  # None: units of the line waiting for stock (backordered)
    quantity: int
    promised_date: date | None = None  # backordered units: when inbound supply should cover them


@dataclass(frozen=True)
class AllocationReport:
    order_id: str
    revision: int
    status: AllocationStatus
    reason: str
    quantities: tuple[AllocatedQuantity, ...]


class Outcome(StrEnum):
    stale = "stale"  # not newer than the revision held: changes nothing
    applied = "applied"
    status_not_applicable = "status_not_applicable"  # quantities kept, the order's status left as it is


@dataclass
class ReportedAllocation:
    order_id: str
    revision: int = 0  # 0: nothing reported yet
    quantities: tuple[AllocatedQuantity, ...] = ()

    def take(self, report: AllocationReport, state: OrderState, at: datetime) -> Outcome:
        """Replaces the allocation with a newer report and moves the order's status accordingly."""
        if report.revision <= self.revision:
            return Outcome.stale
        self.revision = report.revision
        if report.status is AllocationStatus.released:
            self.quantities = ()
            return Outcome.applied
        applies = state.allocation_changed(OrderStatus(report.status.value), report.reason, at)
        # A void order keeps no stock, even while allocation has not yet heard of its cancellation.
        self.quantities = () if state.status in VOID else report.quantities
        return Outcome.applied if applies else Outcome.status_not_applicable
