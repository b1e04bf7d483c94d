"""Baseline: the schema as `create_all` made it before migrations existed (issue 13).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 12:30:15.899919
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
        "count_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_count_tasks_node_status", "count_tasks", ["node", "status"], unique=False)
    op.create_table(
        "count_variances",
        sa.Column("scan_id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("expiry", sa.String(length=10), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("counted_by", sa.String(length=128), nullable=False),
        sa.Column("counted_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scan_id"),
    )
    op.create_table(
        "expected_receipts",
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("received", sa.Text(), nullable=False),
        sa.Column("damaged", sa.Text(), nullable=False),
        sa.Column("transfer_from", sa.String(length=64), nullable=True),
        sa.Column("is_return", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference"),
    )
    create_messaging_tables_v1()
    op.create_table(
        "locations",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("node", "code"),
    )
    op.create_table(
        "movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("from_node", sa.String(length=64), nullable=True),
        sa.Column("from_location", sa.String(length=64), nullable=True),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("from_lot", sa.String(length=64), nullable=True),
        sa.Column("from_serial", sa.String(length=128), nullable=True),
        sa.Column("from_expiry", sa.String(length=10), nullable=True),
        sa.Column("to_node", sa.String(length=64), nullable=True),
        sa.Column("to_location", sa.String(length=64), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("to_lot", sa.String(length=64), nullable=True),
        sa.Column("to_serial", sa.String(length=128), nullable=True),
        sa.Column("to_expiry", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("scan_id", sa.String(length=128), nullable=True),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_movements_sku_id", "movements", ["sku", "id"], unique=False)
    op.create_table(
        "pick_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False),
        sa.Column("packed", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suggested_bin", sa.String(length=64), nullable=True),
        sa.Column("wave_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "line_id", "node", name="uq_pick_tasks_order_line_node"),
    )
    op.create_index("ix_pick_tasks_node_status", "pick_tasks", ["node", "status", "created_at"], unique=False)
    op.create_table(
        "scan_exceptions",
        sa.Column("scan_id", sa.String(length=128), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("scan", sa.Text(), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scan_id"),
    )
    op.create_index("ix_scan_exceptions_open", "scan_exceptions", ["resolved_at", "created_at"], unique=False)
    op.create_table(
        "stock_balances",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("expiry", sa.String(length=10), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("units > 0", name="ck_stock_balances_units"),
        sa.PrimaryKeyConstraint("sku", "node", "location", "status", "lot", "serial", "expiry"),
    )
    op.create_table(
        "stock_levels",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sellable", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sellable >= 0", name="ck_stock_levels_sellable"),
        sa.PrimaryKeyConstraint("sku", "node"),
    )
    op.create_table(
        "warehouse_orders",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("backordered", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "waves",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("service_level", sa.String(length=16), nullable=False),
        sa.Column("cutoff", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.Column("released_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_waves_planned_key", "waves", ["node", "service_level", "cutoff", "status"], unique=False)
    op.create_index("ix_waves_status_cutoff", "waves", ["status", "cutoff"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_waves_status_cutoff", table_name="waves")
    op.drop_index("ix_waves_planned_key", table_name="waves")
    op.drop_table("waves")
    op.drop_table("warehouse_orders")
    op.drop_table("stock_levels")
    op.drop_table("stock_balances")
    op.drop_index("ix_scan_exceptions_open", table_name="scan_exceptions")
    op.drop_table("scan_exceptions")
    op.drop_index("ix_pick_tasks_node_status", table_name="pick_tasks")
    op.drop_table("pick_tasks")
    drop_messaging_tables_v1()
    op.drop_index("ix_movements_sku_id", table_name="movements")
    op.drop_table("movements")
    op.drop_table("locations")
    op.drop_table("expected_receipts")
    op.drop_table("count_variances")
    op.drop_index("ix_count_tasks_node_status", table_name="count_tasks")
    op.drop_table("count_tasks")
