"""Outbox relay and idempotent consumer on the real broker and PostgreSQL."""

import asyncio
import gc
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from pydantic import BaseModel
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from ecomops_common import metrics, outbox_cli
from ecomops_common.dlq_cli import read_dead_letters
from ecomops_common.envelope import EventEnvelope
from ecomops_common.kafka_security import connection_options
from ecomops_common.messaging import BatchConsumer, envelope_decoder
from ecomops_common.outbox import OutboxMessage, outbox_parked
from ecomops_common.relay import OutboxRelay, take_publishing_lock
from ecomops_common.runtime import YOUNG_COLLECTION_THRESHOLD, ServiceRuntime
from ecomops_common.settings import ServiceSettings
from ecomops_common.testing.plugin import committed_offset_total, consume_until, eventually, produce
from ecomops_common.topics import TopicSpec, ensure_topics
from ecomops_common.unit_of_work import SqlUnitOfWork

pytestmark = pytest.mark.integration


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


async def test_one_claim_sends_an_aggregates_pending_rows_in_order_and_deletes_them(database, kafka_bootstrap,
                                                                                    topic_prefix):
    """Rows pending together go out in one claim, several of an aggregate in insertion order (not one per
    claim), and leave the outbox once Kafka has them."""
    topic = topic_prefix + "test.counted.v1"
    await ensure_topics(kafka_bootstrap, [TopicSpec("test.counted.v1", 2)], topic_prefix)
    for sequence in range(10):
        async with SqlUnitOfWork(database) as uow:
            for aggregate in ("a", "b", "c"):
                uow.emit(event(aggregate, sequence), topic)
            await uow.commit()
    relay = OutboxRelay(database, kafka_bootstrap)
    try:
        assert await relay.publish_batch() == 30
    finally:
        await relay.stop()
    async with database.sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0
    records = await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= 30, timeout=30)
    sequences = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        sequences[record.key.decode()].append(json.loads(record.value)["payload"]["sequence"])
    assert sequences == {aggregate: list(range(10)) for aggregate in ("a", "b", "c")}


async def test_a_relay_claims_nothing_while_another_publishes(database):
    """Another replica's relay holds the publishing lock: this one claims nothing (and tries again shortly)."""
    async with SqlUnitOfWork(database) as uow:
        uow.emit(event("a", 1), "x.y.v1")
        await uow.commit()
    relay = OutboxRelay(database, "unused:9092")
    async with database.sessions() as publishing, publishing.begin():
        assert await take_publishing_lock(publishing)
        assert await relay.publish_batch() is None
    assert (await relay.observe_backlog())[0] == 1


async def test_a_row_the_broker_refuses_is_parked_without_blocking_or_resending_the_others(
        database, kafka_bootstrap, topic_prefix, capsys):
    topic = topic_prefix + "test.counted.v1"
    admin = AIOKafkaAdminClient(**connection_options(kafka_bootstrap))
    await admin.start()
    try:
        # One partition: the broker rejects a whole producer batch when one record in it is too large.
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "20000"})])
        too_large_for_topic = event("b", 1).model_copy(update={"payload": {"sequence": 1, "blob": "x" * 50_000}})
        too_large_for_producer = event("d", 1).model_copy(update={"payload": {"sequence": 1, "blob": "x" * 2**21}})
        async with SqlUnitOfWork(database) as uow:
            for envelope in (event("a", 1), too_large_for_topic, event("c", 1), too_large_for_producer):
                uow.emit(envelope, topic)
            await uow.commit()
        async with SqlUnitOfWork(database) as uow:
            uow.emit(event("b", 2), topic)  # a later event of the parked row's aggregate
            await uow.commit()

        relay = OutboxRelay(database, kafka_bootstrap, batch_size=50, poll_interval_s=0.01, purge_interval_s=0.1)
        await relay.start()
        try:
            async def sent_or_parked() -> bool:
                return await relay.observe_backlog() == (0, 0.0)

            await eventually(sent_or_parked)
            async with database.sessions() as session:
                parked = (await session.execute(select(outbox_parked).order_by(outbox_parked.c.position))).all()
            assert [(row.id, row.error.split(":")[0]) for row in parked] == [
                (too_large_for_topic.event_id, "MessageSizeTooLargeError"),
                (too_large_for_producer.event_id, "MessageSizeTooLargeError")]
            await eventually(lambda: _gauge_is(metrics.OUTBOX_PARKED, 2))
            # Sent once each, the parked row's aggregate included: nothing blocked, nothing sent twice.
            assert await _sequences(kafka_bootstrap, topic) == [("a", 1), ("c", 1), ("b", 2)]

            # The fix: the topic takes larger messages. Requeued, the row goes out; the other is discarded.
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                      {"max.message.bytes": "200000"})])
            url = ["--database-url", database.url]
            assert await asyncio.to_thread(outbox_cli.main, ["list", *url]) == 0
            listed = capsys.readouterr().out.splitlines()
            assert listed[0].split()[:4] == ["PARKED", "AT", "EVENT", "ID"] and len(listed) == 3
            assert too_large_for_topic.event_id in listed[1] and "MessageSizeTooLargeError" in listed[1]
            assert await asyncio.to_thread(outbox_cli.main, ["requeue", too_large_for_topic.event_id, *url]) == 0
            assert await asyncio.to_thread(outbox_cli.main, ["discard", too_large_for_producer.event_id, *url]) == 0
            relay.wake()
            await eventually(sent_or_parked)
            await eventually(lambda: _gauge_is(metrics.OUTBOX_PARKED, 0))
            assert await _sequences(kafka_bootstrap, topic) == [("a", 1), ("c", 1), ("b", 2), ("b", 1)]
        finally:
            await relay.stop()
    finally:
        await admin.close()


