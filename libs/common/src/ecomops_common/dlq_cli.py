"""`ecomops-dlq`: inspect dead letters and redrive them to the topic they came from.

A dead letter is the original record (key, value, headers) plus the dlq_* headers that
messaging.DeadLetters adds. Redriving publishes the original record again, with a `redriven_from`
header naming the dead letter, so the consumer that rejected it gets another go (after a fix).

Which dead letters were redriven is kept by the consumer group `ecomops-dlq-redrive` on the
dead-letter topic, so no dead letter is redriven twice, across runs and operators:
- its committed offset on a partition means: every dead letter below it has been redriven;
- dead letters redriven one by one above that offset (`--offset`) are listed in the commit's
  metadata, and the offset moves past them once the dead letters before them are redriven too.
`redrive --all` redrives every dead letter not redriven yet, in order; `redrive --offset N` redrives
just the named ones (N is an offset on partition 0, dead-letter topics have one; `P@N` names
another partition). Each publish is followed by its commit: a crash between the two can redrive one
dead letter twice, never lose one.

Dead letters that retention deleted before they were redriven are reported as expired, never counted
as redriven, and the command exits with status 3. `redrive --all` reports them once: it then records
them as done, since they can no longer be redriven. A dead letter whose value was cut to fit the
dead-letter topic (header `dlq_payload_truncated`) is skipped: replay the original record instead.
"""

import argparse
import asyncio
import base64
import json
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ecomops_common.kafka_security import connection_options
from ecomops_common.messaging import (
    DLQ_ERROR,
    DLQ_FAILED_AT,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_TOPIC,
    DLQ_PAYLOAD_TRUNCATED,
    DLQ_REASON,
)
from ecomops_common.producer import kafka_producer
from ecomops_common.resilience import retry_transient
from ecomops_common.topics import DEAD_LETTER_SUFFIX

REDRIVE_GROUP = "ecomops-dlq-redrive"
REDRIVEN_FROM = "redriven_from"  # header on a redriven record: <dlq topic>:<partition>:<offset>
DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
EXIT_EXPIRED = 3  # some dead letters were deleted by retention before they were redriven


