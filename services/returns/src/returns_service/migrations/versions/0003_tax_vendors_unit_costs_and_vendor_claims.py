"""Refunds give back the order's tax (sales_orders.tax); SKUs' vendors, finance's unit costs and vendor claims
(one draft per vendor) for supplier recovery (issue 18).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sales_orders", sa.Column("tax", sa.Numeric(precision=17, scale=4), nullable=True))
    op.create_table(
        "sku_vendors",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_sku", sa.String(length=64), nullable=True),
        sa.Column("assigned_by", sa.String(length=128), nullable=False),
        sa.Column("assigned_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_index("ix_sku_vendors_vendor", "sku_vendors", ["vendor_id", "sku"], unique=False)
    op.create_table(
        "claim_unit_costs",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "vendor_claims",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vendor_claims_vendor", "vendor_claims", ["vendor_id", "status"], unique=False)
    op.create_index("ux_vendor_claims_draft", "vendor_claims", ["vendor_id"], unique=True,
                    postgresql_where=sa.text("status = 'draft'"), sqlite_where=sa.text("status = 'draft'"))


def downgrade() -> None:
    op.drop_index("ux_vendor_claims_draft", table_name="vendor_claims")
    op.drop_index("ix_vendor_claims_vendor", table_name="vendor_claims")
    op.drop_table("vendor_claims")
    op.drop_table("claim_unit_costs")
    op.drop_index("ix_sku_vendors_vendor", table_name="sku_vendors")
    op.drop_table("sku_vendors")
    with op.batch_alter_table("sales_orders") as sales_orders:  # SQLite drops a column by copying the table
        sales_orders.drop_column("tax")
