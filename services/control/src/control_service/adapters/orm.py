"""The control service's tables: a read model of the other services' topics, never their data.

`events` keeps every fact consumed (the order timeline is read from it, and its primary key makes handling a
redelivery a no-op); the *_facts tables hold what the KPIs and the inbox are computed from, each column set by the
events that decide it whatever order they arrive in, so a rebuild from the topics gives the same figures.
`inbox_items` is the exception inbox; `console_sessions` and `alerts` are the control service's own."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, Numeric, String, Text, column
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime

MONEY = Numeric(17, 4)


def _str(length: int, **kwargs) -> Column:
    return Column(String(length), **kwargs)


class EventRecord(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_order", "order_id", "occurred_at"), Index("ix_events_rma", "rma_id"))

    event_id: str = Field(sa_column=_str(200, primary_key=True))
    topic: str = Field(sa_column=_str(255, nullable=False))
    event_type: str = Field(sa_column=_str(64, nullable=False))
    source: str = Field(sa_column=_str(64, nullable=False))
    order_id: str | None = Field(default=None, sa_column=_str(64))
    rma_id: str | None = Field(default=None, sa_column=_str(64))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))


class OrderFactRecord(SQLModel, table=True):
    __tablename__ = "order_facts"
    __table_args__ = (Index("ix_order_facts_external", "external_order_id"), Index("ix_order_facts_customer",
                                                                                    "customer_id"),
                      # The order list's own order, so a page is read off the index, not sorted (100,000 orders:
                      # page 1 ~90 -> ~1 ms); it serves the KPIs' ranges of placed_at as well.
                      Index("ix_order_facts_placed", column("placed_at").desc().nulls_last(), "order_id"),
                      Index("ix_order_facts_status", "status"))

    order_id: str = Field(sa_column=_str(64, primary_key=True))
    channel: str | None = Field(default=None, sa_column=_str(64))
    external_order_id: str | None = Field(default=None, sa_column=_str(128))
    customer_id: str | None = Field(default=None, sa_column=_str(128))
    placed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    currency: str | None = Field(default=None, sa_column=_str(3))
    total: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    units: int | None = Field(default=None, sa_column=Column(Integer))
    holds: str | None = Field(default=None, sa_column=_str(200), description="Holds at placement, comma-separated")
    promised_date: date | None = Field(default=None, sa_column=Column(Date))
    service_level: str | None = Field(default=None, sa_column=_str(16))
    status: str | None = Field(default=None, sa_column=_str(32))
    status_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    released_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    shipped_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    rejected_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    first_allocated_units: int | None = Field(default=None, sa_column=Column(Integer))
    first_backordered_units: int | None = Field(default=None, sa_column=Column(Integer))
    allocation_revision: int | None = Field(default=None, sa_column=Column(Integer))
    backordered_units: int | None = Field(default=None, sa_column=Column(Integer))
    node: str | None = Field(default=None, sa_column=_str(64), description="Where its units ship from (the first)")
    picked: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    packed: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    shipped: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    shipments: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    carrier: str | None = Field(default=None, sa_column=_str(64))


class OrderLineRecord(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_sku", "sku"),)

    order_id: str = Field(sa_column=_str(64, primary_key=True))
    line_id: str = Field(sa_column=_str(64, primary_key=True))
    sku: str = Field(sa_column=_str(64, nullable=False))
    category: str | None = Field(default=None, sa_column=_str(64))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    unit_price: Decimal = Field(sa_column=Column(MONEY, nullable=False))


class ShipmentLineRecord(SQLModel, table=True):
    """Units that left a node, per shipment and line (the return rate's and carriers' denominator)."""

    __tablename__ = "shipment_lines"
    __table_args__ = (Index("ix_shipment_lines_shipped", "shipped_at"), Index("ix_shipment_lines_order", "order_id"))

    event_id: str = Field(sa_column=_str(200, primary_key=True))
    line_id: str = Field(sa_column=_str(64, primary_key=True))
    order_id: str = Field(sa_column=_str(64, nullable=False))
    sku: str = Field(sa_column=_str(64, nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    node: str = Field(sa_column=_str(64, nullable=False))
    carrier: str | None = Field(default=None, sa_column=_str(64))
    shipped_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class FulfilmentWorkRecord(SQLModel, table=True):
    """Units picked, packed and shipped by one warehouse event: throughput per node (the order's) and hour."""

    __tablename__ = "fulfilment_work"
    __table_args__ = (Index("ix_fulfilment_work_at", "at"),)

    event_id: str = Field(sa_column=_str(200, primary_key=True))
    order_id: str = Field(sa_column=_str(64, nullable=False))
    picked: int = Field(sa_column=Column(Integer, nullable=False))
    packed: int = Field(sa_column=Column(Integer, nullable=False))
    shipped: int = Field(sa_column=Column(Integer, nullable=False))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ReturnFactRecord(SQLModel, table=True):
    __tablename__ = "return_facts"
    __table_args__ = (Index("ix_return_facts_order", "order_id"), Index("ix_return_facts_status", "status"))

    rma_id: str = Field(sa_column=_str(64, primary_key=True))
    order_id: str | None = Field(default=None, sa_column=_str(64))
    channel: str | None = Field(default=None, sa_column=_str(64))
    node: str | None = Field(default=None, sa_column=_str(64))
    reason: str | None = Field(default=None, sa_column=_str(64))
    resolution: str | None = Field(default=None, sa_column=_str(16))
    authorized_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    expected_by: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    received_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    inspected_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    status: str | None = Field(default=None, sa_column=_str(32))
    status_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    refund_approved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    refund_amount: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    currency: str | None = Field(default=None, sa_column=_str(3))
    refunded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    refunded_amount: Decimal | None = Field(default=None, sa_column=Column(MONEY))


class ReturnLineRecord(SQLModel, table=True):
    __tablename__ = "return_lines"
    __table_args__ = (Index("ix_return_lines_sku", "sku"),)

    rma_id: str = Field(sa_column=_str(64, primary_key=True))
    line_id: str = Field(sa_column=_str(64, primary_key=True))
    sku: str = Field(sa_column=_str(64, nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))


class ReturnUnitsRecord(SQLModel, table=True):
    """Returned units received, inspected or moved by disposition (recovery rate)."""

    __tablename__ = "return_units"
    __table_args__ = (Index("ix_return_units_rma", "rma_id"),)

    event_id: str = Field(sa_column=_str(200, primary_key=True))
    rma_id: str = Field(sa_column=_str(64, nullable=False))
    stage: str = Field(sa_column=_str(16, nullable=False), description="received, inspected or disposed")
    sku: str = Field(sa_column=_str(64, nullable=False))
    node: str = Field(sa_column=_str(64, nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    outcome: str = Field(sa_column=_str(32, nullable=False), description="The condition, or the disposition")
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class StockLevelRecord(SQLModel, table=True):
    """The warehouse's levels of a SKU at a node, the newest version seen."""

    __tablename__ = "node_stock_levels"

    sku: str = Field(sa_column=_str(64, primary_key=True))
    node: str = Field(sa_column=_str(64, primary_key=True))
    version: int | None = Field(default=None, sa_column=Column(BigInteger))
    sellable_on_hand: int = Field(sa_column=Column(Integer, nullable=False))
    by_status: str = Field(sa_column=Column(Text, nullable=False), description="JSON: status -> units")
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class AvailabilityRecord(SQLModel, table=True):
    """Allocation's view of a SKU at a node, the newest seen."""

    __tablename__ = "availability"

    sku: str = Field(sa_column=_str(64, primary_key=True))
    node: str = Field(sa_column=_str(64, primary_key=True))
    on_hand: int = Field(sa_column=Column(Integer, nullable=False))
    reserved: int = Field(sa_column=Column(Integer, nullable=False))
    safety_stock: int = Field(sa_column=Column(Integer, nullable=False))
    atp: int = Field(sa_column=Column(Integer, nullable=False))
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SkuPriceRecord(SQLModel, table=True):
    """The latest selling price seen on an order: what stock and returns are valued at."""

    __tablename__ = "sku_prices"

    sku: str = Field(sa_column=_str(64, primary_key=True))
    category: str | None = Field(default=None, sa_column=_str(64))
    unit_price: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=_str(3, nullable=False))
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SkuVendorRecord(SQLModel, table=True):
    """Which vendor supplies a SKU, the latest assignment seen (supplier KPIs)."""

    __tablename__ = "supplier_skus"
    __table_args__ = (Index("ix_supplier_skus_vendor", "vendor_id"),)

    sku: str = Field(sa_column=_str(64, primary_key=True))
    vendor_id: str = Field(sa_column=_str(128, nullable=False))
    assigned_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class VendorClaimRecord(SQLModel, table=True):
    """A vendor claim as its latest snapshot states it (supplier KPIs)."""

    __tablename__ = "supplier_claims"
    __table_args__ = (Index("ix_supplier_claims_vendor", "vendor_id"),)

    claim_id: str = Field(sa_column=_str(128, primary_key=True))
    vendor_id: str = Field(sa_column=_str(128, nullable=False))
    status: str = Field(sa_column=_str(32, nullable=False))
    currency: str | None = Field(default=None, sa_column=_str(3))
    claimed_amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    accepted_amount: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    credited_amount: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    defective_units: int = Field(sa_column=Column(BigInteger, nullable=False), description="Units of its lines")
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class DeliveryRecord(SQLModel, table=True):
    """An outbound parcel delivered, as its carrier's tracking said: promised-versus-actual delivery per carrier and
    service."""

    __tablename__ = "control_deliveries"
    __table_args__ = (Index("ix_control_deliveries_delivered", "delivered_at"),)

    tracking_number: str = Field(sa_column=_str(255, primary_key=True))
    order_id: str = Field(sa_column=_str(64, nullable=False))
    carrier: str = Field(sa_column=_str(128, nullable=False))
    service: str = Field(sa_column=_str(128, nullable=False))
    promised_date: date | None = Field(default=None, sa_column=Column(Date), description="Promised to the customer")
    estimated_delivery: date | None = Field(default=None, sa_column=Column(Date), description="The service's")
    delivered_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CountRecord(SQLModel, table=True):
    __tablename__ = "counts"
    __table_args__ = (Index("ix_counts_counted_at", "counted_at"),)

    count_id: str = Field(sa_column=_str(128, primary_key=True))
    node: str = Field(sa_column=_str(64, nullable=False))
    sku: str = Field(sa_column=_str(64, nullable=False))
    location: str = Field(sa_column=_str(64, nullable=False))
    expected: int = Field(sa_column=Column(Integer, nullable=False))
    counted: int = Field(sa_column=Column(Integer, nullable=False))
    counted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class WarehouseExceptionRecord(SQLModel, table=True):
    __tablename__ = "warehouse_exceptions"
    __table_args__ = (Index("ix_warehouse_exceptions_raised", "raised_at"),)

    exception_id: str = Field(sa_column=_str(128, primary_key=True))
    kind: str = Field(sa_column=_str(32, nullable=False))
    node: str = Field(sa_column=_str(64, nullable=False))
    raised_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class InboxItemRecord(SQLModel, table=True):
    """One thing someone has to act on. It is visible from `visible_from` (when it began plus the grace its kind
    allows, e.g. a hold's first 30 minutes) until closed; an event closing it wins over an older one opening it."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_open", "status", "visible_from"), Index("ix_inbox_kind", "kind", "status"),
                      Index("ix_inbox_order", "order_id"))

    item_id: str = Field(sa_column=_str(300, primary_key=True))
    kind: str = Field(sa_column=_str(40, nullable=False))
    status: str = Field(sa_column=_str(8, nullable=False), description="open or closed")
    since: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False), description="When it began")
    visible_from: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    closed_by: str | None = Field(default=None, sa_column=_str(200))
    order_id: str | None = Field(default=None, sa_column=_str(64))
    rma_id: str | None = Field(default=None, sa_column=_str(64))
    node: str | None = Field(default=None, sa_column=_str(64))
    channel: str | None = Field(default=None, sa_column=_str(64))
    sku: str | None = Field(default=None, sa_column=_str(64))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    reference: str = Field(sa_column=Column(Text, nullable=False), description="JSON: what its action needs")
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()),
                                          description="When it passed its queue's escalation age (recorded once)")


class DeadLetterRecord(SQLModel, table=True):
    __tablename__ = "dead_letters"

    dlq_topic: str = Field(sa_column=_str(255, primary_key=True))
    partition: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    offset: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    original_topic: str = Field(sa_column=_str(255, nullable=False))
    consumer: str = Field(sa_column=_str(255, nullable=False))
    reason: str = Field(sa_column=_str(64, nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    failed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class AlertRecord(SQLModel, table=True):
    __tablename__ = "alerts"

    alert_id: str = Field(sa_column=_str(300, primary_key=True))
    kind: str = Field(sa_column=_str(40, nullable=False))
    subject: str = Field(sa_column=_str(200, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    value: float = Field(sa_column=Column(Numeric(20, 4), nullable=False))
    threshold: float = Field(sa_column=Column(Numeric(20, 4), nullable=False))
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    since: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ConsoleSessionRecord(SQLModel, table=True):
    """A signed-in console user: the cookie holds only the session id; tokens stay on the server (the
    backend-for-frontend calls the services with them)."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires", "expires_at"),)

    session_id: str = Field(sa_column=_str(64, primary_key=True))
    subject: str = Field(sa_column=_str(200, nullable=False))
    name: str = Field(sa_column=_str(200, nullable=False))
    roles: str = Field(sa_column=Column(Text, nullable=False), description="JSON list")
    access_token: str = Field(sa_column=Column(Text, nullable=False))
    refresh_token: str | None = Field(default=None, sa_column=Column(Text))
    id_token: str | None = Field(default=None, sa_column=Column(Text))
    csrf_token: str = Field(sa_column=_str(64, nullable=False))
    access_expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SignInRecord(SQLModel, table=True):
    """A sign-in under way: the PKCE verifier and nonce between the redirect to the issuer and its callback."""

    __tablename__ = "console_sign_ins"

    state: str = Field(sa_column=_str(64, primary_key=True))
    code_verifier: str = Field(sa_column=_str(128, nullable=False))
    nonce: str = Field(sa_column=_str(64, nullable=False))
    return_to: str = Field(sa_column=_str(500, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


TABLES = [model.__table__ for model in (
    EventRecord, OrderFactRecord, OrderLineRecord, ShipmentLineRecord, FulfilmentWorkRecord, ReturnFactRecord,
    ReturnLineRecord, ReturnUnitsRecord, StockLevelRecord, AvailabilityRecord, SkuPriceRecord, SkuVendorRecord,
    VendorClaimRecord, DeliveryRecord, CountRecord,
    WarehouseExceptionRecord, InboxItemRecord, DeadLetterRecord, AlertRecord, ConsoleSessionRecord, SignInRecord)]
