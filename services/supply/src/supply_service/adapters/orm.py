"""The supply service's tables, each prefixed supply_. A purchase order is stored whole as a JSON document (lines,
notices, timeline) beside the columns it is listed by; its lines' units still on order are kept per SKU×node in
a table of their own, which replenishment sums."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, Numeric, String, Text, false
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime

MONEY = Numeric(17, 4)


class SkuRecord(SQLModel, table=True):
    """What the catalog says of a SKU's purchasing (SkuChanged), the newest revision."""

    __tablename__ = "supply_skus"
    __table_args__ = (Index("ix_supply_skus_vendor", "vendor_id", "sku"),)

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    vendor_id: str | None = Field(default=None, sa_column=Column(String(64)))
    vendor_sku: str | None = Field(default=None, sa_column=Column(String(64)))
    lead_time_days: int | None = Field(default=None, sa_column=Column(Integer))
    min_order_quantity: int = Field(sa_column=Column(Integer, nullable=False))
    case_pack: int = Field(sa_column=Column(Integer, nullable=False))
    unit_cost: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    is_bundle: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class StockRecord(SQLModel, table=True):
    """A SKU's units at a node as allocation last published them (AvailabilityChanged)."""

    __tablename__ = "supply_stock"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    on_hand: int = Field(sa_column=Column(Integer, nullable=False))
    reserved: int = Field(sa_column=Column(Integer, nullable=False))
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class DemandDayRecord(SQLModel, table=True):
    """Units of a SKU shipped from a node on a day, and units returned there sellable (restocked) that day."""

    __tablename__ = "supply_demand_days"
    __table_args__ = (Index("ix_supply_demand_days_node", "node", "day"),)

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    # bigint: a day's units are summed from many events, each up to an integer column's limit
    shipped: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    restocked: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class PurchaseOrderRecord(SQLModel, table=True):
    __tablename__ = "supply_purchase_orders"
    __table_args__ = (Index("ix_supply_purchase_orders_status", "status", "updated_at"),
                      Index("ix_supply_purchase_orders_vendor", "vendor_id", "updated_at"))

    po_id: str = Field(sa_column=Column(String(64), primary_key=True))
    vendor_id: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(24), nullable=False))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False), description="The whole purchase order, JSON")


class OnOrderRecord(SQLModel, table=True):
    """Per purchase order line: the units still to come (0 once the order is closed or cancelled)."""

    __tablename__ = "supply_on_order"
    __table_args__ = (Index("ix_supply_on_order_sku_node", "sku", "node"),)

    po_id: str = Field(sa_column=Column(String(64), primary_key=True))
    line_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    units: int = Field(sa_column=Column(Integer, nullable=False))


class AsnRecord(SQLModel, table=True):
    """Advance ship notice ids, unique across purchase orders (the warehouse's expected receipts are keyed by
    them); the notice itself is part of its order's document."""

    __tablename__ = "supply_asns"

    asn_id: str = Field(sa_column=Column(String(64), primary_key=True))
    po_id: str = Field(sa_column=Column(String(64), nullable=False))
    issued_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


TABLES = [model.__table__ for model in (SkuRecord, StockRecord, DemandDayRecord, PurchaseOrderRecord, OnOrderRecord,
                                        AsnRecord)]
