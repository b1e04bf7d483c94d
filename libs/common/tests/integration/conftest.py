import pytest
from sqlmodel import SQLModel

from ecomops_common.db import Database
from ecomops_common.migrations import COMMON_TABLES


@pytest.fixture
async def database(database_url):
    """The test's database with the tables every service's baseline migration makes (inbox, outbox)."""
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=list(COMMON_TABLES)))
    yield database
    await database.dispose()
