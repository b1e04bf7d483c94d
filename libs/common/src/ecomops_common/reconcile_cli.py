"""One shape for the services' reconciliation commands: run a check once, print the drift, exit 1 on any."""

import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable

from ecomops_common.db import Database


def run_check(database_url: str, unit_of_work: Callable, check: Callable[..., Awaitable[list]]) -> None:
    """`check(uow)` returns the drift found (dataclasses or dicts); empty means all is well. Exits 0 without
    drift, 1 with drift, and with the reason when the check cannot run."""

    async def run() -> list:
        database = Database(database_url, pool_size=1)
        try:
            async with unit_of_work(database) as uow:
                return await check(uow)
        finally:
            await database.dispose()

    try:
        found = asyncio.run(run())
    except Exception as error:  # e.g. the database is down, or the service never ran to create its tables
        sys.exit(f"reconciliation could not run: {str(error).splitlines()[0]}")
    drift = [dataclasses.asdict(d) if dataclasses.is_dataclass(d) else d for d in found]
    print(json.dumps({"ok": not drift, "drift": drift}, indent=2, default=str))
    sys.exit(1 if drift else 0)
