"""Events of the order service, topic order.events.v1."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ecomops_common.contracts.channel import Address, ChannelOrderLine, Customer, Payment, ServiceLevel
from ecomops_common.contracts.types import Money


class OrderEvent(BaseModel):
    # Consumers ignore fields they do not know, so adding an optional field stays compatible.
    model_config = ConfigDict(extra="ignore")


class OrderPlaced(OrderEvent):
    order_id: str
    channel: str
    external_order_id: str
    placed_at: AwareDatetime
    currency: str
    customer: Customer
    ship_to: Address
    service_level: ServiceLevel
    payment: Payment
    fraud_score: int | None = None
    lines: list[ChannelOrderLine]
    shipping_fee: Money
    tax: Money
    total: Money = Field(description="Sum of lines, shipping fee and tax")


class RejectionReason(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. lines.0.quantity")
    code: str = Field(description="Machine-readable rule name, e.g. non_positive_quantity")
    message: str


class OrderRejected(OrderEvent):
    order_id: str
    channel: str
    external_order_id: str
    reasons: list[RejectionReason] = Field(min_length=1)
