"""Each service's migrations against a real PostgreSQL: they match the models, upgrade a database that has
data in it, adopt one made before migrations existed, and leave the runtime role rows only."""

import asyncio

import asyncpg
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from ecomops_common import migrate_cli
from ecomops_common.migrations import (
    SchemaNotCurrent,
    database_revisions,
    for_service,
    require_current,
    schema_problem,
    services,
    upgrade,
)
from ecomops_common.testing.plugin import TEST_MIGRATION_ROLE, TEST_RUNTIME_ROLE, MigratedTemplates, _role_url

pytestmark = pytest.mark.integration

SERVICES = ("order", "allocation", "warehouse", "returns", "finance", "control", "catalog", "supply", "shipping")


@pytest.fixture
async def owned_database(new_database, postgres_admin_url):
    """An empty database owned by the test migration role: (migration URL, runtime URL, libpq URLs of both)."""

    async def create() -> dict[str, str]:
        name = (await new_database()).rsplit("/", 1)[1]
        admin = await asyncpg.connect(postgres_admin_url)
        try:
            for statement in MigratedTemplates._role_statements():
                await admin.execute(statement)
            await admin.execute(f'ALTER DATABASE "{name}" OWNER TO {TEST_MIGRATION_ROLE}')
        finally:
            await admin.close()
        urls = {"migration": _role_url(postgres_admin_url, TEST_MIGRATION_ROLE, name),
                "runtime": _role_url(postgres_admin_url, TEST_RUNTIME_ROLE, name)}
        return {**urls, **{f"{role}_dsn": url.replace("+asyncpg", "") for role, url in urls.items()}}

    return create


def test_every_service_registers_its_migrations():
    assert services() == sorted(SERVICES)
    assert all(for_service(service).heads() for service in SERVICES)


