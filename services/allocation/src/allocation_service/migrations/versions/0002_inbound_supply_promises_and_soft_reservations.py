"""Inbound supply, backorder promise dates and soft reservations (issue 19).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stock_positions", sa.Column(
        "soft_reserved", sa.Integer(), sa.CheckConstraint("soft_reserved >= 0", name="ck_soft_reserved"),
        nullable=False, server_default="0"))
    op.create_table(
        "allocation_backorder_promises",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_id"),
    )
    op.create_table(
        "allocation_inbound_supply",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=False),
        sa.Column("ordered", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "line_id"),
    )
    op.create_index("ix_allocation_inbound_supply_sku", "allocation_inbound_supply", ["sku"], unique=False)
    op.create_table(
        "allocation_supply_sources",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("changed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "allocation_soft_reservations",
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=128), nullable=True),
        sa.Column("ended_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("reservation_id"),
    )
    op.create_index("ix_allocation_soft_reservations_status_expires_at", "allocation_soft_reservations",
                    ["status", "expires_at"], unique=False)
    op.create_table(
        "allocation_soft_holds",
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name="ck_allocation_soft_hold_qty"),
        sa.PrimaryKeyConstraint("reservation_id", "sku", "node"),
    )


def downgrade() -> None:
    op.drop_table("allocation_soft_holds")
    op.drop_index("ix_allocation_soft_reservations_status_expires_at", table_name="allocation_soft_reservations")
    op.drop_table("allocation_soft_reservations")
    op.drop_table("allocation_supply_sources")
    op.drop_index("ix_allocation_inbound_supply_sku", table_name="allocation_inbound_supply")
    op.drop_table("allocation_inbound_supply")
    op.drop_table("allocation_backorder_promises")
    with op.batch_alter_table("stock_positions") as batch:
        batch.drop_column("soft_reserved")
