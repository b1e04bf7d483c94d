"""Two allocation workers as real processes racing for the same stock on PostgreSQL and Kafka."""

import asyncio
import json
import random
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from allocation_service.service_layer.handlers import ORDER_EVENTS_CONSUMER
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.testing.issuer import admin_headers
from ecomops_common.testing.plugin import committed_offset_total, eventually, produce_events, run_reconciliation
from ecomops_common.testing.samples import order_placed

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
CHANNELS = ["web-eu", "app", "marketplace", "b2b"]


def racing_orders(count: int, lines_of) -> list:
    """Orders with every priority fact varied; placed a second apart so their ranking is unambiguous."""
    rng = random.Random(42)
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    return [order_placed(
        f"race-{n:03d}", lines_of(n), channel=CHANNELS[n % 4],
        tier=rng.choice(["standard", "standard", "vip"]), service_level=rng.choice(["standard", "express"]),
        placed_at=(start + timedelta(seconds=n)).isoformat(),
        promised_date=rng.choice([None, None, str(date(2026, 11, 24) + timedelta(days=rng.randint(0, 3)))]),
    ) for n in range(count)]


def priority(envelope) -> tuple:
    """The ranking the issue asks for: promised date (none last), express, vip, then placed_at."""
    order = envelope.payload
    return (order["promised_date"] is None, order["promised_date"] or "", order["service_level"] != "express",
            order["customer"]["tier"] != "vip", order["placed_at"], order["order_id"])


async def sample_atp(database_url: str, stop: asyncio.Event) -> list[tuple[int, int]]:
    """(lowest raw ATP over all positions, units reserved) every few milliseconds until stopped."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    samples = []
    try:
        while not stop.is_set():
            row = await connection.fetchrow(
                "SELECT min(on_hand - reserved - safety_stock) AS lowest, coalesce(sum(reserved), 0) AS reserved"
                " FROM stock_positions")
            if row["lowest"] is not None:
                samples.append((row["lowest"], row["reserved"]))
            await asyncio.sleep(0.005)
    finally:
        await connection.close()
    return samples


async def reconcile_with_the_command(database_url: str) -> dict:
    return await run_reconciliation("allocation_service.entrypoints.cli:reconcile_main",
                                    {"ALLOCATION_DATABASE_URL": database_url})


async def test_two_workers_never_oversell_and_fill_backorders_in_priority_order(
        start_worker, wait_for_members, allocation_results, allocation_settings, database_url):
    first = start_worker()
    async with httpx.AsyncClient(base_url=first.base_url, headers=admin_headers()) as client:
        seeded = await client.put("/v1/stock", json={"levels": [{"sku": "HOT", "node": "WH1", "on_hand": 30},
                                                                {"sku": "HOT", "node": "WH2", "on_hand": 20}]})
        assert seeded.status_code == 200
        rules = await client.put("/v1/channels/b2b/rules", json={"allow_split": False, "short_stock": "backorder"})
        assert rules.status_code == 200
    second = start_worker()
    await wait_for_members(2)

    orders = racing_orders(200, lambda n: [("1", "HOT", 1)])
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(sample_atp(database_url, stop_sampling))
    await produce_events(allocation_settings.kafka_bootstrap_servers, allocation_settings.topic(ORDER_EVENTS), orders)
    results = await allocation_results(allocation_settings, lambda latest: len(latest) >= 200, timeout=60)
    stop_sampling.set()
    samples = await sampler

    statuses = [result["status"] for result in results.values()]
    assert (statuses.count("allocated"), statuses.count("backordered")) == (50, 150)
    assert samples and min(lowest for lowest, _ in samples) >= 0 and max(units for _, units in samples) == 50
    handled = [await handled_order_events(worker.base_url) for worker in (first, second)]
    assert all(count > 0 for count in handled), f"both workers must take part: {handled}"

    # 20 units arrive: the 20 most urgent backorders get them, whichever worker handles the stock event.
    async with httpx.AsyncClient(base_url=second.base_url, headers=admin_headers()) as client:
        assert (await client.put("/v1/stock", json={"levels": [{"sku": "HOT", "node": "WH2", "on_hand": 40}]}
                                 )).status_code == 200
        backordered = sorted((o for o in orders if results[o.aggregate_id]["status"] == "backordered"), key=priority)
        results = await allocation_results(allocation_settings, lambda latest: sum(
            r["reason"] == "backorder_filled" for r in latest.values()) >= 20)
        filled = {order_id for order_id, r in results.items() if r["reason"] == "backorder_filled"}
        assert filled == {o.aggregate_id for o in backordered[:20]}
        report = (await client.get("/v1/reconciliation")).json()
    assert report == {"ok": True, "drift": []}
    assert (await reconcile_with_the_command(database_url))["ok"] is True


async def handled_order_events(base_url: str) -> float:
    async with httpx.AsyncClient(base_url=base_url) as client:
        text = (await client.get("/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("ecomops_messages_handled_total") and "order-events" in line)


async def deadlocks(database_url: str) -> int:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        return await connection.fetchval("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    finally:
        await connection.close()


async def test_orders_sharing_skus_in_opposite_order_do_not_deadlock(
        start_worker, wait_for_members, allocation_results, allocation_settings, database_url):
    workers = [start_worker(), start_worker()]
    async with httpx.AsyncClient(base_url=workers[0].base_url, headers=admin_headers()) as client:
        assert (await client.put("/v1/stock", json={"levels": [
            {"sku": sku, "node": node, "on_hand": 1000} for sku in ("A", "B", "C") for node in ("WH1", "WH2")]}
                                 )).status_code == 200
    await wait_for_members(2)
    before = await deadlocks(database_url)

    # Every order holds two SKUs, half of them listed A-B-C and half C-B-A, spread over every partition.
    orders = racing_orders(400, lambda n: [("1", "A", 1), ("2", "B", 1), ("3", "C", 1)][:: 1 if n % 2 else -1])
    await produce_events(allocation_settings.kafka_bootstrap_servers, allocation_settings.topic(ORDER_EVENTS), orders)
    results = await allocation_results(allocation_settings, lambda latest: len(latest) >= 400, timeout=60)

    assert {result["status"] for result in results.values()} == {"allocated"}
    assert await deadlocks(database_url) == before
    for worker in workers:
        assert "deadlock" not in worker.log_path.read_text()
    assert (await reconcile_with_the_command(database_url))["ok"] is True


async def half_reserved_orders(database_url: str) -> list[str]:
    """Orders whose lines are not exactly covered by reservations plus backorders."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch("SELECT order_id, status, demand FROM order_demands")
        held = await connection.fetch(
            "SELECT order_id, line_id, sum(qty) AS qty FROM ("
            " SELECT order_id, line_id, qty FROM reservations UNION ALL SELECT order_id, line_id, qty FROM backorders"
            ") units GROUP BY order_id, line_id")
    finally:
        await connection.close()
    covered = {(row["order_id"], row["line_id"]): row["qty"] for row in held}
    return [row["order_id"] for row in rows for line_id, _, qty in json.loads(row["demand"])["lines"]
            if covered.get((row["order_id"], line_id)) != qty]


