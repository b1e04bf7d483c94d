"""Events of the supply service, topic supply.events.v1 (key: the purchase order id): purchase orders and the
advance ship notices vendors send against them."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import INT4_MAX, Document, EventPayload, Money


class PurchaseOrderStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    sent = "sent"
    partially_received = "partially_received"
    closed = "closed"  # fully received, or closed short by a buyer (the lines say the discrepancy)
    cancelled = "cancelled"


class PurchaseOrderLine(Document):
    line_id: str
    sku: str
    vendor_sku: str | None = None
    quantity: int = Field(ge=1, le=INT4_MAX, description="Units ordered")
    received: int = Field(ge=0, le=INT4_MAX, description="Units received against the line so far")
    unit_cost: Money
    expected_date: date = Field(description="When the units are expected at the node: the latest ASN's date for "
                                            "units on one, else the purchase order's")
    discrepancy: int = Field(default=0, ge=-INT4_MAX, le=INT4_MAX,
                             description="received - quantity once the line is closed: negative short, positive over")


class PurchaseOrderChanged(EventPayload):
    """A purchase order's whole state after a change (a snapshot; `revision` grows with every change)."""

    po_id: str
    revision: int = Field(ge=1, le=INT4_MAX)
    vendor_id: str
    node: str = Field(description="The warehouse the goods go to")
    status: PurchaseOrderStatus
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: Money = Field(description="Sum of quantity × unit cost")
    lines: list[PurchaseOrderLine] = Field(min_length=1, max_length=1_000)
    expected_date: date
    created_by: str
    approved_by: str | None = None
    reason: str = Field(description="What changed: created, approved, sent, asn, received, closed, cancelled, ...")
    changed_by: str
    changed_at: AwareDatetime


class AsnLine(Document):
    po_line_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    unit_cost: Money = Field(description="The purchase order line's cost: finance values the receipt by it")
    lot: str | None = None
    expiry: date | None = None


class AdvanceShipNoticeIssued(EventPayload):
    """A vendor's advance ship notice against a sent purchase order: the warehouse expects these units at the
    node (an expected receipt referenced by the ASN id)."""

    asn_id: str
    po_id: str
    vendor_id: str
    node: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    expected_date: date
    lines: list[AsnLine] = Field(min_length=1, max_length=1_000)
    issued_by: str
    issued_at: AwareDatetime
