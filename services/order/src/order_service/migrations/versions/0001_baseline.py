"""Baseline: the schema as `create_all` made it before migrations existed (issue 13).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 12:29:54.053580
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
    create_messaging_tables_v1()
    op.create_table(
        "order_allocation_revisions",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "order_fulfilment_stages",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "order_holds",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "reason"),
    )
    op.create_table(
        "order_line_allocations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_line_allocations_order", "order_line_allocations", ["order_id", "id"], unique=False)
    op.create_table(
        "order_return_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("rma_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("lines", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_return_steps_order", "order_return_steps", ["order_id", "id"], unique=False)
    op.create_table(
        "order_transitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_order_transitions_order", "order_transitions", ["order_id", "id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("external_order_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("placed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("rejections", sa.Text(), nullable=True),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_order_id", name="uq_orders_channel_external_id"),
    )
    op.create_index("ix_orders_channel_status_id", "orders", ["channel", "status", "id"], unique=False)
    op.create_index("ix_orders_status_id", "orders", ["status", "id"], unique=False)


def downgrade() -> None:
    drop_messaging_tables_v1()
    op.drop_index("ix_orders_status_id", table_name="orders")
    op.drop_index("ix_orders_channel_status_id", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_order_transitions_order", table_name="order_transitions")
    op.drop_table("order_transitions")
    op.drop_index("ix_order_return_steps_order", table_name="order_return_steps")
    op.drop_table("order_return_steps")
    op.drop_index("ix_order_line_allocations_order", table_name="order_line_allocations")
    op.drop_table("order_line_allocations")
    op.drop_table("order_holds")
    op.drop_table("order_fulfilment_stages")
    op.drop_table("order_allocation_revisions")