@dataclass(frozen=True)
class DeadLetterRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_record(cls, record: ConsumerRecord) -> "DeadLetterRecord":
        return cls(record.topic, record.partition, record.offset, record.timestamp, record.key, record.value,
                   tuple((name, value or b"") for name, value in record.headers or ()))

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        return values[-1].decode("utf-8", "replace") if values else None

    @property
    def position(self) -> str:
        return f"{self.partition}@{self.offset}"

    @property
    def reason(self) -> str:
        return self.header(DLQ_REASON) or "?"

    @property
    def error(self) -> str:
        return self.header(DLQ_ERROR) or ""

    @property
    def failed_at(self) -> str:
        return self.header(DLQ_FAILED_AT) or ""

    @property
    def original_topic(self) -> str:
        # Without the header (dead-lettered by another tool) the naming convention still tells.
        return self.header(DLQ_ORIGINAL_TOPIC) or self.topic.removesuffix(DEAD_LETTER_SUFFIX)

    @property
    def original_partition(self) -> int | None:
        value = self.header(DLQ_ORIGINAL_PARTITION)
        return int(value) if value else None

    @property
    def original_offset(self) -> int | None:
        value = self.header(DLQ_ORIGINAL_OFFSET)
        return int(value) if value else None

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record had before it was dead-lettered (and before any earlier redrive)."""
        return [(name, value) for name, value in self.headers
                if not name.startswith("dlq_") and name != REDRIVEN_FROM]

    @property
    def redrive_marker(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    def as_json(self) -> dict:
        value, value_encoding = _text_or_base64(self.value)
        key, key_encoding = _text_or_base64(self.key)
        return {
            "dlq_topic": self.topic, "partition": self.partition, "offset": self.offset,
            "timestamp_ms": self.timestamp_ms, "key": key, "key_encoding": key_encoding,
            "headers": {name: value.decode("utf-8", "replace") for name, value in self.headers},
            "value": value, "value_encoding": value_encoding,
        }


def _text_or_base64(data: bytes | None) -> tuple[str | None, str]:
    if data is None:
        return None, "none"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def dead_letter_topic_name(name: str, prefix: str | None = None) -> str:
    """`channel.orders.v1` or `channel.orders.v1.dlq`, with ECOMOPS_TOPIC_PREFIX unless already there."""
    prefix = os.environ.get("ECOMOPS_TOPIC_PREFIX", "") if prefix is None else prefix
    if prefix and not name.startswith(prefix):
        name = prefix + name
    return name if name.endswith(DEAD_LETTER_SUFFIX) else name + DEAD_LETTER_SUFFIX


# --- reading --------------------------------------------------------------------------------------


@asynccontextmanager
async def _admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    # All topics are described: asking for one by name could auto-create it on a lenient broker.
    for described in await admin.describe_topics():
        if described["topic"] == topic and not described["error_code"]:
            return sorted(TopicPartition(topic, entry["partition"]) for entry in described["partitions"])
    raise LookupError(f"topic {topic!r} does not exist")


async def read_records(consumer: AIOKafkaConsumer,
                       ranges: dict[TopicPartition, tuple[int, int]]) -> list[DeadLetterRecord]:
    """The records at offsets [start, end) of each assigned partition (also the services' dead-letter routes)."""
    for partition, (start, _) in ranges.items():
        consumer.seek(partition, start)
    records: list[DeadLetterRecord] = []
    pending = {partition for partition, (start, end) in ranges.items() if start < end}
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=1000)
        for partition, batch in batches.items():
            records += [DeadLetterRecord.from_record(record) for record in batch
                        if record.offset < ranges[partition][1]]
        # Positions, not record offsets, decide: offsets can have gaps (compaction, transaction markers).
        pending = {partition for partition in pending
                   if await consumer.position(partition) < ranges[partition][1]}
    return sorted(records, key=lambda record: (record.partition, record.offset))


