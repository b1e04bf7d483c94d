"""`allocation-reconcile`: recomputes reserved quantities from live reservations; exit 1 when any drift."""

import asyncio
import json
import sys

from allocation_service.service_layer.reconcile import reconcile
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from allocation_service.settings import AllocationSettings
from ecomops_common.db import Database


async def _reconcile(database_url: str) -> int:
    database = Database(database_url, pool_size=1)
    try:
        async with AllocationUnitOfWork(database) as uow:
            drift = await reconcile(uow)
    finally:
        await database.dispose()
    print(json.dumps({"ok": not drift, "drift": [vars(d) for d in drift]}, indent=2))
    return 1 if drift else 0


def reconcile_main() -> None:
    sys.exit(asyncio.run(_reconcile(AllocationSettings().database_url)))
