"""Two-step corrections and checked refunds (issue 15): approval_requests records who asked for a refund retry, a
manual settlement or a journal reversal and who approved or denied it; refunds.hold_reason says why an approved
refund is held or refused (existing refunds passed no check and keep their status).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00
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
    op.add_column("refunds", sa.Column("hold_reason", sa.Text(), nullable=True))
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_requests_status", "approval_requests", ["status", "requested_at"], unique=False)
    op.create_index("uq_approval_requests_open", "approval_requests", ["target"], unique=True,
                    postgresql_where=sa.text("status = 'requested'"), sqlite_where=sa.text("status = 'requested'"))


def downgrade() -> None:
    op.drop_index("uq_approval_requests_open", table_name="approval_requests")
    op.drop_index("ix_approval_requests_status", table_name="approval_requests")
    op.drop_table("approval_requests")
    with op.batch_alter_table("refunds") as batch:  # SQLite rebuilds the table
        batch.drop_column("hold_reason")
