"""Fault tests on the real broker and PostgreSQL, with the order service as a real process; orders come over
HTTP from the web-eu connector, with its tokens of the real provider."""

import asyncio
import json
import os
import random
import subprocess
import time
from collections import Counter, defaultdict

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ecomops_common.kafka_security import connection_options
from ecomops_common.testing.infrastructure import repo_root
from ecomops_common.testing.plugin import consume_until
from ecomops_common.testing.samples import channel_order

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
_LOCAL_PG = "postgresql://postgres:postgres@127.0.0.1:15432/postgres"


def order_placed_by_order(records) -> dict[str, set[str]]:
    """order id -> distinct OrderPlaced event ids (consumers de-duplicate by event id)."""
    events = defaultdict(set)
    for record in records:
        if dict(record.headers).get("event_type") == b"OrderPlaced":
            envelope = json.loads(record.value)
            events[envelope["aggregate_id"]].add(envelope["event_id"])
    return events


def external_ids(records) -> Counter:
    return Counter(json.loads(r.value)["payload"]["external_order_id"] for r in records
                   if dict(r.headers).get("event_type") == b"OrderPlaced")


async def post_until_accepted(client: httpx.AsyncClient, url: str, document: dict) -> int:
    """A connector's behaviour: retry until the service answers (it is idempotent, so this is safe)."""
    while True:
        try:
            response = await client.post(url, json=document, timeout=5)
            if response.status_code in (200, 201):
                return response.status_code
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)


