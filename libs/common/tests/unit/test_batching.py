import asyncio

import pytest

from ecomops_common.batching import Coalescer, Overloaded


async def test_concurrent_calls_share_batches_and_get_their_own_results():
    batches: list[list[int]] = []

    async def double(items):
        batches.append(items)
        await asyncio.sleep(0.01)
        return [item * 2 for item in items]

    coalescer = Coalescer(double, max_waiting=100, max_batch=10, concurrency=1)
    results = await asyncio.gather(*(coalescer.submit(n) for n in range(25)))
    assert results == [n * 2 for n in range(25)]
    assert sum(map(len, batches)) == 25
    assert len(batches) < 25 and max(map(len, batches)) <= 10


async def test_an_idle_call_is_not_delayed():
    async def echo(items):
        return items

    coalescer = Coalescer(echo, max_waiting=1)
    assert await asyncio.wait_for(coalescer.submit("x"), 0.05) == "x"


async def test_a_poison_item_fails_alone_and_a_transient_error_fails_the_batch():
    async def picky(items):
        if "bad" in items:
            raise ValueError("bad item")
        if "down" in items:
            raise ConnectionError("database down")
        return [item.upper() for item in items]

    coalescer = Coalescer(picky, max_waiting=10, concurrency=1)
    results = await asyncio.gather(*(coalescer.submit(i) for i in ["a", "bad", "b"]), return_exceptions=True)
    assert results[0] == "A" and results[2] == "B" and isinstance(results[1], ValueError)
    with pytest.raises(ConnectionError):
        await coalescer.submit("down")


async def test_a_full_queue_refuses_more_and_accepts_again_once_drained():
    release = asyncio.Event()

    async def slow(items):
        await release.wait()
        return items

    coalescer = Coalescer(slow, max_waiting=2, max_batch=1, concurrency=1)
    in_flight = asyncio.create_task(coalescer.submit("in flight"))
    await asyncio.sleep(0)  # taken out of the queue into the batch in flight
    waiting = [asyncio.create_task(coalescer.submit(n)) for n in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await coalescer.submit("one too many")
    release.set()
    assert await asyncio.gather(in_flight, *waiting) == ["in flight", 0, 1]
    assert await coalescer.submit("again") == "again"
