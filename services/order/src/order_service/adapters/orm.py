"""The order service's tables."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime


class OrderRecord(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # Idempotency: one order per channel order, however often and however concurrently it is sent.
        UniqueConstraint("channel", "external_order_id", name="uq_orders_channel_external_id"),
        Index("ix_orders_channel_status_id", "channel", "status", "id"),
        Index("ix_orders_status_id", "status", "id"),
    )

    id: str = Field(sa_column=Column(String(36), primary_key=True), description="UUIDv7: ordered by creation")
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    external_order_id: str = Field(sa_column=Column(String(128), nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    placed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False), description="The channel order as received")
    rejections: str | None = Field(default=None, sa_column=Column(Text), description="JSON list of reasons")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OrderTransitionRecord(SQLModel, table=True):
    """The audit trail: every status change and hold release, who or what made it, when and why."""

    __tablename__ = "order_transitions"
    __table_args__ = (Index("ix_order_transitions_order", "order_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    order_id: str = Field(sa_column=Column(String(36), nullable=False))
    from_status: str | None = Field(default=None, sa_column=Column(String(32)))
    to_status: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OrderHoldRecord(SQLModel, table=True):
    __tablename__ = "order_holds"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    reason: str = Field(sa_column=Column(String(32), primary_key=True))


class OrderAllocationRevisionRecord(SQLModel, table=True):
    """The latest allocation revision applied per order: older reports (redelivered, redriven) change nothing."""

    __tablename__ = "order_allocation_revisions"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    revision: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OrderLineAllocationRecord(SQLModel, table=True):
    """The order's current allocation per line and node, as the allocation service last reported it."""

    __tablename__ = "order_line_allocations"
    __table_args__ = (Index("ix_order_line_allocations_order", "order_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    order_id: str = Field(sa_column=Column(String(36), nullable=False))
    line_id: str = Field(sa_column=Column(String(64), nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    node: str | None = Field(default=None, sa_column=Column(String(64)), description="None: backordered units")
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    promised_date: date | None = Field(default=None, sa_column=Column(Date),
                                       description="Backordered units: when inbound supply should cover them")


class OrderFulfilmentStageRecord(SQLModel, table=True):
    """The furthest stage the warehouse reported per order. Kept even when the order cannot follow it yet:
    the warehouse's news may overtake the allocation result it depends on (they come on different topics)."""

    __tablename__ = "order_fulfilment_stages"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    stage: str = Field(sa_column=Column(String(32), nullable=False))


class OrderReturnStepRecord(SQLModel, table=True):
    """The returns service's steps of each RMA, append-only. No reference to orders: a step of an order not
    stored here is kept all the same."""

    __tablename__ = "order_return_steps"
    __table_args__ = (Index("ix_order_return_steps_order", "order_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    rma_id: str = Field(sa_column=Column(String(64), nullable=False))
    order_id: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    resolution: str | None = Field(default=None, sa_column=Column(String(16)),
                                   description="Only on the authorized step: refund or exchange")
    lines: str | None = Field(default=None, sa_column=Column(Text),
                              description="Only on the authorized step: JSON list of line_id, sku, quantity")


class OrderGradedVariantRecord(SQLModel, table=True):
    """The channels that may sell each graded variant, as the warehouse last defined it (GradedVariantDefined):
    intake rejects its lines on the other channels."""

    __tablename__ = "order_graded_variants"

    variant_sku: str = Field(sa_column=Column(String(64), primary_key=True))
    channels: str = Field(sa_column=Column(Text, nullable=False), description="JSON list; empty: every channel")
    defined_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OrderCatalogSkuRecord(SQLModel, table=True):
    """The SKU master's newest revision of each SKU (SkuChanged), as far as intake needs it."""

    __tablename__ = "order_catalog_skus"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    active: bool = Field(sa_column=Column(Boolean, nullable=False), description="False: discontinued")
    category: str | None = Field(default=None, sa_column=Column(String(64)))
    final_sale: bool = Field(sa_column=Column(Boolean, nullable=False))
    unit_cost: Decimal | None = Field(default=None, sa_column=Column(Numeric(17, 4)),
                                      description="Weighs the component in a bundle's price")
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OrderCatalogComponentRecord(SQLModel, table=True):
    """A bundle's components in the catalog's order (the bundle's newest revision)."""

    __tablename__ = "order_catalog_components"

    bundle_sku: str = Field(sa_column=Column(String(64), primary_key=True))
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    component_sku: str = Field(sa_column=Column(String(64), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False), description="Units in one bundle")


class OrderAwaitedSkuRecord(SQLModel, table=True):
    """The SKUs of an order placed on inventory hold (the catalog did not know some, or discontinued them): the
    hold goes by itself once the catalog knows every one of them, active."""

    __tablename__ = "order_awaited_skus"
    __table_args__ = (Index("ix_order_awaited_skus_sku", "sku"),)

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), primary_key=True))


class OrderUnknownSkuRuleRecord(SQLModel, table=True):
    """A channel's policy for orders with SKUs the catalog does not know; without one, the setting's default."""

    __tablename__ = "order_unknown_sku_rules"

    channel: str = Field(sa_column=Column(String(64), primary_key=True))
    action: str = Field(sa_column=Column(String(16), nullable=False), description="hold or reject")
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


TABLES = [model.__table__ for model in (OrderRecord, OrderTransitionRecord, OrderHoldRecord,
                                        OrderAllocationRevisionRecord, OrderLineAllocationRecord,
                                        OrderFulfilmentStageRecord, OrderReturnStepRecord, OrderGradedVariantRecord,
                                        OrderCatalogSkuRecord, OrderCatalogComponentRecord, OrderAwaitedSkuRecord,
                                        OrderUnknownSkuRuleRecord)]
