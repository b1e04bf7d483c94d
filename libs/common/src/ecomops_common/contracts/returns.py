"""Return requests from channels (topic channel.returns.v1 and POST /v1/returns, the bare document) and the
returns service's events (topic returns.events.v1, key: the RMA id)."""

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from ecomops_common.contracts.types import INT4_MAX, Document, EventPayload, Money


class ReturnResolution(StrEnum):
    refund = "refund"
    exchange = "exchange"  # a replacement order instead of money
    store_credit = "store_credit"  # credit the customer spends on a later order (if the channel's policy offers it)


class RequestedReturnLine(Document):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)
    line_id: str | None = Field(default=None, max_length=64,
                                description="The order line, needed only when the SKU is on several lines")


class ReturnRequest(Document):
    """A customer's return request as customer service, a return portal or a marketplace sends it.
    Key on Kafka: `<channel>:<request_id>`; a resend with the same request_id creates no second RMA."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    request_id: str = Field(min_length=1, max_length=128, description="The idempotency key, unique per channel")
    order_id: str | None = Field(default=None, max_length=64, description="The platform's order id, or ...")
    external_order_id: str | None = Field(default=None, max_length=128, description="... the channel's own")
    reason: str = Field(min_length=1, max_length=64,
                        description="A reason code such as defective or size_fit; free text goes in comment")
    comment: str | None = Field(default=None, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=20, description="References to photos")
    resolution: ReturnResolution = ReturnResolution.refund
    refund_method: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
                                      description="Pay a refund by another method than the order's payment, "
                                                  "e.g. bank_transfer: only with a refund approver's approval")
    lines: list[RequestedReturnLine] = Field(min_length=1, max_length=100)
    requested_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _names_the_order(self) -> "ReturnRequest":
        if not (self.order_id or self.external_order_id):
            raise ValueError("order_id or external_order_id is required")
        return self

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}:{self.request_id}"


class ReturnLine(Document):
    line_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)


class ReturnAuthorized(EventPayload):
    """A return authorization (RMA): the units the node may receive back."""

    rma_id: str
    order_id: str
    channel: str
    node: str = Field(description="The warehouse the customer sends the units to")
    lines: list[ReturnLine] = Field(min_length=1, max_length=1_000)
    authorized_at: AwareDatetime
    expected_by: AwareDatetime | None = Field(default=None, description="When the parcel should arrive")
    resolution: ReturnResolution = ReturnResolution.refund
    reason: str | None = None


class ReturnRefusal(Document):
    rule: str = Field(description="Stable code of the rule, e.g. outside_return_window")
    field: str = Field(description="Dotted path into the request, e.g. lines.0.quantity")
    message: str


class ReturnRefused(EventPayload):
    """A channel's return request that breaks the policy (key: `<channel>:<request_id>`)."""

    channel: str
    request_id: str
    order_id: str | None = None
    refusals: list[ReturnRefusal] = Field(min_length=1, max_length=1_000)


class ReturnStatus(StrEnum):
    authorized = "authorized"
    received = "received"
    inspected = "inspected"
    refund_pending_approval = "refund_pending_approval"
    refund_approved = "refund_approved"
    refund_denied = "refund_denied"
    refunded = "refunded"
    exchange_ordered = "exchange_ordered"
    closed = "closed"


class ReturnStatusChanged(EventPayload):
    """A step of an RMA's life, for the order's history and for people watching returns."""

    rma_id: str
    order_id: str
    channel: str
    status: ReturnStatus
    actor: str
    note: str | None = None
    at: AwareDatetime


class Disposition(StrEnum):
    restock = "restock"
    refurbish = "refurbish"
    quarantine = "quarantine"
    vendor_return = "vendor_return"
    liquidate = "liquidate"
    scrap = "scrap"


