"""Supplier KPIs (SKU vendors, vendor claims' latest snapshots) and when an inbox item escalated (issue 18)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 04:10:00
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
    op.create_table(
        "supplier_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=128), nullable=False),
        sa.Column("assigned_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_index("ix_supplier_skus_vendor", "supplier_skus", ["vendor_id"], unique=False)
    op.create_table(
        "supplier_claims",
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("vendor_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("claimed_amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("accepted_amount", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("credited_amount", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("defective_units", sa.BigInteger(), nullable=False),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_index("ix_supplier_claims_vendor", "supplier_claims", ["vendor_id"], unique=False)
    op.add_column("inbox_items", sa.Column("escalated_at", ecomops_common.db.UtcDateTime(timezone=True),
                                           nullable=True))


def downgrade() -> None:
    op.drop_column("inbox_items", "escalated_at")
    op.drop_index("ix_supplier_claims_vendor", table_name="supplier_claims")
    op.drop_table("supplier_claims")
    op.drop_index("ix_supplier_skus_vendor", table_name="supplier_skus")
    op.drop_table("supplier_skus")