async def read_dead_letters(bootstrap: str, dlq_topic: str) -> list[DeadLetterRecord]:
    """Every dead letter currently in the topic, oldest first; no consumer group involved."""
    async with _admin_client(bootstrap) as admin:
        partitions = await partitions_of(admin, dlq_topic)
    consumer = AIOKafkaConsumer(**connection_options(bootstrap), enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(partitions)
        beginning = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return await read_records(consumer, {partition: (beginning[partition], end[partition])
                                      for partition in partitions})
    finally:
        await consumer.stop()


# --- redriving ------------------------------------------------------------------------------------


@dataclass
class RedriveProgress:
    """One partition's bookkeeping: all below `committed` redriven, plus the offsets in `above`."""

    committed: int
    above: set[int] = field(default_factory=set)

    @classmethod
    def parse(cls, committed: int, metadata: str | None) -> "RedriveProgress":
        above = set(json.loads(metadata).get("redriven", [])) if metadata else set()
        progress = cls(max(committed, 0), above)  # -1: nothing committed yet
        progress.advance()
        return progress

    def not_done_below(self, end: int) -> list[tuple[int, int]]:
        """The (first, last) offset ranges below `end` not redriven."""
        ranges, start = [], self.committed
        for offset in sorted(offset for offset in self.above if offset < end):
            if offset > start:
                ranges.append((start, offset - 1))
            start = offset + 1
        return ranges + [(start, end - 1)] if start < end else ranges

    def skip_to(self, offset: int) -> None:
        """Everything below `offset` counts as done (reported as expired: it can no longer be redriven)."""
        self.committed = max(self.committed, offset)
        self.advance()

    def is_done(self, offset: int) -> bool:
        return offset < self.committed or offset in self.above

    def mark_done(self, offset: int) -> None:
        self.above.add(offset)
        self.advance()

    def advance(self) -> None:
        while self.committed in self.above:
            self.above.discard(self.committed)
            self.committed += 1
        self.above = {offset for offset in self.above if offset > self.committed}

    def metadata(self) -> str:
        return json.dumps({"redriven": sorted(self.above)}) if self.above else ""


@dataclass
class RedriveResult:
    redriven: list[DeadLetterRecord] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (position, why)
    expired: list[tuple[int, int, int]] = field(default_factory=list)  # (partition, first, last offset)
    dry_run: bool = False


def _as_position(offset: int | tuple[int, int]) -> tuple[int, int]:
    return (0, offset) if isinstance(offset, int) else offset


async def redrive(bootstrap: str, dlq_topic: str, offsets: Iterable[int | tuple[int, int]] | None = None,
                  dry_run: bool = False, group: str = REDRIVE_GROUP) -> RedriveResult:
    """Republish dead letters not redriven yet: all of them, or those at `offsets` (int: partition 0)."""
    result = RedriveResult(dry_run=dry_run)
    async with _admin_client(bootstrap) as admin:
        partitions = await partitions_of(admin, dlq_topic)
        # The admin client, unlike the consumer, returns the commit's metadata too.
        committed = await retry_transient(
            lambda: admin.list_consumer_group_offsets(group, partitions=partitions), what="reading redrive offsets")
    consumer = AIOKafkaConsumer(**connection_options(bootstrap), group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    producer = kafka_producer(bootstrap)
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(partitions)  # manual assignment: the group is only a place to keep offsets
        log_start = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        progress = {partition: RedriveProgress.parse(*committed.get(partition, (-1, ""))[:2])
                    for partition in partitions}

        picked: set[tuple[int, int]] | None = None
        if offsets is None:
            for partition in partitions:
                expired = progress[partition].not_done_below(log_start[partition])
                result.expired += [(partition.partition, first, last) for first, last in expired]
                if expired and not dry_run:
                    progress[partition].skip_to(log_start[partition])
                    await consumer.commit({partition: (progress[partition].committed, progress[partition].metadata())})
            ranges = {partition: (max(progress[partition].committed, log_start[partition]), end[partition])
                      for partition in partitions}
        else:
            picked = {_as_position(offset) for offset in offsets}
            ranges = {}
            for partition in partitions:
                wanted = [offset for number, offset in picked if number == partition.partition]
                if wanted:
                    ranges[partition] = (max(min(wanted), log_start[partition]), min(max(wanted) + 1, end[partition]))
        records = {(record.partition, record.offset): record for record in await read_records(consumer, ranges)}
        if picked is not None:
            for number, offset in sorted(picked - set(records)):
                partition = TopicPartition(dlq_topic, number)
                if partition not in log_start or offset >= log_start[partition]:
                    result.skipped.append((f"{number}@{offset}", "no such dead letter"))
                elif progress[partition].is_done(offset):
                    result.skipped.append((f"{number}@{offset}", "deleted by retention, redriven or reported before"))
                else:
                    result.expired.append((number, offset, offset))

        for (number, offset), record in sorted(records.items()):
            if picked is not None and (number, offset) not in picked:
                continue
            partition = TopicPartition(dlq_topic, number)
            if progress[partition].is_done(offset):
                result.skipped.append((record.position, "already redriven"))
                continue
            if record.header(DLQ_PAYLOAD_TRUNCATED) is not None:
                result.skipped.append((record.position, f"value truncated when dead-lettered: replay the original at "
                                                         f"{record.original_topic}[{record.original_partition}]"
                                                         f"@{record.original_offset}"))
                continue
            result.redriven.append(record)
            if dry_run:
                continue
            await producer.send_and_wait(
                record.original_topic, record.value, key=record.key,
                headers=[*record.original_headers, (REDRIVEN_FROM, record.redrive_marker.encode())])
            done = progress[partition]
            done.mark_done(offset)
            await consumer.commit({partition: (done.committed, done.metadata())})

        if offsets is None and not dry_run:
            # Everything up to the end was read: skip past offset gaps a record-by-record advance leaves.
            for partition in partitions:
                if progress[partition].committed < end[partition]:
                    progress[partition] = RedriveProgress(end[partition])
                    await consumer.commit({partition: (end[partition], "")})
    finally:
        await producer.stop()
        await consumer.stop()
    return result


# --- the command ----------------------------------------------------------------------------------


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def value_preview(value: bytes | None, width: int = 80) -> str:
    if value is None:
        return "<null>"
    try:
        return _one_line(value.decode("utf-8"), width)
    except UnicodeDecodeError:
        return _one_line(repr(value[:width]), width)


def format_table(records: list[DeadLetterRecord]) -> str:
    header = ("DLQ", "FAILED AT", "REASON", "ORIGINAL", "KEY", "ERROR", "VALUE")
    rows = [header] + [(
        record.position,
        record.failed_at,
        record.reason,
        f"{record.original_topic}[{record.original_partition}]@{record.original_offset}",
        value_preview(record.key, 40),
        _one_line(record.error, 60),
        value_preview(record.value),
    ) for record in records]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows)


def parse_position(text: str) -> tuple[int, int]:
    """`12` (partition 0) or `1@12`."""
    partition, _, offset = text.rpartition("@")
    try:
        return int(partition or 0), int(offset)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offset (N or PARTITION@N)") from None


async def _list(args: argparse.Namespace, dlq_topic: str) -> int:
    records = await read_dead_letters(args.bootstrap, dlq_topic)
    if args.json:
        for record in records:
            print(json.dumps(record.as_json(), ensure_ascii=False))
    elif records:
        print(format_table(records))
    else:
        print(f"no dead letters in {dlq_topic}")
    return 0


async def _redrive(args: argparse.Namespace, dlq_topic: str) -> int:
    result = await redrive(args.bootstrap, dlq_topic, None if args.all else args.offset, dry_run=args.dry_run)
    verb = "would redrive" if result.dry_run else "redriven"
    for record in result.redriven:
        print(f"{verb} {record.position} -> {record.original_topic} (key {value_preview(record.key, 40)})")
    for position, why in result.skipped:
        print(f"skipped {position}: {why}")
    expired = 0
    for partition, first, last in result.expired:
        count = last - first + 1
        expired += count
        letters = "dead letter" if count == 1 else "dead letters"
        print(f"expired {partition}@{first}..{last}: {count} {letters} deleted by retention before being redriven")
    summary = f"redriven {0 if result.dry_run else len(result.redriven)}, skipped {len(result.skipped)}"
    summary += f", expired {expired}" if expired else ""
    print(summary + (f" (dry run: would redrive {len(result.redriven)})" if result.dry_run else ""))
    return EXIT_EXPIRED if expired else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecomops-dlq", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP),
                        help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="show the dead letters of a topic")
    listing.add_argument("topic", help="e.g. channel.orders.v1 or channel.orders.v1.dlq")
    listing.add_argument("--json", action="store_true", help="one JSON object per dead letter")
    redriving = commands.add_parser("redrive", help="republish dead letters to their original topic")
    redriving.add_argument("topic", help="e.g. channel.orders.v1 or channel.orders.v1.dlq")
    picks = redriving.add_mutually_exclusive_group(required=True)
    picks.add_argument("--all", action="store_true", help="every dead letter not redriven yet")
    picks.add_argument("--offset", type=parse_position, nargs="+", metavar="N",
                       help="these dead letters (N on partition 0, or PARTITION@N)")
    redriving.add_argument("--dry-run", action="store_true",
                           help="show what would be redriven, publish nothing")
    # --bootstrap is accepted after the subcommand too.
    for subparser in (listing, redriving):
        subparser.add_argument("--bootstrap", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    dlq_topic = dead_letter_topic_name(args.topic)
    command = _list if args.command == "list" else _redrive
    try:
        return asyncio.run(command(args, dlq_topic))
    except LookupError as error:
        print(f"ecomops-dlq: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
