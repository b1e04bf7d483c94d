"""Outbound parcels delivered, for promised-versus-actual delivery per carrier and service (issue 19)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:00:00
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
        "control_deliveries",
        sa.Column("tracking_number", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=128), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("delivered_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tracking_number"),
    )
    op.create_index("ix_control_deliveries_delivered", "control_deliveries", ["delivered_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_control_deliveries_delivered", table_name="control_deliveries")
    op.drop_table("control_deliveries")
