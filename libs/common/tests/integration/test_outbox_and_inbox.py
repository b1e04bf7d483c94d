"""Outbox relay and idempotent consumer on the real broker and PostgreSQL."""

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from ecomops_common import metrics
from ecomops_common.db import Database
from ecomops_common.envelope import EventEnvelope
from ecomops_common.messaging import BatchConsumer, envelope_decoder
from ecomops_common.outbox import OutboxMessage
from ecomops_common.relay import OutboxRelay
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.settings import ServiceSettings
from ecomops_common.testing.plugin import committed_offset_total, consume_until, produce
from ecomops_common.topics import TopicSpec, ensure_topics
from ecomops_common.unit_of_work import SqlUnitOfWork

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(database_url):
    database = Database(database_url)
    await database.create_tables()
    yield database
    await database.dispose()


def event(aggregate: str, sequence: int) -> EventEnvelope:
    return EventEnvelope(event_type="Counted", schema_version=1, source="test", aggregate_type="counter",
                         aggregate_id=aggregate, payload={"sequence": sequence})


async def test_two_relays_publish_everything_once_in_order_per_aggregate(database, kafka_bootstrap, topic_prefix):
    topic = topic_prefix + "test.counted.v1"
    await ensure_topics(kafka_bootstrap, [TopicSpec("test.counted.v1", 4)], topic_prefix)
    aggregates, per_aggregate = 40, 25
    # Interleaved writes, as concurrent requests would make them.
    for sequence in range(per_aggregate):
        async with SqlUnitOfWork(database) as uow:
            for aggregate in range(aggregates):
                uow.emit(event(f"a{aggregate}", sequence), topic)
            await uow.commit()

    relays = [OutboxRelay(database, kafka_bootstrap, batch_size=50, poll_interval_s=0.01) for _ in range(2)]
    for relay in relays:
        await relay.start()
    total = aggregates * per_aggregate
    try:
        records = await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= total, timeout=60)
    finally:
        for relay in relays:
            await relay.stop()

    assert len(records) == total
    sequences = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        envelope = json.loads(record.value)
        assert record.key.decode() == envelope["aggregate_id"]
        sequences[envelope["aggregate_id"]].append(envelope["payload"]["sequence"])
    assert all(seq == list(range(per_aggregate)) for seq in sequences.values())
    assert await relays[0].observe_backlog() == (0, 0.0)


async def test_published_rows_are_purged_after_retention_unpublished_never(database):
    async with SqlUnitOfWork(database) as uow:
        uow.emit(event("old", 1), "x.y.v1")
        uow.emit(event("pending", 1), "x.y.v1")
        await uow.commit()
    async with database.sessions() as session, session.begin():
        await session.execute(update(OutboxMessage.__table__)
                              .where(OutboxMessage.__table__.c.aggregateid == "old")
                              .values(published_at=datetime.now(UTC) - timedelta(days=8)))
    relay = OutboxRelay(database, "unused:9092", retention_s=7 * 86400)
    assert await relay.purge() == 1
    count, age = await relay.observe_backlog()
    assert count == 1 and age >= 0
    assert metrics.OUTBOX_BACKLOG._value.get() == 1


class Counted(BaseModel):
    sequence: int


async def test_consumer_skips_duplicates_retries_transient_failures_and_commits_after_the_db(
        database, kafka_bootstrap, topic_prefix):
    topic = topic_prefix + "test.counted.v1"
    consumer_name = topic_prefix + "counter"
    async with database.sessions() as session, session.begin():
        # No key: a redelivery in the same batch as its original would be counted twice without the inbox.
        await session.execute(text("CREATE TABLE counted (event_id text, sequence int)"))

    failures_left = 2

    async def handle(deliveries):
        nonlocal failures_left
        if failures_left:
            failures_left -= 1
            raise OperationalError("SELECT 1", {}, ConnectionError("database went away"))
        async with SqlUnitOfWork(database) as uow:
            for delivery in await uow.claim_new_deliveries(consumer_name, deliveries):
                await uow.session.execute(text("INSERT INTO counted VALUES (:id, :n)"),
                                          {"id": delivery.event_id, "n": delivery.message.sequence})
            await uow.commit()

    settings = ServiceSettings(service_name="test", database_url=database.url,
                               kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix,
                               relay_enabled=False)
    runtime = ServiceRuntime(settings, database)
    runtime.topics = [TopicSpec("test.counted.v1", 2, with_dead_letters=True)]
    runtime.consume(BatchConsumer(consumer_name, topic, envelope_decoder(1, {"Counted": Counted}), handle))
    duplicates_before = metrics.DUPLICATES_SKIPPED.labels(consumer=consumer_name)._value.get()
    await runtime.start()
    try:
        first, second = event("c", 1), event("c", 2)
        messages = [(b"c", e.model_dump_json().encode()) for e in (first, second, first)]  # a redelivery
        await produce(kafka_bootstrap, topic, messages)
        for _ in range(100):
            async with database.sessions() as session:
                rows = (await session.execute(text("SELECT sequence FROM counted ORDER BY sequence"))).all()
            committed = await committed_offset_total(kafka_bootstrap, consumer_name, topic)
            if len(rows) == 2 and committed == 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await runtime.stop()
    assert [row.sequence for row in rows] == [1, 2]
    assert failures_left == 0
    assert committed == 3
    # at least the redelivered copy; a rebalance may redeliver more, which the inbox skips as well
    assert metrics.DUPLICATES_SKIPPED.labels(consumer=consumer_name)._value.get() - duplicates_before >= 1



async def test_the_handler_runs_in_the_producers_trace(database, kafka_bootstrap, topic_prefix):
    from opentelemetry import trace

    from ecomops_common.telemetry import setup_tracing

    setup_tracing("test", None)
    topic = topic_prefix + "test.counted.v1"
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    seen: list[tuple[str, list[str]]] = []

    async def handle(deliveries):
        span = trace.get_current_span()
        seen.append((format(span.get_span_context().trace_id, "032x"),
                     [format(link.context.trace_id, "032x") for link in span.links]))

    settings = ServiceSettings(service_name="test", database_url=database.url, kafka_bootstrap_servers=kafka_bootstrap,
                               topic_prefix=topic_prefix, relay_enabled=False)
    runtime = ServiceRuntime(settings, database)
    runtime.topics = [TopicSpec("test.counted.v1", 1)]
    runtime.consume(BatchConsumer(topic_prefix + "tracer", topic, envelope_decoder(1, {"Counted": Counted}), handle))
    await runtime.start()
    try:
        traced = event("t", 1).model_copy(update={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        await produce(kafka_bootstrap, topic, [(b"t", traced.model_dump_json().encode())])
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.1)
    finally:
        await runtime.stop()
    ((handler_trace_id, linked),) = seen
    assert handler_trace_id == trace_id and linked == [trace_id]
