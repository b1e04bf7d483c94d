"""Events of the order service, topic order.events.v1."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.channel import Address, ChannelOrderLine, Customer, Payment, ServiceLevel
from ecomops_common.contracts.types import Document, EventPayload, Money


class OrderStatus(StrEnum):
    received = "received"
    on_hold = "on_hold"
    awaiting_allocation = "awaiting_allocation"
    allocated = "allocated"
    partially_allocated = "partially_allocated"
    backordered = "backordered"
    released_to_warehouse = "released_to_warehouse"
    picking = "picking"
    packed = "packed"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    rejected = "rejected"
    exception = "exception"


class HoldReason(StrEnum):
    payment_hold = "payment_hold"
    fraud_review = "fraud_review"
    address_hold = "address_hold"
    inventory_hold = "inventory_hold"


class PlacedBundle(Document):
    """A bundle line the channel sold: the order's `lines` hold its components instead (line ids
    `<line_id>.<n>`, the bundle's price apportioned over them), which are allocated, shipped and returned."""

    line_id: str
    sku: str
    quantity: int
    unit_price: Money
    component_line_ids: list[str] = Field(max_length=100)


class OrderPlaced(EventPayload):
    order_id: str
    channel: str
    external_order_id: str
    placed_at: AwareDatetime
    currency: str
    customer: Customer
    ship_to: Address
    service_level: ServiceLevel
    promised_date: date | None = None
    payment: Payment
    fraud_score: int | None = None
    lines: list[ChannelOrderLine] = Field(max_length=500)
    shipping_fee: Money
    tax: Money
    total: Money = Field(description="Sum of lines, shipping fee and tax")
    status: OrderStatus = Field(
        default=OrderStatus.awaiting_allocation,
        description="awaiting_allocation, or on_hold with the holds listed: allocate only when awaiting")
    holds: list[HoldReason] = Field(default_factory=list, max_length=len(HoldReason))
    reservation_id: str | None = Field(default=None, description="The soft reservation the order converts")
    bundles: list[PlacedBundle] = Field(default_factory=list, max_length=500)


class RejectionReason(Document):
    field: str = Field(description="Dotted path of the offending field, e.g. lines.0.quantity")
    code: str = Field(description="Machine-readable rule name, e.g. non_positive_quantity")
    message: str


class OrderStatusChanged(EventPayload):
    """Every status change after placement: holds released, cancellation, and later fulfilment."""

    order_id: str
    channel: str
    external_order_id: str
    from_status: OrderStatus
    to_status: OrderStatus
    holds: list[HoldReason] = Field(default_factory=list, max_length=len(HoldReason),
                                    description="Holds still on the order")
    actor: str = Field(description="Who or what made the change, e.g. supervisor:jane or channel:web-eu")
    reason: str | None = None


class OrderRejected(EventPayload):
    order_id: str
    channel: str
    external_order_id: str
    reasons: list[RejectionReason] = Field(min_length=1, max_length=5_000)
