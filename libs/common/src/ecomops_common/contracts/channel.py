"""What sales channels (storefronts, marketplaces) send: topic channel.orders.v1 and POST /v1/orders."""

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, ConfigDict, Field

from ecomops_common.contracts.types import MAX_LINE_QUANTITY, Document, Money


class CustomerTier(StrEnum):
    standard = "standard"
    vip = "vip"


class ServiceLevel(StrEnum):
    standard = "standard"
    express = "express"


class PaymentStatus(StrEnum):
    authorized = "authorized"
    captured = "captured"
    pending = "pending"
    failed = "failed"


class Contract(Document):
    model_config = ConfigDict(extra="forbid")


class Customer(Contract):
    id: str = Field(min_length=1, max_length=128)
    tier: CustomerTier = CustomerTier.standard
    email: str | None = Field(default=None, max_length=320)


class Address(Contract):
    # Every part is optional here: an incomplete address is a hold on the order, not a malformed message.
    name: str | None = Field(default=None, max_length=200)
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    phone: str | None = Field(default=None, max_length=40)


class Payment(Contract):
    status: PaymentStatus
    amount: Money
    method: str = Field(min_length=1, max_length=40)


class PaymentUpdate(Contract):
    """A payment's new state from a channel: topic channel.payments.v1, key `<channel>:<external_order_id>`."""

    channel: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    external_order_id: str = Field(min_length=1, max_length=128)
    status: PaymentStatus
    amount: Money | None = None
    reference: str | None = Field(default=None, max_length=128)


class ChannelOrderLine(Contract):
    line_id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=-MAX_LINE_QUANTITY, le=MAX_LINE_QUANTITY,
                          description="Must be positive; a non-positive quantity rejects the order")
    unit_price: Money
    category: str | None = Field(default=None, max_length=64,
                                 description="Product category, for return rules, e.g. hygiene or apparel")
    final_sale: bool = Field(default=False, description="Sold as final sale: not returnable")


class ChannelOrder(Contract):
    """An order as a channel connector sends it. Key on Kafka: `<channel>:<external_order_id>`."""

    channel: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    external_order_id: str = Field(min_length=1, max_length=128)
    placed_at: AwareDatetime
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    customer: Customer
    ship_to: Address
    service_level: ServiceLevel = ServiceLevel.standard
    promised_date: date | None = Field(default=None, description="Delivery date promised to the customer; "
                                                                  "earlier promises get scarce stock first")
    payment: Payment
    fraud_score: int | None = Field(default=None, ge=0, le=100)
    lines: list[ChannelOrderLine] = Field(min_length=1, max_length=500)
    shipping_fee: Money = Decimal("0")
    tax: Money = Decimal("0")
    reservation_id: str | None = Field(default=None, max_length=64,
                                       description="The cart's or quote's soft reservation this order converts")

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}:{self.external_order_id}"

