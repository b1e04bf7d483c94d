"""The catalog service's tables. A SKU is stored whole as its last SkuChanged (the JSON published) beside the
columns it is listed and found by; its barcodes and a bundle's components have tables of their own, so the rules
between SKUs are checked by lookups, and every revision is kept in catalog_sku_revisions, which is never
updated."""

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime


class SkuRecord(SQLModel, table=True):
    __tablename__ = "catalog_skus"
    __table_args__ = (Index("ix_catalog_skus_category", "category", "sku"),
                      Index("ix_catalog_skus_vendor", "vendor_id", "sku"),
                      Index("ix_catalog_skus_status", "status", "sku"))

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    category: str | None = Field(default=None, sa_column=Column(String(64)))
    vendor_id: str | None = Field(default=None, sa_column=Column(String(64)))
    bundle: bool = Field(sa_column=Column(Boolean, nullable=False))
    changed_by: str = Field(sa_column=Column(String(128), nullable=False))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False), description="The SkuChanged of this revision")


class BarcodeRecord(SQLModel, table=True):
    """The primary key keeps a barcode to one SKU, whatever the service's checks miss."""

    __tablename__ = "catalog_barcodes"
    __table_args__ = (Index("ix_catalog_barcodes_sku", "sku"),)

    code: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))


class BundleComponentRecord(SQLModel, table=True):
    __tablename__ = "catalog_bundle_components"
    __table_args__ = (Index("ix_catalog_bundle_components_component", "component_sku"),)

    bundle_sku: str = Field(sa_column=Column(String(64), primary_key=True))
    component_sku: str = Field(sa_column=Column(String(64), primary_key=True))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))


class SkuRevisionRecord(SQLModel, table=True):
    """Append-only: every revision of every SKU, who made it and when (the audit of the SKU master)."""

    __tablename__ = "catalog_sku_revisions"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, primary_key=True))
    changed_by: str = Field(sa_column=Column(String(128), nullable=False))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False))


TABLES = [model.__table__ for model in (SkuRecord, BarcodeRecord, BundleComponentRecord, SkuRevisionRecord)]
