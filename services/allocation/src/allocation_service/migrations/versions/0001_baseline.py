"""Baseline: the schema as `create_all` made it before migrations existed (issue 13).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 12:30:05.525648
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db
from ecomops_common.migration_steps import create_messaging_tables_v1, drop_messaging_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation_exceptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("shortfall", sa.Integer(), nullable=False),
        sa.Column("affected_order_ids", sa.Text(), nullable=False),
        sa.Column("raised_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_allocation_exceptions_raised_at", "allocation_exceptions", ["raised_at"], unique=False)
    op.create_table(
        "backorders",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name="ck_backorder_qty"),
        sa.PrimaryKeyConstraint("order_id", "line_id"),
    )
    op.create_index("ix_backorders_sku", "backorders", ["sku"], unique=False)
    op.create_table(
        "channel_rules",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "fulfilments",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_id", "node"),
    )
    create_messaging_tables_v1()
    op.create_table(
        "order_demands",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("demand", sa.Text(), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "releases_before_placement",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("released_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "reservations",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name="ck_reservation_qty"),
        sa.PrimaryKeyConstraint("order_id", "line_id", "node"),
    )
    op.create_index("ix_reservations_sku_node", "reservations", ["sku", "node"], unique=False)
    op.create_table(
        "stock_positions",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("level_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0 AND reserved >= 0 AND safety_stock >= 0", name="ck_stock_counts"),
        sa.CheckConstraint("reserved <= on_hand", name="ck_reserved_backed_by_stock"),
        sa.PrimaryKeyConstraint("sku", "node"),
    )


def downgrade() -> None:
    op.drop_table("stock_positions")
    op.drop_index("ix_reservations_sku_node", table_name="reservations")
    op.drop_table("reservations")
    op.drop_table("releases_before_placement")
    drop_messaging_tables_v1()
    op.drop_table("order_demands")
    op.drop_table("fulfilments")
    op.drop_table("channel_rules")
    op.drop_index("ix_backorders_sku", table_name="backorders")
    op.drop_table("backorders")
    op.drop_index("ix_allocation_exceptions_raised_at", table_name="allocation_exceptions")
    op.drop_table("allocation_exceptions")
