"""Returns recovery (issue 18): finance's unit costs that value write-offs, hazardous SKUs per node, the QA
queue of quarantined units, graded variants, return-to-vendor authorizations, write-offs waiting for a second
supervisor and the audit trail of recovery actions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 04:00:00
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
        "graded_variants",
        sa.Column("variant_sku", sa.String(length=64), nullable=False),
        sa.Column("base_sku", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("list_price", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("defined_by", sa.String(length=128), nullable=False),
        sa.Column("defined_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("variant_sku"),
    )
    op.create_table(
        "hazardous_stock",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("rma_id", sa.String(length=128), nullable=False),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "node"),
    )
    op.create_table(
        "qa_queue",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("rma_id", sa.String(length=128), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolved_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_qa_queue_sku_node", "qa_queue", ["sku", "node", "status", "opened_at"], unique=False)
    op.create_table(
        "recovery_actions",
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("to_location", sa.String(length=64), nullable=True),
        sa.Column("to_sku", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("vendor_id", sa.String(length=128), nullable=True),
        sa.Column("buyer", sa.String(length=200), nullable=True),
        sa.Column("proceeds", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("disposal", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("write_off_id", sa.String(length=36), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("action_id"),
    )
    op.create_index("ix_recovery_actions_reference", "recovery_actions", ["reference"], unique=False)
    op.create_index("ix_recovery_actions_sku_node", "recovery_actions", ["sku", "node", "at"], unique=False)
    op.create_table(
        "warehouse_unit_costs",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "vendor_returns",
        sa.Column("rtv_id", sa.String(length=128), nullable=False),
        sa.Column("vendor_id", sa.String(length=128), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=True),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rtv_id"),
    )
    op.create_table(
        "write_offs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("moves", sa.Text(), nullable=False),
        sa.Column("value", sa.Numeric(precision=28, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_write_offs_status", "write_offs", ["status", "requested_at"], unique=False)

def downgrade() -> None:
    op.drop_index("ix_write_offs_status", table_name="write_offs")
    op.drop_table("write_offs")
    op.drop_table("vendor_returns")
    op.drop_table("warehouse_unit_costs")
    op.drop_index("ix_recovery_actions_sku_node", table_name="recovery_actions")
    op.drop_index("ix_recovery_actions_reference", table_name="recovery_actions")
    op.drop_table("recovery_actions")
    op.drop_index("ix_qa_queue_sku_node", table_name="qa_queue")
    op.drop_table("qa_queue")
    op.drop_table("hazardous_stock")
    op.drop_table("graded_variants")
