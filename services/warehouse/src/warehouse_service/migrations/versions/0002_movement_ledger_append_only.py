"""The movement ledger becomes append-only: the database refuses to change or delete a movement.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 13:05:00
"""

from collections.abc import Sequence

from ecomops_common.migration_steps import drop_append_only, make_append_only

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    make_append_only("movements", "the movement ledger is immutable: record a correcting movement")


def downgrade() -> None:
    drop_append_only("movements")
