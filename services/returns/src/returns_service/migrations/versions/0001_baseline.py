"""Baseline: the schema as `create_all` made it before migrations existed (issue 13).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 12:30:27.433105
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
        "return_requests",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("rma_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "request_id"),
    )
    op.create_table(
        "return_rules",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "rma_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("rma_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rma_audit_rma", "rma_audit", ["rma_id", "id"], unique=False)
    op.create_table(
        "rmas",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("waiting_approval", sa.Boolean(), nullable=False),
        sa.Column("authorized_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expected_by", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rmas_customer", "rmas", ["customer_id", "authorized_at"], unique=False)
    op.create_index("ix_rmas_order", "rmas", ["order_id"], unique=False)
    op.create_index("ix_rmas_status", "rmas", ["status", "authorized_at"], unique=False)
    op.create_index("ix_rmas_waiting_approval", "rmas", ["waiting_approval", "updated_at"], unique=False)
    op.create_table(
        "sales_order_lines",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("final_sale", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("shipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("serials", sa.Text(), server_default="", nullable=False),
        sa.Column("requested", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_id"),
    )
    op.create_table(
        "sales_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("external_order_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("shipping_fee", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("goods", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("placed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_sales_orders_channel_external", "sales_orders", ["channel", "external_order_id"], unique=False)
    op.create_table(
        "staff",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor"),
    )


def downgrade() -> None:
    op.drop_table("staff")
    op.drop_index("ix_sales_orders_channel_external", table_name="sales_orders")
    op.drop_table("sales_orders")
    op.drop_table("sales_order_lines")
    op.drop_index("ix_rmas_waiting_approval", table_name="rmas")
    op.drop_index("ix_rmas_status", table_name="rmas")
    op.drop_index("ix_rmas_order", table_name="rmas")
    op.drop_index("ix_rmas_customer", table_name="rmas")
    op.drop_table("rmas")
    op.drop_index("ix_rma_audit_rma", table_name="rma_audit")
    op.drop_table("rma_audit")
    op.drop_table("return_rules")
    op.drop_table("return_requests")
    drop_messaging_tables_v1()