async def test_kill_9_during_intake_loses_and_duplicates_nothing(service_process, order_service_env, identities,
                                                                  kafka_bootstrap, topic_prefix):
    service = service_process("order_service", order_service_env, int(order_service_env["ORDER_HTTP_PORT"]))
    unique = [channel_order(external_order_id=f"k{n}") for n in range(900)]
    sends = unique + random.Random(7).sample(unique, 100)  # 10% exact duplicates
    random.Random(8).shuffle(sends)
    over_http, over_topic = sends[:500], sends[500:]
    poison = [b"{not json", json.dumps({"channel": "web-eu"}).encode()]

    async def send_over_topic():
        producer = AIOKafkaProducer(**connection_options(kafka_bootstrap), enable_idempotence=True)
        await producer.start()
        try:
            for index, document in enumerate(over_topic):
                key = f"{document['channel']}:{document['external_order_id']}".encode()
                await producer.send(topic_prefix + "channel.orders.v1", json.dumps(document).encode(), key=key)
                if index in (100, 300):
                    await producer.send(topic_prefix + "channel.orders.v1", poison[index // 300], key=key)
                await asyncio.sleep(0.004)
            await producer.flush()
        finally:
            await producer.stop()

    async def send_over_http():
        limits = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(base_url=service.base_url, limits=limits, auth=identities.connector) as client:
            queue = list(over_http)

            async def worker():
                while queue:
                    await post_until_accepted(client, "/v1/orders", queue.pop())

            await asyncio.gather(*(worker() for _ in range(8)))

    async def kill_and_restart():
        await asyncio.sleep(1.0)
        service.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(service.start)

    await asyncio.gather(send_over_topic(), send_over_http(), kill_and_restart())

    records = await consume_until(kafka_bootstrap, topic_prefix + "order.events.v1",
                                  lambda rs: len(external_ids(rs)) >= 900, timeout=90)
    placed = order_placed_by_order(records)
    assert set(external_ids(records)) == {d["external_order_id"] for d in unique}, "an accepted order is missing"
    assert len(placed) == 900, "one channel order became two orders"
    assert all(len(event_ids) == 1 for event_ids in placed.values()), "an order has two OrderPlaced events"

    dead = await consume_until(kafka_bootstrap, topic_prefix + "channel.orders.v1.dlq", lambda rs: len(rs) >= 2)
    assert sorted(r.value for r in dead)[:2] == sorted(poison)


@pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092") != "127.0.0.1:19092"),
                    reason="needs the project's own broker, which the test stops and starts")
async def test_broker_down_for_10s_the_relay_backs_off_then_everything_arrives(
        service_process, order_service_env, identities, kafka_bootstrap, topic_prefix):
    service = service_process("order_service", order_service_env, int(order_service_env["ORDER_HTTP_PORT"]))
    kafka_script = str(repo_root() / "scripts" / "infra" / "kafka.sh")
    async with httpx.AsyncClient(base_url=service.base_url, auth=identities.connector) as client:
        for n in range(50):
            response = await client.post("/v1/orders", json=channel_order(external_order_id=f"before{n}"))
            assert response.status_code == 201
        await asyncio.to_thread(subprocess.run, ["bash", kafka_script, "stop"], check=True)
        outage_started = time.monotonic()
        try:
            # HTTP intake does not need the broker: orders are stored with their outbox rows.
            for n in range(100):
                response = await client.post("/v1/orders", json=channel_order(external_order_id=f"during{n}"))
                assert response.status_code == 201, response.text
            await asyncio.sleep(max(0.0, 10 - (time.monotonic() - outage_started)))
            metrics = (await client.get("/metrics")).text
            assert _gauge(metrics, "ecomops_outbox_backlog") > 0
            ready = await client.get("/readyz")  # degraded, yet still in service: intake works
            assert ready.status_code == 200 and "kafka" in ready.json()["degraded"]
        finally:
            await asyncio.to_thread(subprocess.run, ["bash", kafka_script, "start"], check=True)
        for n in range(50):
            response = await client.post("/v1/orders", json=channel_order(external_order_id=f"after{n}"))
            assert response.status_code == 201

    records = await consume_until(kafka_bootstrap, topic_prefix + "order.events.v1",
                                  lambda rs: len(external_ids(rs)) >= 200, timeout=120)
    received = external_ids(records)
    assert len(received) == 200
    assert {"before0", "during99", "after49"} <= set(received)
    placed = order_placed_by_order(records)
    assert all(len(event_ids) == 1 for event_ids in placed.values())


def _gauge(metrics_text: str, name: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed")


@pytest.mark.skipif(bool(os.environ.get("POSTGRES_ADMIN_URL", _LOCAL_PG) != _LOCAL_PG),
                    reason="needs the project's own PostgreSQL, which the test stops and starts")
async def test_database_down_consumer_retries_and_skips_nothing(service_process, order_service_env, identities,
                                                                  kafka_bootstrap, topic_prefix):
    service = service_process("order_service", order_service_env, int(order_service_env["ORDER_HTTP_PORT"]))
    postgres_script = str(repo_root() / "scripts" / "infra" / "postgres.sh")
    producer = AIOKafkaProducer(**connection_options(kafka_bootstrap), enable_idempotence=True)
    await producer.start()
    try:
        async def send(prefix: str, count: int):
            for n in range(count):
                document = channel_order(external_order_id=f"{prefix}{n}")
                await producer.send(topic_prefix + "channel.orders.v1", json.dumps(document).encode(),
                                    key=f"web-eu:{prefix}{n}".encode())
                await asyncio.sleep(0.01)
            await producer.flush()

        await send("before", 50)
        await asyncio.to_thread(subprocess.run, ["bash", postgres_script, "stop"], check=True)
        try:
            await send("during", 100)  # consumed while the database is down: retried, not skipped
            async with httpx.AsyncClient(base_url=service.base_url, auth=identities.connector) as client:
                response = await client.post("/v1/orders", json=channel_order(external_order_id="http-during"))
                assert response.status_code == 503 and response.headers["retry-after"] == "1"
            await asyncio.sleep(3)
        finally:
            await asyncio.to_thread(subprocess.run, ["bash", postgres_script, "start"], check=True)
        await send("after", 50)
    finally:
        await producer.stop()

    records = await consume_until(kafka_bootstrap, topic_prefix + "order.events.v1",
                                  lambda rs: len(external_ids(rs)) >= 200, timeout=120)
    assert len(external_ids(records)) == 200
    assert all(len(event_ids) == 1 for event_ids in order_placed_by_order(records).values())
    dead = await consume_until(kafka_bootstrap, topic_prefix + "channel.orders.v1.dlq", lambda rs: False, timeout=1)
    assert dead == [], "a transient failure must not dead-letter anything"
