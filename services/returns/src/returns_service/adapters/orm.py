"""The returns service's tables. An RMA is stored whole as a JSON document beside the columns its queues are read
by; every step of its timeline is also appended to rma_audit, which is never updated."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, Numeric, String, Text, false, text
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime

MONEY = Numeric(17, 4)


class SalesOrderRecord(SQLModel, table=True):
    """What the returns service knows of an order, from the order service's and the warehouse's events. Any
    column but the id may still be empty: a shipment can be heard of before the order it belongs to."""

    __tablename__ = "sales_orders"
    __table_args__ = (Index("ix_sales_orders_channel_external", "channel", "external_order_id"),)

    order_id: str = Field(sa_column=Column(String(64), primary_key=True))
    channel: str | None = Field(default=None, sa_column=Column(String(64)))
    external_order_id: str | None = Field(default=None, sa_column=Column(String(128)))
    customer_id: str | None = Field(default=None, sa_column=Column(String(128)))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    shipping_fee: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    tax: Decimal | None = Field(default=None, sa_column=Column(MONEY), description="Sales tax, refunded pro rata")
    goods: Decimal | None = Field(default=None, sa_column=Column(MONEY), description="Sum of the lines")
    placed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    document: str | None = Field(default=None, sa_column=Column(Text), description="OrderPlaced, for exchanges")


class SalesOrderLineRecord(SQLModel, table=True):
    __tablename__ = "sales_order_lines"

    order_id: str = Field(sa_column=Column(String(64), primary_key=True))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    category: str | None = Field(default=None, sa_column=Column(String(64)))
    final_sale: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    quantity: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    unit_price: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    shipped: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    node: str | None = Field(default=None, sa_column=Column(String(64)), description="That shipped the units")
    serials: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""),
                         description="Serial numbers shipped, each followed by a newline, so shipments append")
    requested: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"),
                           description="Units on RMAs")


class ReturnRequestRecord(SQLModel, table=True):
    """One row per authorized (channel, request_id): a resent request answers with the same RMA."""

    __tablename__ = "return_requests"

    channel: str = Field(sa_column=Column(String(64), primary_key=True))
    request_id: str = Field(sa_column=Column(String(128), primary_key=True))
    rma_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class RmaRecord(SQLModel, table=True):
    __tablename__ = "rmas"
    __table_args__ = (Index("ix_rmas_status", "status", "authorized_at"),
                      Index("ix_rmas_customer", "customer_id", "authorized_at"),
                      Index("ix_rmas_order", "order_id"),
                      Index("ix_rmas_waiting_approval", "waiting_approval", "updated_at"),
                      Index("ix_rmas_waiting_write_off", "waiting_write_off", "updated_at"))

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    order_id: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    customer_id: str = Field(sa_column=Column(String(128), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    waiting_approval: bool = Field(sa_column=Column(Boolean, nullable=False), description="A refund decision")
    waiting_write_off: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()),
                                    description="A supervisor's approval of a write-off")
    authorized_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expected_by: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False), description="The whole RMA, JSON")


class RmaAuditRecord(SQLModel, table=True):
    """Append-only: who did what to an RMA and when, decisions included."""

    __tablename__ = "rma_audit"
    __table_args__ = (Index("ix_rma_audit_rma", "rma_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    rma_id: str = Field(sa_column=Column(String(64), nullable=False))
    stage: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ReturnRuleRecord(SQLModel, table=True):
    """Rules as data: return and refund policies per channel (and category), the disposition table."""

    __tablename__ = "return_rules"

    kind: str = Field(sa_column=Column(String(32), primary_key=True))
    key: str = Field(sa_column=Column(String(160), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CatalogSkuRecord(SQLModel, table=True):
    """What the catalog (SkuChanged) says of a SKU's returns, its newest revision: it wins over the order line's
    flags."""

    __tablename__ = "returns_skus"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    returnable: bool = Field(sa_column=Column(Boolean, nullable=False))
    final_sale: bool = Field(sa_column=Column(Boolean, nullable=False))
    return_window_days: int | None = Field(default=None, sa_column=Column(Integer))
    category: str | None = Field(default=None, sa_column=Column(String(64)))
    hazmat_class: str | None = Field(default=None, sa_column=Column(String(64)), description="Set: hazardous")
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SkuVendorRecord(SQLModel, table=True):
    """Who supplies a SKU, as the catalog names it, for vendor claims (assigned_by: who changed the catalog)."""

    __tablename__ = "sku_vendors"
    __table_args__ = (Index("ix_sku_vendors_vendor", "vendor_id", "sku"),)

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    vendor_id: str = Field(sa_column=Column(String(64), nullable=False))
    vendor_sku: str | None = Field(default=None, sa_column=Column(String(64)))
    assigned_by: str = Field(sa_column=Column(String(128), nullable=False))
    assigned_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class UnitCostRecord(SQLModel, table=True):
    """A SKU's latest unit cost from finance (UnitCostChanged): what a vendor claim asks back per unit."""

    __tablename__ = "claim_unit_costs"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False), description="As of finance's change")


class VendorClaimRecord(SQLModel, table=True):
    """A vendor claim, stored whole as a JSON document (its lines and timeline) beside the columns it is listed by;
    at most one draft per vendor, the one defective returns accumulate into."""

    __tablename__ = "vendor_claims"
    __table_args__ = (Index("ix_vendor_claims_vendor", "vendor_id", "status"),
                      Index("ux_vendor_claims_draft", "vendor_id", unique=True,
                            postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")))

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    vendor_id: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(24), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False))


TABLES = [model.__table__ for model in (SalesOrderRecord, SalesOrderLineRecord, ReturnRequestRecord, RmaRecord,
                                        RmaAuditRecord, ReturnRuleRecord, CatalogSkuRecord, SkuVendorRecord,
                                        UnitCostRecord, VendorClaimRecord)]
