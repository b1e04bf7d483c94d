"""The allocation service's tables."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime


class StockPositionRecord(SQLModel, table=True):
    """One SKU at one node. Rows are locked in (sku, node) order, whole SKUs at a time, before any change."""

    __tablename__ = "stock_positions"
    __table_args__ = (
        # The last line of defence: no transaction can commit negative stock or reservations.
        CheckConstraint("on_hand >= 0 AND reserved >= 0 AND safety_stock >= 0", name="ck_stock_counts"),
        CheckConstraint("reserved <= on_hand", name="ck_reserved_backed_by_stock"),
        CheckConstraint("soft_reserved >= 0", name="ck_soft_reserved"),
    )

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    on_hand: int = Field(sa_column=Column(Integer, nullable=False), description="Sellable on-hand")
    reserved: int = Field(sa_column=Column(Integer, nullable=False))
    safety_stock: int = Field(sa_column=Column(Integer, nullable=False))
    soft_reserved: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"),
                               description="Units held by active soft reservations")
    level_version: int | None = Field(default=None, sa_column=Column(Integer), description=(
        "Version of the warehouse level on_hand was last set from; levels not above it are ignored"))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OrderDemandRecord(SQLModel, table=True):
    __tablename__ = "order_demands"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(24), nullable=False))
    revision: int = Field(sa_column=Column(Integer, nullable=False), description="Allocation changes so far")
    demand: str = Field(sa_column=Column(Text, nullable=False), description="Lines and ranking facts, JSON")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ReservationRecord(SQLModel, table=True):
    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_sku_node", "sku", "node"),
        CheckConstraint("qty > 0", name="ck_reservation_qty"),
    )

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    qty: int = Field(sa_column=Column(Integer, nullable=False))


class BackorderRecord(SQLModel, table=True):
    __tablename__ = "backorders"
    __table_args__ = (Index("ix_backorders_sku", "sku"), CheckConstraint("qty > 0", name="ck_backorder_qty"))

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    qty: int = Field(sa_column=Column(Integer, nullable=False))


class FulfilmentRecord(SQLModel, table=True):
    """Reserved units the warehouse has picked: no longer reserved, never re-sourced."""

    __tablename__ = "fulfilments"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    qty: int = Field(sa_column=Column(Integer, nullable=False))


class ReleaseBeforePlacementRecord(SQLModel, table=True):
    """A cancellation or rejection of an order that allocation has not seen placed: remembered, so that the
    order's OrderPlaced, arriving late (redriven from a dead-letter topic, or republished), reserves nothing."""

    __tablename__ = "releases_before_placement"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    reason: str = Field(sa_column=Column(String(24), nullable=False), description="cancelled or rejected")
    released_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ChannelRulesRecord(SQLModel, table=True):
    __tablename__ = "channel_rules"

    channel: str = Field(sa_column=Column(String(64), primary_key=True))
    rules: str = Field(sa_column=Column(Text, nullable=False), description="SourcingRules as JSON")
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class AllocationExceptionRecord(SQLModel, table=True):
    """Stock that vanished under reservations, for operators to investigate."""

    __tablename__ = "allocation_exceptions"
    __table_args__ = (Index("ix_allocation_exceptions_raised_at", "raised_at"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    shortfall: int = Field(sa_column=Column(Integer, nullable=False))
    affected_order_ids: str = Field(sa_column=Column(Text, nullable=False), description="JSON list")
    raised_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class BackorderPromiseRecord(SQLModel, table=True):
    """When inbound supply should cover a backordered line; a line without a row has no date. Written only
    under the lock of the line's SKU, beside (not inside) the order's backorder rows."""

    __tablename__ = "allocation_backorder_promises"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    promised_date: date = Field(sa_column=Column(Date, nullable=False))


class InboundSupplyRecord(SQLModel, table=True):
    """A line of an open (or once open) purchase order or transfer, as its latest change left it."""

    __tablename__ = "allocation_inbound_supply"
    __table_args__ = (Index("ix_allocation_inbound_supply_sku", "sku"),)

    source: str = Field(sa_column=Column(String(200), primary_key=True), description=(
        "purchase_order:<po_id> or transfer:<reference>"))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    expected_date: date = Field(sa_column=Column(Date, nullable=False))
    ordered: int = Field(sa_column=Column(Integer, nullable=False))
    received: int = Field(sa_column=Column(Integer, nullable=False))
    open: int = Field(sa_column=Column(Integer, nullable=False), description="Units still to come")


class SupplySourceRecord(SQLModel, table=True):
    """The change of each purchase order (revision) or transfer (time) applied: older ones are ignored."""

    __tablename__ = "allocation_supply_sources"

    source: str = Field(sa_column=Column(String(200), primary_key=True))
    revision: int | None = Field(default=None, sa_column=Column(Integer))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SoftReservationRecord(SQLModel, table=True):
    __tablename__ = "allocation_soft_reservations"
    __table_args__ = (Index("ix_allocation_soft_reservations_status_expires_at", "status", "expires_at"),)

    reservation_id: str = Field(sa_column=Column(String(64), primary_key=True))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    node: str | None = Field(default=None, sa_column=Column(String(64)))
    lines: str = Field(sa_column=Column(Text, nullable=False), description="[[sku, quantity]] as asked, JSON")
    status: str = Field(sa_column=Column(String(16), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    ended_by: str | None = Field(default=None, sa_column=Column(String(128)))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    order_id: str | None = Field(default=None, sa_column=Column(String(64)), description="The order converting it")


class SoftHoldRecord(SQLModel, table=True):
    """Units a soft reservation holds at one SKU×node (kept after it ends, for the record)."""

    __tablename__ = "allocation_soft_holds"
    __table_args__ = (CheckConstraint("qty > 0", name="ck_allocation_soft_hold_qty"),)

    reservation_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    qty: int = Field(sa_column=Column(Integer, nullable=False))


TABLES = [model.__table__ for model in (StockPositionRecord, OrderDemandRecord, ReservationRecord, BackorderRecord,
                                        FulfilmentRecord, ReleaseBeforePlacementRecord, ChannelRulesRecord,
                                        AllocationExceptionRecord, BackorderPromiseRecord, InboundSupplyRecord,
                                        SupplySourceRecord, SoftReservationRecord, SoftHoldRecord)]