class ReturnDispositionDecided(EventPayload):
    """What happens to inspected units of an RMA: the warehouse moves them out of return_pending_inspection."""

    rma_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    disposition: Disposition
    decided_at: AwareDatetime
    grade: str | None = Field(default=None, description="A like new, B opened, C damaged, D unsalvageable")
    rule_id: str | None = Field(default=None, description="The disposition rule that decided")
    hazardous: bool = Field(default=False, description="A hazardous or regulated category: forced to quarantine; "
                                                       "leaves it only to a QA decision, scrap only with a "
                                                       "disposal record")
    category: str | None = Field(default=None, description="The product category of the order line")


class RefundComponent(Document):
    line_id: str
    kind: str = Field(description="goods, partial_refund, restocking_fee_<grade>, shipping, tax or cap")
    amount: Money = Field(description="Signed: fees and caps are negative")


class RefundedLine(Document):
    line_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    grades: dict[str, int] = Field(default_factory=dict,
                                   description="Units of this refund per inspection grade (A like new … D "
                                               "unsalvageable); empty when refunded before inspection")


class RefundApproved(EventPayload):
    """A refund to pay out, for finance (key: the RMA id). `refund_id` is unique: finance pays each once."""

    refund_id: str
    rma_id: str
    order_id: str
    channel: str
    customer_id: str
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reason: str = Field(description="The return's reason code")
    timing: str = Field(description="instant (before receipt), on_receipt or after_inspection")
    lines: list[RefundedLine] = Field(min_length=1, max_length=1_000)
    breakdown: list[RefundComponent] = Field(max_length=10_000, description="Sums to amount")
    tax: Money = Field(default=Decimal("0"),
                       description="The sales tax in amount (the breakdown's tax components): the order's tax pro "
                                   "rata to the goods and shipping refunded")
    method: str = Field(default="original_payment",
                        description="How it is paid: original_payment (back to the order's payment), store_credit "
                                    "(a liability finance issues once), or another method such as bank_transfer "
                                    "(approved by a refund approver)")
    risk_signals: list[str] = Field(default_factory=list, max_length=100)
    approved_by: str = Field(description="The supervisor, or `policy` when approved automatically")
    approved_at: AwareDatetime


class SkuVendorAssigned(EventPayload):
    """Which vendor supplies a SKU, for vendor claims and supplier KPIs (key: the SKU)."""

    sku: str
    vendor_id: str
    vendor_sku: str | None = None
    assigned_by: str
    at: AwareDatetime


class VendorClaimStatus(StrEnum):
    draft = "draft"  # defective returns accumulate into it
    submitted = "submitted"  # sent to the vendor
    accepted = "accepted"
    partially_accepted = "partially_accepted"
    rejected = "rejected"
    credited = "credited"  # the vendor's credit note arrived


class VendorClaimLine(Document):
    rma_id: str
    sku: str
    vendor_sku: str | None = None
    quantity: int = Field(ge=1, le=INT4_MAX)
    grade: str
    reason: str
    unit_cost: Money | None = Field(default=None, description="What is claimed per unit: the SKU's cost")
    serials: list[str] = Field(default_factory=list, max_length=10_000)
    notes: str | None = Field(default=None, description="The inspector's notes")
    photos: list[str] = Field(default_factory=list, max_length=100, description="References to photos")


class VendorClaimChanged(EventPayload):
    """A vendor claim as it is now, at each step (key: the claim id): finance posts the vendor receivable when
    it is accepted and clears it when credited; the control service computes defect and recovery rates."""

    claim_id: str
    vendor_id: str
    status: VendorClaimStatus
    currency: str | None = Field(default=None, description="Of the amounts; unknown while no line has a cost")
    claimed_amount: Money
    accepted_amount: Money | None = None
    credited_amount: Money | None = None
    credit_reference: str | None = Field(default=None, description="The vendor's credit note")
    lines: list[VendorClaimLine] = Field(max_length=10_000)
    actor: str
    note: str | None = None
    at: AwareDatetime