async def test_a_worker_killed_mid_batch_leaves_no_half_reserved_order(
        start_worker, wait_for_members, allocation_results, allocation_settings, database_url):
    workers = [start_worker(), start_worker()]
    async with httpx.AsyncClient(base_url=workers[0].base_url, headers=admin_headers()) as client:
        assert (await client.put("/v1/stock", json={"levels": [
            {"sku": f"S{n}", "node": node, "on_hand": 40} for n in range(50) for node in ("WH1", "WH2")]}
                                 )).status_code == 200
    await wait_for_members(2)
    rng = random.Random(3)
    orders = racing_orders(3000, lambda n: [(str(line), f"S{rng.randrange(50)}", rng.randint(1, 3))
                                            for line in range(rng.randint(1, 4))])
    sending = asyncio.create_task(produce_events(
        allocation_settings.kafka_bootstrap_servers, allocation_settings.topic(ORDER_EVENTS), orders))
    await allocation_results(allocation_settings, lambda latest: len(latest) >= 200, timeout=60)
    workers[0].kill()  # SIGKILL while batches are in flight
    await sending
    workers[0].start()

    records = await allocation_results(allocation_settings, lambda latest: len(latest) >= 3000, timeout=120)
    assert len(records) == 3000
    assert await half_reserved_orders(database_url) == []
    assert (await reconcile_with_the_command(database_url))["ok"] is True


async def test_a_redelivered_order_placed_reserves_nothing_twice(allocation, allocation_results):
    settings = allocation.settings
    assert (await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 10}]}
                                 )).status_code == 200
    placed = order_placed("o-once", [("1", "A", 3)])
    # The same event (same id) twice, and the order again under a new event id, as a republishing relay would.
    again = placed.model_copy(update={"event_id": "another-event-id"})
    topic = settings.topic(ORDER_EVENTS)
    await produce_events(settings.kafka_bootstrap_servers, topic, [placed, placed])
    await allocation_results(settings, lambda latest: "o-once" in latest)
    await produce_events(settings.kafka_bootstrap_servers, topic, [again, placed])
    group = settings.consumer_group(ORDER_EVENTS_CONSUMER)

    async def all_four_handled() -> bool:
        return await committed_offset_total(settings.kafka_bootstrap_servers, group, topic) >= 4

    await eventually(all_four_handled)
    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert availability["nodes"][0]["reserved"] == 3
    assert (await allocation.get("/v1/reservations", params={"order_id": "o-once"})).json()["revision"] == 1
