"""Identity and access (issue 15): who scanned a refused scan and whether its units were booked; who expects a
receipt; short picks beyond the automatic write-off wait for a supervisor; shipments keep their carrier, which
alone may confirm the delivery.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00
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
    op.add_column("expected_receipts", sa.Column("created_by", sa.String(length=128), nullable=True))
    op.add_column("scan_exceptions", sa.Column("scanned_by", sa.String(length=128), nullable=True))
    op.add_column("scan_exceptions", sa.Column("decision", sa.String(length=16), nullable=True))
    # Every exception resolved so far was closed without booking anything.
    op.execute("UPDATE scan_exceptions SET decision = 'resolved' WHERE resolved_at IS NOT NULL")
    op.create_table(
        "short_picks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("reported_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_short_picks_task", "short_picks", ["task_id"], unique=False)
    op.create_table(
        "shipments",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("shipped_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "tracking_number"),
    )


def downgrade() -> None:
    op.drop_table("shipments")
    op.drop_index("ix_short_picks_task", table_name="short_picks")
    op.drop_table("short_picks")
    with op.batch_alter_table("scan_exceptions") as exceptions:  # SQLite drops a column by copying the table
        exceptions.drop_column("decision")
        exceptions.drop_column("scanned_by")
    with op.batch_alter_table("expected_receipts") as receipts:
        receipts.drop_column("created_by")
