"""Events of the shipping service: labels on shipping.events.v1 (key: the order id, or the RMA id for return
labels) and carrier tracking on shipping.tracking.v1 (key: the tracking number, so a parcel's events stay in
order)."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import EventPayload, Money


class LabelPurchased(EventPayload):
    """A carrier label bought for a parcel (bought once per parcel however often it is asked for). The warehouse
    ships the parcel with it; `estimated_delivery` is what the carrier service's transit time gives."""

    parcel_id: str
    order_id: str
    node: str
    carrier: str
    service: str = Field(description="The carrier's service, e.g. ground or express")
    tracking_number: str
    label_url: str | None = None
    cost: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    ship_date: date
    estimated_delivery: date
    promised_date: date | None = Field(default=None, description="The date promised to the customer, if any")
    meets_promise: bool = Field(description="False when no allowed service could meet the promised date: the "
                                            "fastest was bought instead")
    purchased_at: AwareDatetime


class ReturnLabelIssued(EventPayload):
    """A prepaid return label for an RMA, for customer service to send to the customer."""

    rma_id: str
    order_id: str | None = None
    carrier: str
    service: str
    tracking_number: str
    label_url: str | None = None
    cost: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    issued_at: AwareDatetime


class TrackingStatus(StrEnum):
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    exception = "exception"  # lost, damaged, address problem, refused: an operator looks at it


class TrackingUpdated(EventPayload):
    """A carrier's tracking event for a parcel. For an outbound parcel `order_id` is set and, on delivered,
    `order_delivered` says whether every parcel of the order labelled so far is delivered; a return parcel has
    `rma_id` instead."""

    event_id: str = Field(description="Unique per carrier event: consumers apply it once")
    tracking_number: str
    carrier: str
    service: str
    status: TrackingStatus
    description: str | None = None
    order_id: str | None = None
    rma_id: str | None = None
    parcel_id: str | None = None
    promised_date: date | None = None
    estimated_delivery: date | None = None
    order_delivered: bool = False
    occurred_at: AwareDatetime
