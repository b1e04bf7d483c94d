"""Graded variants: the channels that may sell each (issue 18).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 04:00:00.000000
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
    op.create_table(
        "order_graded_variants",
        sa.Column("variant_sku", sa.String(length=64), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("defined_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("variant_sku"),
    )


def downgrade() -> None:
    op.drop_table("order_graded_variants")
