"""Baseline: the schema as `create_all` made it before migrations existed (issue 13).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 12:30:40.465811
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db
from ecomops_common.migration_steps import (
    create_messaging_tables_v1,
    drop_append_only,
    drop_messaging_tables_v1,
    make_append_only,
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=160), nullable=False),
        sa.Column("occurred_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("posted_by", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reverses", sa.String(length=200), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("rma_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "source_id", name="uq_journal_entries_source"),
    )
    op.create_index("ix_journal_entries_occurred", "journal_entries", ["occurred_at"], unique=False)
    op.create_table(
        "parked_facts",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("waiting_for", sa.String(length=200), nullable=False),
        sa.Column("parked_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_parked_facts_waiting", "parked_facts", ["waiting_for"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("rma_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("timing", sa.String(length=32), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("approved_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("provider_reference", sa.String(length=128), nullable=True),
        sa.Column("issued_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("duplicate_requests", sa.Integer(), nullable=False),
        sa.Column("breakdown", sa.Text(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("refund_id"),
    )
    op.create_index("ix_refunds_queue", "refunds", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_refunds_rma", "refunds", ["rma_id"], unique=False)
    op.create_table(
        "return_cases",
        sa.Column("rma_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=False),
        sa.Column("authorized_units", sa.Integer(), nullable=False),
        sa.Column("authorized_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("received_units", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_received_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_inspected_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("conditions", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("rma_id"),
    )
    op.create_index("ix_return_cases_order", "return_cases", ["order_id"], unique=False)
    op.create_table(
        "sale_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "unit_cost_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("liquidation_value", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_unit_cost_history_sku"), "unit_cost_history", ["sku"], unique=False)
    op.create_table(
        "unit_costs",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("liquidation_value", sa.Numeric(precision=17, scale=4), server_default="0", nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "journal_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=8), nullable=False),
        sa.Column("debit", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("credit", sa.Numeric(precision=17, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("rma_id", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("memo", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_journal_lines_account", "journal_lines", ["account"], unique=False)
    op.create_index("ix_journal_lines_entry", "journal_lines", ["entry_id"], unique=False)
    op.create_index("ix_journal_lines_rma", "journal_lines", ["rma_id"], unique=False)
    for table in ("journal_entries", "journal_lines"):
        make_append_only(table, "journal entries are immutable: post a reversing entry")


def downgrade() -> None:
    for table in ("journal_entries", "journal_lines"):
        drop_append_only(table)
    op.drop_index("ix_journal_lines_rma", table_name="journal_lines")
    op.drop_index("ix_journal_lines_entry", table_name="journal_lines")
    op.drop_index("ix_journal_lines_account", table_name="journal_lines")
    op.drop_table("journal_lines")
    op.drop_table("unit_costs")
    op.drop_index(op.f("ix_unit_cost_history_sku"), table_name="unit_cost_history")
    op.drop_table("unit_cost_history")
    op.drop_table("sale_orders")
    op.drop_index("ix_return_cases_order", table_name="return_cases")
    op.drop_table("return_cases")
    op.drop_index("ix_refunds_rma", table_name="refunds")
    op.drop_index("ix_refunds_queue", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_parked_facts_waiting", table_name="parked_facts")
    op.drop_table("parked_facts")
    drop_messaging_tables_v1()
    op.drop_index("ix_journal_entries_occurred", table_name="journal_entries")
    op.drop_table("journal_entries")
