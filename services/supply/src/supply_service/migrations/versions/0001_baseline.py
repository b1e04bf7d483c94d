"""Baseline: the supply service's first schema (issue 19): the catalog's purchasing terms, stock and net demand per
SKU×node, purchase orders with their units on order, and advance ship notice ids.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 07:00:00
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
        "supply_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=True),
        sa.Column("vendor_sku", sa.String(length=64), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("min_order_quantity", sa.Integer(), nullable=False),
        sa.Column("case_pack", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("is_bundle", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_index("ix_supply_skus_vendor", "supply_skus", ["vendor_id", "sku"], unique=False)
    op.create_table(
        "supply_stock",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("as_of", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "node"),
    )
    op.create_table(
        "supply_demand_days",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shipped", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("restocked", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("sku", "node", "day"),
    )
    op.create_index("ix_supply_demand_days_node", "supply_demand_days", ["node", "day"], unique=False)
    op.create_table(
        "supply_purchase_orders",
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("po_id"),
    )
    op.create_index("ix_supply_purchase_orders_status", "supply_purchase_orders", ["status", "updated_at"],
                    unique=False)
    op.create_index("ix_supply_purchase_orders_vendor", "supply_purchase_orders", ["vendor_id", "updated_at"],
                    unique=False)
    op.create_table(
        "supply_on_order",
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("po_id", "line_id"),
    )
    op.create_index("ix_supply_on_order_sku_node", "supply_on_order", ["sku", "node"], unique=False)
    op.create_table(
        "supply_asns",
        sa.Column("asn_id", sa.String(length=64), nullable=False),
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asn_id"),
    )


def downgrade() -> None:
    op.drop_table("supply_asns")
    op.drop_index("ix_supply_on_order_sku_node", table_name="supply_on_order")
    op.drop_table("supply_on_order")
    op.drop_index("ix_supply_purchase_orders_vendor", table_name="supply_purchase_orders")
    op.drop_index("ix_supply_purchase_orders_status", table_name="supply_purchase_orders")
    op.drop_table("supply_purchase_orders")
    op.drop_index("ix_supply_demand_days_node", table_name="supply_demand_days")
    op.drop_table("supply_demand_days")
    op.drop_table("supply_stock")
    op.drop_index("ix_supply_skus_vendor", table_name="supply_skus")
    op.drop_table("supply_skus")
    drop_messaging_tables_v1()
