"""The shipping service's tables (all named shipping_*: SQLModel's metadata is shared by every service)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Index, Integer, Numeric, String, Text
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime

MONEY = Numeric(17, 4)


class OrderRecord(SQLModel, table=True):
    """What rate shopping needs of an order, from OrderPlaced."""

    __tablename__ = "shipping_orders"

    order_id: str = Field(sa_column=Column(String(64), primary_key=True))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    service_level: str = Field(sa_column=Column(String(16), nullable=False))
    promised_date: date | None = Field(default=None, sa_column=Column(Date))
    placed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SkuRecord(SQLModel, table=True):
    """A SKU's weight and hazmat class from the catalog (SkuChanged), newest revision kept."""

    __tablename__ = "shipping_skus"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    weight_kg: float | None = Field(default=None, sa_column=Column(Float))
    hazmat_class: str | None = Field(default=None, sa_column=Column(String(64)))


class CarrierServiceRecord(SQLModel, table=True):
    __tablename__ = "shipping_carrier_services"

    carrier: str = Field(sa_column=Column(String(64), primary_key=True))
    service: str = Field(sa_column=Column(String(64), primary_key=True))
    transit_days: int = Field(sa_column=Column(Integer, nullable=False))
    cutoff: str = Field(sa_column=Column(String(5), nullable=False), description="HH:MM, the node's local time")
    hazmat_allowed: bool = Field(sa_column=Column(Boolean, nullable=False))
    max_weight_kg: float = Field(sa_column=Column(Float, nullable=False))
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ChannelRuleRecord(SQLModel, table=True):
    """The carriers and services a channel's parcels may go with."""

    __tablename__ = "shipping_channel_rules"

    channel: str = Field(sa_column=Column(String(64), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ParcelRecord(SQLModel, table=True):
    """A parcel, its plan, its label (bought once: the parcel id is the carrier's idempotency key) and its
    journey (domain/parcels.py)."""

    __tablename__ = "shipping_parcels"
    __table_args__ = (Index("ix_shipping_parcels_due", "status", "next_attempt_at"),
                      Index("ix_shipping_parcels_order", "order_id"),
                      Index("ix_shipping_parcels_rma", "rma_id"),
                      Index("ux_shipping_parcels_tracking", "tracking_number", unique=True),
                      Index("ix_shipping_parcels_handover", "dispatched_at", "handed_over_at"),
                      Index("ix_shipping_parcels_delivered", "delivered_at"))

    parcel_id: str = Field(sa_column=Column(String(160), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    lines: str = Field(sa_column=Column(Text, nullable=False), description="[[sku, units], ...], JSON")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    order_id: str | None = Field(default=None, sa_column=Column(String(64)))
    rma_id: str | None = Field(default=None, sa_column=Column(String(64)))
    channel: str | None = Field(default=None, sa_column=Column(String(64)))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    weight_kg: float | None = Field(default=None, sa_column=Column(Float))
    hazmat: bool | None = Field(default=None, sa_column=Column(Boolean))
    carrier: str | None = Field(default=None, sa_column=Column(String(64)))
    service: str | None = Field(default=None, sa_column=Column(String(64)))
    ship_date: date | None = Field(default=None, sa_column=Column(Date))
    estimated_delivery: date | None = Field(default=None, sa_column=Column(Date))
    promised_date: date | None = Field(default=None, sa_column=Column(Date))
    meets_promise: bool | None = Field(default=None, sa_column=Column(Boolean))
    label_id: str | None = Field(default=None, sa_column=Column(String(128)))
    tracking_number: str | None = Field(default=None, sa_column=Column(String(128)))
    label_url: str | None = Field(default=None, sa_column=Column(Text))
    cost: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    purchased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    dispatched_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    handed_over_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    tracking_status: str | None = Field(default=None, sa_column=Column(String(32)))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    retried_by: str | None = Field(default=None, sa_column=Column(String(128)))
    retried_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class TrackingEventRecord(SQLModel, table=True):
    """Each carrier event once (its id is the key): TrackingUpdated is published when it is first stored."""

    __tablename__ = "shipping_tracking_events"
    __table_args__ = (Index("ix_shipping_tracking_events_number", "tracking_number", "occurred_at"),)

    event_id: str = Field(sa_column=Column(String(128), primary_key=True))
    tracking_number: str = Field(sa_column=Column(String(128), nullable=False))
    parcel_id: str = Field(sa_column=Column(String(160), nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class TrackingCursorRecord(SQLModel, table=True):
    """How far the carrier's tracking feed was read (its event sequence); locked while a poll runs."""

    __tablename__ = "shipping_tracking_cursors"

    feed: str = Field(sa_column=Column(String(64), primary_key=True))
    position: int = Field(sa_column=Column(BigInteger, nullable=False))


TABLES = [model.__table__ for model in (OrderRecord, SkuRecord, CarrierServiceRecord, ChannelRuleRecord, ParcelRecord,
                                        TrackingEventRecord, TrackingCursorRecord)]
