"""The SKU master as intake needs it, channels' unknown-SKU rules, orders awaiting SKUs, backorder promises
(issue 19).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 07:00:00.000000
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
        "order_catalog_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("final_sale", sa.Boolean(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("changed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "order_catalog_components",
        sa.Column("bundle_sku", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("component_sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bundle_sku", "position"),
    )
    op.create_table(
        "order_awaited_skus",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "sku"),
    )
    op.create_index("ix_order_awaited_skus_sku", "order_awaited_skus", ["sku"], unique=False)
    op.create_table(
        "order_unknown_sku_rules",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.add_column("order_line_allocations", sa.Column("promised_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_line_allocations") as batch:  # SQLite rebuilds the table
        batch.drop_column("promised_date")
    op.drop_table("order_unknown_sku_rules")
    op.drop_index("ix_order_awaited_skus_sku", table_name="order_awaited_skus")
    op.drop_table("order_awaited_skus")
    op.drop_table("order_catalog_components")
    op.drop_table("order_catalog_skus")
