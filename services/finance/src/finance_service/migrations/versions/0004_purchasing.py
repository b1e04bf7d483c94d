"""Purchasing (issue 19): the SKU master's revision and unit cost per SKU (finance_catalog_skus), goods receipts
(finance_goods_receipts), goods received not invoiced per purchase order, SKU and currency (finance_grni_balances)
and vendor invoices (finance_vendor_invoices).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "finance_catalog_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("changed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "finance_goods_receipts",
        sa.Column("receipt_id", sa.String(length=160), nullable=False),
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("asn_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("received_by", sa.Text(), nullable=False),
        sa.Column("received_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id"),
    )
    op.create_index("ix_finance_goods_receipts_po", "finance_goods_receipts", ["po_id", "sku"], unique=False)
    op.create_table(
        "finance_grni_balances",
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_quantity", sa.BigInteger(), nullable=False),
        sa.Column("received_value", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("invoiced_quantity", sa.BigInteger(), nullable=False),
        sa.Column("invoiced_value", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("billed_value", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.PrimaryKeyConstraint("po_id", "sku", "currency"),
    )
    op.create_table(
        "finance_vendor_invoices",
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id"),
    )
    op.create_index("ix_finance_vendor_invoices_po", "finance_vendor_invoices", ["po_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_finance_vendor_invoices_po", table_name="finance_vendor_invoices")
    op.drop_table("finance_vendor_invoices")
    op.drop_table("finance_grni_balances")
    op.drop_index("ix_finance_goods_receipts_po", table_name="finance_goods_receipts")
    op.drop_table("finance_goods_receipts")
    op.drop_table("finance_catalog_skus")
