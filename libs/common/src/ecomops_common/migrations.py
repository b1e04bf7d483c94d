"""Versioned schema migrations (Alembic), one history per service in its own package.

Migrations run as their own step (`ecomops-migrate upgrade --service order`, a compose job, a Helm hook) with
the migration role, which owns the schema. The service runs as the runtime role named in its DATABASE_URL:
the step grants that role reading and writing rows and nothing else (no DDL, no TRUNCATE, and on append-only
tables no UPDATE or DELETE either; only an owner may disable a trigger). A service no longer creates
tables: it refuses to start on a database behind its migrations (`require_current`).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from ecomops_common.db import ensure_sqlite_directory
from ecomops_common.inbox import ProcessedEvent
from ecomops_common.outbox import OutboxMessage, outbox_parked
from ecomops_common.settings import ServiceSettings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ecomops.migrations"
# Every service's database has the outbox and the inbox besides its own tables.
COMMON_TABLES: tuple[Table, ...] = (OutboxMessage.__table__, outbox_parked, ProcessedEvent.__table__)


class SchemaNotCurrent(RuntimeError):
    """The database is behind the code's migrations (or was never migrated): the service must not start."""


@dataclass(frozen=True)
class ServiceMigrations:
    """What `ecomops-migrate` and the runtime need to know of one service's schema.

    Declared once per service in `<service>_service.migrations` (beside its versions/) and registered under the
    `ecomops.migrations` entry point group, so the migration CLI finds it without importing any service."""

    service: str
    package: str  # holds the revisions in versions/, e.g. "order_service.migrations"
    settings: type[ServiceSettings]
    tables: Sequence[Table]
    append_only: Sequence[str] = field(default=())  # tables whose rows are never changed or deleted

    @property
    def all_tables(self) -> list[Table]:
        return [*self.tables, *COMMON_TABLES]

    def config(self, url: str) -> Config:
        config = Config()
        # One environment (env.py, the revision template) for all; each service's revisions in its own package.
        config.set_main_option("script_location", "ecomops_common:migration_env")
        config.set_main_option("version_locations", str(files(self.package) / "versions"))
        config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        config.set_main_option("path_separator", "os")
        config.attributes["migrations"] = self
        config.attributes["url"] = url
        return config

    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config(""))

    def heads(self) -> set[str]:
        return set(self.script().get_heads())


def services() -> list[str]:
    """The installed services that have migrations (each database is its own: the order does not matter)."""
    return sorted({entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP)})


def for_service(service: str) -> ServiceMigrations:
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == service:
            return entry_point.load()
    raise LookupError(f"no migrations for service {service!r}; known: {', '.join(services())}")


# --- Alembic's env.py of every service is `run_env(MIGRATIONS)` --------------------------------------------

def run_env(migrations: ServiceMigrations) -> None:
    from alembic import context

    url = context.config.attributes.get("url") or migrations.settings().migration_database_url
    own = {table.name for table in migrations.all_tables}

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        # One SQLModel metadata holds every service imported in this process: compare only this service's.
        return type_ != "table" or name in own

    def configure() -> dict:
        return dict(target_metadata=SQLModel.metadata, include_object=include_object, compare_type=True,
                    render_as_batch=url.startswith("sqlite"))  # SQLite alters tables by copying them

    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **configure())
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **configure())
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as async_connection:
                await async_connection.run_sync(run)
                await async_connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_async())


# --- the runtime side --------------------------------------------------------------------------------------

def _current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def database_revisions(url: str) -> set[str]:
    ensure_sqlite_directory(url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revisions)
    finally:
        await engine.dispose()


def schema_problem(migrations: ServiceMigrations, current: set[str]) -> str | None:
    """None when the service may run on a database at `current`; else why not, naming the fix.

    A database ahead of the code (a revision this code does not know) is fine: during a rolling upgrade the
    new release's migrations run before its pods replace the old ones, which keep serving meanwhile."""
    script = migrations.script()
    heads = set(script.get_heads())
    if current == heads:
        return None
    fix = f"run `ecomops-migrate upgrade --service {migrations.service}` first"
    if not current:
        return f"the {migrations.service} database has no schema (never migrated): {fix}"
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:
        return None
    return (f"the {migrations.service} database is at revision {', '.join(sorted(current))}, this code needs "
            f"{', '.join(sorted(heads))}: {fix}")


async def require_current(migrations: ServiceMigrations, url: str) -> None:
    current = await database_revisions(url)
    if problem := schema_problem(migrations, current):
        raise SchemaNotCurrent(problem)
    if current != migrations.heads():
        log.warning("%s database is ahead of this code (%s): a newer release is rolling out",
                    migrations.service, ", ".join(sorted(current)))


# --- the migration step ------------------------------------------------------------------------------------

def upgrade(migrations: ServiceMigrations, migration_url: str, runtime_url: str | None = None,
            revision: str = "head") -> None:
    """Migrates to `revision`, then grants the runtime role (the user of `runtime_url`) what it may do."""
    command.upgrade(migrations.config(migration_url), revision)
    if runtime_url:
        asyncio.run(grant_runtime_privileges(migrations, migration_url, runtime_url))


def runtime_role(migration_url: str, runtime_url: str) -> str | None:
    """The role to grant to, or None when there is nothing to grant (SQLite, or one role for both)."""
    migration, runtime = make_url(migration_url), make_url(runtime_url)
    if not runtime.drivername.startswith("postgresql") or not runtime.username:
        return None
    return None if runtime.username == migration.username else runtime.username


async def grant_runtime_privileges(migrations: ServiceMigrations, migration_url: str, runtime_url: str) -> None:
    role = runtime_role(migration_url, runtime_url)
    if role is None:
        return
    engine = create_async_engine(migration_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            quote = connection.dialect.identifier_preparer.quote
            grantee = quote(role)
            statements = [
                # No one but the owner creates objects in the schema (PostgreSQL < 15 lets PUBLIC).
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                f"GRANT USAGE ON SCHEMA public TO {grantee}",
                # Start from nothing each time, so a privilege granted by hand converges back.
                f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {grantee}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {grantee}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {grantee}",
                # The service reads its revision at start and never writes it.
                f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {grantee}",
                *(f"REVOKE UPDATE, DELETE ON {quote(table)} FROM {grantee}" for table in migrations.append_only),
            ]
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
    log.info("granted %s the runtime privileges on the %s schema", role, migrations.service)

