"""The money edges of returns (issue 18): liquidation is a sale with its own proceeds, no longer a per-SKU value
(unit_costs and unit_cost_history lose liquidation_value); refunds record how they are paid (method; existing ones
went back to the original payment); channel_fee_rules hold each channel's marketplace fees; store credit has a
balance per customer and currency and its movements.

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
    for table in ("unit_costs", "unit_cost_history"):
        with op.batch_alter_table(table) as batch:  # SQLite rebuilds the table
            batch.drop_column("liquidation_value")
    op.add_column("refunds", sa.Column("method", sa.String(length=40), server_default="original_payment",
                                       nullable=False))
    op.create_table(
        "channel_fee_rules",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("commission_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("refund_reversal_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "store_credit_balances",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "currency"),
    )
    op.create_table(
        "store_credit_movements",
        sa.Column("movement_id", sa.String(length=160), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("rma_id", sa.String(length=64), nullable=True),
        sa.Column("refund_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("movement_id"),
    )
    op.create_index("ix_store_credit_movements_customer", "store_credit_movements", ["customer_id", "at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_store_credit_movements_customer", table_name="store_credit_movements")
    op.drop_table("store_credit_movements")
    op.drop_table("store_credit_balances")
    op.drop_table("channel_fee_rules")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("method")
    with op.batch_alter_table("unit_cost_history") as batch:
        batch.add_column(sa.Column("liquidation_value", sa.Numeric(precision=17, scale=4), server_default="0",
                                   nullable=False))
    with op.batch_alter_table("unit_costs") as batch:
        batch.add_column(sa.Column("liquidation_value", sa.Numeric(precision=17, scale=4), server_default="0",
                                   nullable=False))
