"""Group commit for request handlers: concurrent calls share one batch call (one transaction, one fsync).

There is no waiting to fill a batch: an idle service handles a request at once, and requests that
arrive while a batch is in flight form the next one, so batches grow only with load. Beyond `max_waiting`
items a submission is refused with Overloaded (the HTTP layer answers 503 with Retry-After), so a burst
cannot grow the queue, and the memory it holds, without limit.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from ecomops_common.resilience import is_transient

Item = TypeVar("Item")
Result = TypeVar("Result")


class Overloaded(Exception):
    """More items wait than the coalescer holds: retry later."""


class Coalescer(Generic[Item, Result]):
    def __init__(self, handle_batch: Callable[[list[Item]], Awaitable[list[Result]]], *,
                 max_waiting: int, max_batch: int = 100, concurrency: int = 2) -> None:
        self.handle_batch = handle_batch
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.concurrency = concurrency  # batches in flight: one in the database while the next is built
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._drainers = 0

    async def submit(self, item: Item) -> Result:
        if len(self._waiting) >= self.max_waiting:
            raise Overloaded(f"{len(self._waiting)} items are waiting already")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._drainers < self.concurrency:
            self._drainers += 1
            asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch:]
                await self._run(batch)
        finally:
            self._drainers -= 1

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self.handle_batch([item for item, _ in batch])
        except Exception as error:
            if len(batch) > 1 and not is_transient(error):
                for one in batch:  # isolate the item that breaks the batch; the others succeed
                    await self._run([one])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the caller may have gone away; the work is done regardless
                future.set_result(result)
