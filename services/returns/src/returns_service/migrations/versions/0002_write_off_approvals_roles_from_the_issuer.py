"""Write-offs above a value wait for a supervisor (their own queue); the staff table goes: who may approve is the
issuer's roles claim, not a second, weaker source of roles in this service (issue 15).

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
    op.add_column("rmas", sa.Column("waiting_write_off", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_rmas_waiting_write_off", "rmas", ["waiting_write_off", "updated_at"], unique=False)
    op.drop_table("staff")


def downgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor"),
    )
    op.drop_index("ix_rmas_waiting_write_off", table_name="rmas")
    with op.batch_alter_table("rmas") as rmas:  # SQLite drops a column by copying the table
        rmas.drop_column("waiting_write_off")
