import asyncio

import pytest

from ecomops_common.batching import Coalescer


async def test_concurrent_calls_share_batches_and_get_their_own_results():
    batches: list[list[int]] = []

    async def double(items):
        batches.append(items)
        await asyncio.sleep(0.01)
        return [item * 2 for item in items]

    coalescer = Coalescer(double, max_batch=10, concurrency=1)
    results = await asyncio.gather(*(coalescer.submit(n) for n in range(25)))
    assert results == [n * 2 for n in range(25)]
    assert sum(map(len, batches)) == 25
    assert len(batches) < 25 and max(map(len, batches)) <= 10


async def test_an_idle_call_is_not_delayed():
    async def echo(items):
        return items

    coalescer = Coalescer(echo)
    assert await asyncio.wait_for(coalescer.submit("x"), 0.05) == "x"


async def test_a_poison_item_fails_alone_and_a_transient_error_fails_the_batch():
    async def picky(items):
        if "bad" in items:
            raise ValueError("bad item")
        if "down" in items:
            raise ConnectionError("database down")
        return [item.upper() for item in items]

    coalescer = Coalescer(picky, concurrency=1)
    results = await asyncio.gather(*(coalescer.submit(i) for i in ["a", "bad", "b"]), return_exceptions=True)
    assert results[0] == "A" and results[2] == "B" and isinstance(results[1], ValueError)
    with pytest.raises(ConnectionError):
        await coalescer.submit("down")
