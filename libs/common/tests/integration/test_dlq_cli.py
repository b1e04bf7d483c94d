"""ecomops-dlq against a real broker: list dead letters, redrive them once and only once.

The dead letters are made the way services make them: records consumed from the original topic and
sent to `<topic>.dlq` by messaging.DeadLetters.
"""

import asyncio
import os
import socket
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete

from ecomops_common import dlq_cli
from ecomops_common.dlq_cli import REDRIVEN_FROM, read_dead_letters, redrive
from ecomops_common.kafka_security import connection_options
from ecomops_common.messaging import (
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_TOPIC,
    DLQ_PAYLOAD_TRUNCATED,
    DeadLetters,
)
from ecomops_common.testing.plugin import produce

pytestmark = pytest.mark.integration

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")


@pytest.fixture(scope="module")
def bootstrap() -> str:
    host, _, port = BOOTSTRAP.split(",")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as error:
        message = f"no Kafka broker at {BOOTSTRAP} ({error}); start it: `bash scripts/infra/kafka.sh start`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return BOOTSTRAP


async def make_topics(bootstrap: str) -> tuple[str, str]:
    """A fresh `<context>.orders.v1` (3 partitions) and its dead-letter topic (1, like ensure_topics)."""
    topic = f"t{uuid.uuid4().hex[:10]}.orders.v1"
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1), NewTopic(topic + ".dlq", 1, 1)])
    finally:
        await admin.close()
    return topic, topic + ".dlq"


async def delete_topics(bootstrap: str, *topics: str) -> None:
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        await admin.delete_topics(list(topics))
    finally:
        await admin.close()


async def dead_letter(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """Publish (key, value) messages to `topic`, consume them, and dead-letter each one."""
    producer = AIOKafkaProducer(**connection_options(bootstrap))
    await producer.start()
    try:
        for number, (key, value) in enumerate(messages):
            await producer.send_and_wait(topic, value, key=key, headers=[("event_id", f"e{number}".encode())])
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(**connection_options(bootstrap), auto_offset_reset="earliest")
    dead_letters = DeadLetters(bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, partition) for partition in range(3)]
        consumer.assign(partitions)
        records = []
        while len(records) < len(messages):
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records += batch
        for record in sorted(records, key=lambda record: record.value):
            await dead_letters.send(record, "schema_invalid", f"lines.0.quantity: bad in {record.value!r}",
                                    "order-service.channel-orders")
    finally:
        await dead_letters.stop()
        await consumer.stop()


@pytest.fixture
async def topics(bootstrap):
    topic, dlq_topic = await make_topics(bootstrap)
    yield topic, dlq_topic
    await delete_topics(bootstrap, topic, dlq_topic)


async def redriven_records(bootstrap: str, topic: str) -> list:
    # read_dead_letters reads any topic from beginning to end.
    return [record for record in await read_dead_letters(bootstrap, topic) if record.header(REDRIVEN_FROM)]


async def test_list_then_redrive_all_once(bootstrap, topics):
    topic, dlq_topic = topics
    await dead_letter(bootstrap, topic, [(b"web:1", b'{"order": 1}'), (b"web:2", b'{"order": 2}')])

    dead_letters = await read_dead_letters(bootstrap, dlq_topic)
    assert [(record.offset, record.reason, record.original_topic) for record in dead_letters] == [
        (0, "schema_invalid", topic), (1, "schema_invalid", topic)]
    originals = {(record.partition, record.offset): record
                 for record in await read_dead_letters(bootstrap, topic)}
    for record in dead_letters:
        assert originals[record.original_partition, record.original_offset].key == record.key
    assert "lines.0.quantity: bad in" in dead_letters[0].error

    result = await redrive(bootstrap, dlq_topic)
    assert ([record.position for record in result.redriven], result.skipped) == (["0@0", "0@1"], [])

    arrived = sorted(await redriven_records(bootstrap, topic), key=lambda record: record.key)
    assert [(record.key, record.value) for record in arrived] == [
        (b"web:1", b'{"order": 1}'), (b"web:2", b'{"order": 2}')]
    assert [record.header(REDRIVEN_FROM) for record in arrived] == [f"{dlq_topic}:0:0", f"{dlq_topic}:0:1"]
    for record in arrived:
        assert record.header("event_id") in {"e0", "e1"}  # original headers kept
        assert not [name for name, _ in record.headers if name.startswith("dlq_")]
        original = next(dead for dead in dead_letters if dead.key == record.key)
        assert record.partition == original.original_partition  # same key, same partition

    again = await redrive(bootstrap, dlq_topic)
    assert (again.redriven, again.skipped) == ([], [])
    assert len(await redriven_records(bootstrap, topic)) == 2


async def test_picked_offsets_dry_run_and_all_do_not_overlap(bootstrap, topics):
    topic, dlq_topic = topics
    messages = [(f"web:{n}".encode(), f'{{"order": {n}}}'.encode()) for n in range(3)]
    await dead_letter(bootstrap, topic, messages)

    dry = await redrive(bootstrap, dlq_topic, offsets=[1], dry_run=True)
    assert [record.position for record in dry.redriven] == ["0@1"] and dry.dry_run
    assert await redriven_records(bootstrap, topic) == []

    picked = await redrive(bootstrap, dlq_topic, offsets=[1, (0, 7)])
    assert [record.position for record in picked.redriven] == ["0@1"]
    assert picked.skipped == [("0@7", "no such dead letter")]

    rest = await redrive(bootstrap, dlq_topic)
    assert [record.position for record in rest.redriven] == ["0@0", "0@2"]
    assert rest.skipped == [("0@1", "already redriven")]

    repeat = await redrive(bootstrap, dlq_topic, offsets=[0, 1, 2])
    assert repeat.redriven == [] and len(repeat.skipped) == 3
    assert sorted(record.value for record in await redriven_records(bootstrap, topic)) == [
        b'{"order": 0}', b'{"order": 1}', b'{"order": 2}']


