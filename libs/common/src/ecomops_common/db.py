"""Async database access: one engine per service, PostgreSQL or (embedded default) SQLite."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ecomops_common import metrics


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        if url.startswith("postgresql"):
            self.engine: AsyncEngine = create_async_engine(
                # No pre-ping: it costs three round trips per checkout on the hot path; a dead connection
                # fails its transaction as a transient error, which callers retry (consumers) or answer 503.
                # Bound parameters (customers' names, emails, addresses) never reach logs or dead-letter headers
                # through an error's text.
                url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True
            )
            count_round_trips(self.engine)
        else:
            ensure_sqlite_directory(url)
            self.engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def count_round_trips(engine: AsyncEngine) -> None:
    """Statements and transactions into ecomops_db_statements_total / ecomops_db_transactions_total."""
    statements = metrics.DB_STATEMENTS
    committed = metrics.DB_TRANSACTIONS.labels(outcome="commit")
    rolled_back = metrics.DB_TRANSACTIONS.labels(outcome="rollback")  # also a read-only transaction's end
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: statements.inc())
    event.listen(engine.sync_engine, "commit", lambda _connection: committed.inc())
    event.listen(engine.sync_engine, "rollback", lambda _connection: rolled_back.inc())


def dialect_of(session: AsyncSession):
    """The dialect module whose insert() has on_conflict_* (upserts): postgresql, or sqlite (embedded mode)."""
    return postgresql if session.bind.dialect.name == "postgresql" else sqlite


class SqlRepository:
    """Base of a service's repository: the unit of work's session, and the dialect for upserts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = dialect_of(session)


def ensure_sqlite_directory(url: str) -> None:
    """SQLite makes the file, not the directories above it."""
    database_file = url.split("///", 1)[-1]
    if url.startswith("sqlite") and database_file and database_file != ":memory:":
        Path(database_file).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite would hand them back naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