@pytest.mark.parametrize("service", SERVICES)
async def test_models_and_migrations_agree_on_postgresql_and_sqlite(service, owned_database, tmp_path, capsys):
    """The autogenerate check CI runs: a model change without a revision fails here."""
    migrations = for_service(service)
    database = await owned_database()
    for url in (database["migration"], f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"):
        await asyncio.to_thread(upgrade, migrations, url)
        await asyncio.to_thread(command.check, migrations.config(url))


async def test_the_check_fails_when_a_model_has_no_migration(owned_database, monkeypatch, capsys):
    database = await owned_database()
    monkeypatch.setenv("ORDER_MIGRATION_DATABASE_URL", database["migration"])
    monkeypatch.setenv("ORDER_DATABASE_URL", database["runtime"])
    assert await asyncio.to_thread(migrate_cli.main, ["upgrade", "--service", "order"]) == 0
    table = SQLModel.metadata.tables["orders"]
    column = table.c.channel.copy()
    column.name = column.key = "new_column_without_a_revision"
    table.append_column(column)
    try:
        assert await asyncio.to_thread(migrate_cli.main, ["check", "--service", "order"]) == 1
    finally:
        table._columns.remove(column)
    assert "new_column_without_a_revision" in capsys.readouterr().err
    assert await asyncio.to_thread(migrate_cli.main, ["check", "--service", "order"]) == 0


async def test_warehouse_upgrades_from_the_baseline_with_data_in_it(owned_database):
    migrations = for_service("warehouse")
    database = await owned_database()
    await asyncio.to_thread(upgrade, migrations, database["migration"], database["runtime"], "0001")
    with pytest.raises(SchemaNotCurrent, match="at revision 0001.*ecomops-migrate upgrade --service warehouse"):
        await require_current(migrations, database["runtime"])
    owner = await asyncpg.connect(database["migration_dsn"])
    try:
        await owner.execute("INSERT INTO movements (sku, quantity, to_node, to_location, to_status, reason, actor, at)"
                            " VALUES ('SKU-1', 5, 'DC1', 'A-01', 'sellable', 'receipt', 'test', now())")
        await owner.execute("INSERT INTO stock_levels (sku, node, sellable, version, updated_at)"
                            " VALUES ('SKU-1', 'DC1', 5, 1, now())")
        await owner.execute("UPDATE movements SET quantity = 6")  # the baseline ledger was not protected yet

        await asyncio.to_thread(upgrade, migrations, database["migration"], database["runtime"])

        await require_current(migrations, database["runtime"])
        assert await owner.fetch("SELECT sku, quantity FROM movements") == [("SKU-1", 6)]
        assert await owner.fetchval("SELECT sellable FROM stock_levels WHERE sku = 'SKU-1'") == 5
        # Head: the ledger refuses changes even from the owner.
        with pytest.raises(asyncpg.RaiseError, match="movement ledger is immutable"):
            await owner.execute("UPDATE movements SET quantity = 7")
        with pytest.raises(asyncpg.RaiseError, match="movement ledger is immutable"):
            await owner.execute("DELETE FROM movements")
    finally:
        await owner.close()


async def test_a_database_made_before_migrations_is_adopted_at_the_baseline(owned_database, monkeypatch):
    """What `create_all` made at every start until now: stamped at 0001, then upgraded, data kept."""
    migrations = for_service("warehouse")
    database = await owned_database()
    (baseline,) = migrations.script().get_bases()
    await asyncio.to_thread(upgrade, migrations, database["migration"], None, baseline)  # the baseline's tables
    engine = create_async_engine(database["migration"], poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE alembic_version")  # without a migration history
        await connection.exec_driver_sql("INSERT INTO locations (node, code, kind) VALUES ('DC1', 'A-01', 'pick')")
    await engine.dispose()
    monkeypatch.setenv("WAREHOUSE_MIGRATION_DATABASE_URL", database["migration"])
    monkeypatch.setenv("WAREHOUSE_DATABASE_URL", database["runtime"])
    assert await asyncio.to_thread(migrate_cli.main, ["upgrade", "--service", "warehouse"]) == 0
    await require_current(migrations, database["runtime"])
    runtime = await asyncpg.connect(database["runtime_dsn"])
    try:
        assert await runtime.fetchval("SELECT count(*) FROM locations") == 1
    finally:
        await runtime.close()


async def test_a_database_ahead_of_the_code_serves_during_a_rolling_upgrade(owned_database):
    migrations = for_service("order")
    database = await owned_database()
    await asyncio.to_thread(upgrade, migrations, database["migration"], database["runtime"])
    owner = await asyncpg.connect(database["migration_dsn"])
    try:
        await owner.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    finally:
        await owner.close()
    assert await database_revisions(database["runtime"]) == {"f00dfeed"}
    assert schema_problem(migrations, {"f00dfeed"}) is None
    await require_current(migrations, database["runtime"])  # no SchemaNotCurrent


LEDGER_ROWS = {
    "journal_entries": "INSERT INTO journal_entries (kind, source_id, occurred_at, posted_at, posted_by, description)"
                       " VALUES ('manual', 's-1', now(), now(), 'test', 'a test entry')",
    "movements": "INSERT INTO movements (sku, quantity, to_node, to_location, to_status, reason, actor, at)"
                 " VALUES ('SKU-1', 5, 'DC1', 'A-01', 'sellable', 'receipt', 'test', now())",
}


@pytest.mark.parametrize(("service", "append_only", "message"), [
    ("finance", "journal_entries", "journal entries are immutable"),
    ("warehouse", "movements", "movement ledger is immutable")])
async def test_the_runtime_role_reads_and_writes_rows_and_nothing_more(service, append_only, message, owned_database):
    database = await owned_database()
    await asyncio.to_thread(upgrade, for_service(service), database["migration"], database["runtime"])
    runtime = await asyncpg.connect(database["runtime_dsn"])
    owner = await asyncpg.connect(database["migration_dsn"])
    try:
        assert await runtime.fetchval("SELECT count(*) FROM outbox") == 0
        await runtime.execute("INSERT INTO inbox (consumer, event_id, processed_at) VALUES ('c', 'e', now())")
        await runtime.execute("DELETE FROM inbox")
        await runtime.execute(LEDGER_ROWS[append_only])
        refused = [
            "CREATE TABLE sneaky (id int)",
            "ALTER TABLE outbox ADD COLUMN sneaky int",
            "DROP TABLE outbox",
            "TRUNCATE inbox",
            f"ALTER TABLE {append_only} DISABLE TRIGGER ALL",
            f"UPDATE {append_only} SET id = id",
            f"DELETE FROM {append_only}",
            "UPDATE alembic_version SET version_num = 'x'",
        ]
        for statement in refused:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await runtime.execute(statement)
        # The owner has the privileges, and the trigger still refuses.
        for statement in (f"UPDATE {append_only} SET id = id", f"DELETE FROM {append_only}"):
            with pytest.raises(asyncpg.RaiseError, match=message):
                await owner.execute(statement)
        assert await owner.fetchval(f"SELECT count(*) FROM {append_only}") == 1
    finally:
        await runtime.close()
        await owner.close()


async def test_grants_converge_when_the_migrations_run_again(owned_database):
    """A privilege granted by hand is taken back by the next migration run (idempotent reruns)."""
    migrations = for_service("finance")
    database = await owned_database()
    await asyncio.to_thread(upgrade, migrations, database["migration"], database["runtime"])
    owner = await asyncpg.connect(database["migration_dsn"])
    try:
        await owner.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON journal_lines TO {TEST_RUNTIME_ROLE}")
        await asyncio.to_thread(upgrade, migrations, database["migration"], database["runtime"])
        privileges = await owner.fetchval(
            "SELECT array_agg(privilege_type::text ORDER BY privilege_type) FROM information_schema.table_privileges"
            f" WHERE grantee = '{TEST_RUNTIME_ROLE}' AND table_name = 'journal_lines'")
        assert privileges == ["INSERT", "SELECT"]
    finally:
        await owner.close()