def test_command_line_list_and_redrive(bootstrap, capsys):
    topic, dlq_topic = asyncio.run(make_topics(bootstrap))
    try:
        asyncio.run(dead_letter(bootstrap, topic, [(b"web:9", b'{"order": 9}')]))

        assert dlq_cli.main(["list", topic, "--bootstrap", bootstrap]) == 0
        table = capsys.readouterr().out.splitlines()
        assert table[0].split()[:3] == ["DLQ", "FAILED", "AT"]
        assert table[1].startswith("0@0") and "schema_invalid" in table[1] and f"{topic}[" in table[1]
        assert '{"order": 9}' in table[1] and "web:9" in table[1]

        assert dlq_cli.main(["list", dlq_topic, "--json", "--bootstrap", bootstrap]) == 0
        assert '"dlq_reason": "schema_invalid"' in capsys.readouterr().out

        assert dlq_cli.main(["redrive", topic, "--all", "--dry-run", "--bootstrap", bootstrap]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "redriven 0, skipped 0 (dry run: would redrive 1)"
        assert dlq_cli.main(["redrive", topic, "--all", "--bootstrap", bootstrap]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "redriven 1, skipped 0"
        assert dlq_cli.main(["redrive", topic, "--offset", "0", "--bootstrap", bootstrap]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "redriven 0, skipped 1"
    finally:
        asyncio.run(delete_topics(bootstrap, topic, dlq_topic))


async def delete_records_before(bootstrap: str, dlq_topic: str, offset: int) -> None:
    """What retention does: the partition's log now starts at `offset`."""
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(dlq_topic, 0): RecordsToDelete(offset)})
    finally:
        await admin.close()


def test_dead_letters_deleted_by_retention_are_reported_expired_not_redriven(bootstrap, capsys):
    topic, dlq_topic = asyncio.run(make_topics(bootstrap))
    cli = ["--bootstrap", bootstrap]
    try:
        asyncio.run(dead_letter(bootstrap, topic, [(f"web:{n}".encode(), f'{{"order": {n}}}'.encode())
                                                   for n in range(5)]))
        assert dlq_cli.main(["redrive", topic, "--offset", "1", *cli]) == 0
        asyncio.run(delete_records_before(bootstrap, dlq_topic, 3))  # 0@1 was redriven, 0@0 and 0@2 were not
        capsys.readouterr()

        assert dlq_cli.main(["redrive", topic, "--offset", "1", "2", *cli]) == dlq_cli.EXIT_EXPIRED
        assert capsys.readouterr().out.splitlines() == [
            "skipped 0@1: deleted by retention, redriven or reported before",
            "expired 0@2..2: 1 dead letter deleted by retention before being redriven",
            "redriven 0, skipped 1, expired 1"]

        assert dlq_cli.main(["redrive", topic, "--all", *cli]) == dlq_cli.EXIT_EXPIRED
        output = capsys.readouterr().out.splitlines()
        assert output[-3:] == ["expired 0@0..0: 1 dead letter deleted by retention before being redriven",
                               "expired 0@2..2: 1 dead letter deleted by retention before being redriven",
                               "redriven 2, skipped 0, expired 2"]
        assert dlq_cli.main(["redrive", topic, "--all", *cli]) == 0  # reported once
        assert capsys.readouterr().out.splitlines()[-1] == "redriven 0, skipped 0"
        assert sorted(record.value for record in asyncio.run(redriven_records(bootstrap, topic))) == [
            b'{"order": 1}', b'{"order": 3}', b'{"order": 4}']
    finally:
        asyncio.run(delete_topics(bootstrap, topic, dlq_topic))


async def test_a_dead_letter_cut_to_fit_is_not_redriven(bootstrap, topics):
    topic, dlq_topic = topics
    await produce(bootstrap, dlq_topic, [(b"web:1", b'{"order": 1, "lines": [')], [
        (DLQ_PAYLOAD_TRUNCATED, b"1048000"), (DLQ_ORIGINAL_TOPIC, topic.encode()), (DLQ_ORIGINAL_PARTITION, b"2"),
        (DLQ_ORIGINAL_OFFSET, b"5")])
    result = await redrive(bootstrap, dlq_topic)
    assert result.redriven == []
    assert result.skipped == [("0@0", f"value truncated when dead-lettered: replay the original at {topic}[2]@5")]
    assert await redriven_records(bootstrap, topic) == []


def test_topic_names_get_the_prefix_and_suffix(monkeypatch):
    monkeypatch.setenv("ECOMOPS_TOPIC_PREFIX", "t1.")
    assert dlq_cli.dead_letter_topic_name("channel.orders.v1") == "t1.channel.orders.v1.dlq"
    assert dlq_cli.dead_letter_topic_name("t1.channel.orders.v1.dlq") == "t1.channel.orders.v1.dlq"
    assert dlq_cli.parse_position("12") == (0, 12) and dlq_cli.parse_position("2@5") == (2, 5)
