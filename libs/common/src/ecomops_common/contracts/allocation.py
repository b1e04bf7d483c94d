"""Events of the allocation service, topic allocation.events.v1 (key: the order id, or `<sku>@<node>`)."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import INT4_MAX, Document, EventPayload


class AllocationStatus(StrEnum):
    allocated = "allocated"
    partially_allocated = "partially_allocated"
    backordered = "backordered"
    released = "released"


class AllocatedLine(Document):
    line_id: str
    sku: str
    node: str = Field(description="The fulfilment node that ships these units")
    quantity: int = Field(ge=1, le=INT4_MAX)


class BackorderedLine(Document):
    line_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX, description="Units of the line still waiting for stock")
    promised_date: date | None = Field(default=None, description="When inbound supply (purchase orders, "
                                       "transfers) should cover the units; None when no supply is on its way")


class OrderAllocationChanged(EventPayload):
    """An order's whole allocation after a change: consumers replace what they hold, never add to it."""

    order_id: str
    channel: str
    status: AllocationStatus
    revision: int = Field(ge=1, le=INT4_MAX, description="Grows with every change of this order's allocation; "
                                            "a consumer ignores a revision older than the one it has")
    lines: list[AllocatedLine] = Field(max_length=10_000,
                                       description="Allocated units per line and node, reserved or already picked")
    backordered: list[BackorderedLine] = Field(default_factory=list, max_length=10_000)
    reason: str = Field(description="Why it changed: placed, backorder_filled, shrinkage, cancelled, ...")
    service_level: str | None = Field(default=None, description="standard or express: the warehouse's waves")


class OrderAllocated(OrderAllocationChanged):
    """status allocated or partially_allocated."""


class OrderBackordered(OrderAllocationChanged):
    """Nothing reserved, every line waits for stock (status backordered)."""


class AllocationReleased(OrderAllocationChanged):
    """Every reservation of the order given back (status released), e.g. after cancellation."""


class AllocationExceptionRaised(EventPayload):
    """For operators: stock shrank below what was promised at a node; the orders named were re-sourced."""

    exception_id: str
    sku: str
    node: str
    shortfall: int = Field(ge=1, le=INT4_MAX, description="Reserved units no longer backed by stock")
    affected_order_ids: list[str] = Field(max_length=100_000)
    raised_at: AwareDatetime


class BackorderPromiseChanged(EventPayload):
    """The date a backordered line was promised moved (key: the order id): its supply slipped, was received
    short or cancelled, or new supply made it earlier. Channels tell the customer."""

    order_id: str
    line_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    previous_date: date | None
    promised_date: date | None = Field(description="None: no supply on its way covers the units any more")
    reason: str = Field(description="supply_delayed, supply_earlier, supply_short, supply_cancelled, ...")
    changed_at: AwareDatetime
