"""Steps that revisions of every service share. Each is frozen once a revision calls it: a later change to the
shared tables is a new step (…_v2) that new revisions call, so replaying an old revision always does the same."""

import sqlalchemy as sa
from alembic import op

import ecomops_common.db


def create_messaging_tables_v1() -> None:
    """The inbox, the outbox and its parked rows (ecomops_common.inbox and .outbox) as of the baselines."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("aggregatetype", sa.String(length=64), nullable=False),
        sa.Column("aggregateid", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("id"),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["position"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_pending_aggregate",
        "outbox",
        ["aggregateid", "position"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"], unique=False)
    op.create_table(
        "outbox_parked",
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("id", sa.String(length=36), autoincrement=False, nullable=False),
        sa.Column("aggregatetype", sa.String(length=64), autoincrement=False, nullable=False),
        sa.Column("aggregateid", sa.String(length=128), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=128), autoincrement=False, nullable=False),
        sa.Column("topic", sa.String(length=255), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("headers", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), autoincrement=False, nullable=False),
        sa.Column("parked_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
    )


def drop_messaging_tables_v1() -> None:
    op.drop_table("outbox_parked")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.drop_index(
        "ix_outbox_pending_aggregate",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.drop_index(
        "ix_outbox_pending",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_index("ix_inbox_processed_at", table_name="inbox")
    op.drop_table("inbox")


def make_append_only(table: str, message: str) -> None:
    """In a revision's upgrade(): the database refuses to change or delete `table`'s rows, for every role.

    (The runtime role has no UPDATE or DELETE on such tables anyway; the trigger also binds the owner, and only
    the owner could disable it.)"""
    if op.get_bind().dialect.name == "postgresql":
        function = f"{table}_is_append_only"
        op.execute(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def drop_append_only(table: str) -> None:
    """In a revision's downgrade(): undoes make_append_only."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_is_append_only()")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