async def _gauge_is(gauge, value: float) -> bool:
    return gauge._value.get() == value


async def _sequences(bootstrap: str, topic: str) -> list[tuple[str, int]]:
    """(aggregate, sequence) of every record in the topic, in log order."""
    return [(record.key.decode(), json.loads(record.value)["payload"]["sequence"])
            for record in await read_dead_letters(bootstrap, topic)]  # reads any topic from beginning to end


async def test_rows_an_earlier_version_marked_published_are_purged_after_retention_pending_never(database):
    """Published rows are deleted as they go out; during a rolling upgrade a relay of an earlier version marks
    them published instead: those are never sent again and are purged after retention."""
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
        database, kafka_bootstrap, topic_prefix, monkeypatch):
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
    gc.set_threshold(700, 10, 10)  # Python's defaults, as a fresh process has them
    worker_thread_calls = []  # FastDepends solved the handler's message argument in a worker thread per batch
    monkeypatch.setattr(anyio.to_thread, "run_sync", lambda *args, **kwargs: worker_thread_calls.append(args))
    await runtime.start()
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD and gc.get_freeze_count() > 0  # settle_heap ran
    await runtime.wait_for_messaging()
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
    assert worker_thread_calls == []
    assert failures_left == 0
    assert committed == 3
    # at least the redelivered copy; a rebalance may redeliver more, which the inbox skips as well
    assert metrics.DUPLICATES_SKIPPED.labels(consumer=consumer_name)._value.get() - duplicates_before >= 1



async def test_a_malformed_record_near_the_size_limit_is_dead_lettered_and_the_partition_carries_on(
        database, kafka_bootstrap, topic_prefix):
    topic = topic_prefix + "test.counted.v1"
    handled: list[int] = []

    async def handle(deliveries):
        handled.extend(delivery.message.sequence for delivery in deliveries)

    settings = ServiceSettings(service_name="test", database_url=database.url, kafka_bootstrap_servers=kafka_bootstrap,
                               topic_prefix=topic_prefix, relay_enabled=False)
    runtime = ServiceRuntime(settings, database)
    runtime.topics = [TopicSpec("test.counted.v1", 1, with_dead_letters=True)]
    consumer_name = topic_prefix + "counter"
    runtime.consume(BatchConsumer(consumer_name, topic, envelope_decoder(1, {"Counted": Counted}), handle))
    await ensure_topics(kafka_bootstrap, runtime.topics, topic_prefix)
    # As large as the producer takes (Kafka's default maximum is about 1 MB): no room left for dlq_* headers.
    headers = [("event_id", b"huge")]
    size = 1_048_576 - DefaultRecordBatchBuilder.estimate_size_in_bytes(b"k", b"", headers) - 8
    malformed = b"{" + b"x" * (size - 1)
    await produce(kafka_bootstrap, topic, [(b"k", malformed)], headers)
    await produce(kafka_bootstrap, topic, [(b"k", event("k", 7).model_dump_json().encode())])
    await runtime.start()
    try:
        async def both_handled() -> bool:
            return await committed_offset_total(kafka_bootstrap, consumer_name, topic) == 2

        await eventually(both_handled, timeout=60)
    finally:
        await runtime.stop()
    assert handled == [7]
    (dead_letter,) = await read_dead_letters(kafka_bootstrap, topic + ".dlq")
    assert dead_letter.reason == "unparseable" and dead_letter.original_offset == 0
    assert dead_letter.header("dlq_payload_truncated") == str(len(malformed) + 1 + len("event_id") + len("huge"))
    assert dead_letter.value == malformed[:64 * 1024] and dead_letter.key == b"k"
    assert dead_letter.header("event_id") == "huge"


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
    await runtime.wait_for_messaging()
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
