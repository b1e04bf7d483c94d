"""A service (re)started while Kafka is down serves its HTTP API at once and says what is degraded; its topics
and consumers come up when Kafka answers, and what it accepted meanwhile is published then.

Kafka's outage is played without stopping the shared broker: each service bootstraps through a port where
nothing listens at first, and later through a forwarder to the real broker there (the broker's metadata then
points the clients at the broker itself)."""

import asyncio
import contextlib
import json
import time

import httpx
import pytest

from ecomops_common.testing.plugin import consume_until, free_port

from .conftest import channel_order, start_service

pytestmark = pytest.mark.e2e

# One read of each service's API that needs nothing but its database.
API_READS = {"order": "/v1/orders", "allocation": "/v1/availability?sku=SKU-RED-M", "warehouse": "/v1/stock",
             "returns": "/v1/returns?queue=awaiting_receipt", "finance": "/v1/accounts"}


@contextlib.asynccontextmanager
async def forwarder(port: int, target: str):
    """Forwards TCP connections on 127.0.0.1:port to target (host:port) while the block runs."""
    host, target_port = target.rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def connect(client_reader, client_writer) -> None:
        broker_reader, broker_writer = await asyncio.open_connection(host, int(target_port))
        await asyncio.gather(pipe(client_reader, broker_writer), pipe(broker_reader, client_writer))

    server = await asyncio.start_server(connect, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


async def readiness(client: httpx.AsyncClient, timeout: float, until) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            response = await client.get("/readyz")
            if until(response):
                return response.json()
        assert time.monotonic() < deadline, "not as ready as expected in time"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("service", list(API_READS))
async def test_a_service_started_while_kafka_is_down_serves_http_then_joins_when_kafka_answers(
        service, service_process, new_database, kafka_bootstrap, topic_prefix, identities):
    kafka_port = free_port()
    process = start_service(service_process, service, await new_database(service), f"127.0.0.1:{kafka_port}",
                            topic_prefix, identities.issuer, wait=False)
    async with httpx.AsyncClient(base_url=process.base_url, auth=identities.admin, timeout=10) as client:
        started = time.monotonic()
        ready = await readiness(client, 30, lambda response: response.status_code == 200)
        assert ready["ready"] is True and {"kafka", "consumers"} <= set(ready["degraded"]), ready
        assert (await client.get(API_READS[service])).status_code == 200
        accepted = None
        if service == "order":  # intake goes on: the order waits in the outbox for Kafka
            response = await client.post("/v1/orders", json=channel_order("during-outage"), auth=identities.connector)
            assert response.status_code == 201, response.text
            accepted = response.json()["id"]
        print(f"{service}: serving {time.monotonic() - started:.1f} s after start with Kafka down")

        async with forwarder(kafka_port, kafka_bootstrap):
            ready = await readiness(client, 60, lambda response: response.status_code == 200
                                    and not response.json()["degraded"])
            assert ready["checks"] == {"database": "ok", "kafka": "ok", "consumers": "ok"}
            if accepted:
                records = await consume_until(kafka_bootstrap, topic_prefix + "order.events.v1",
                                              lambda rs: len(rs) >= 1)
                assert [json.loads(r.value)["aggregate_id"] for r in records] == [accepted]
