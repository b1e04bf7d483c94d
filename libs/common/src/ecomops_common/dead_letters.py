"""Dead letters over every service's HTTP API (ServiceDefinition.build includes this router): those of the
service's own consumers, listed, and one redriven through the consumer that dead-lettered it, with the caller's
token (the ops console's inbox, through the control service).

A redrive reads the one dead letter (a consumer without a group: no group's offsets move), rebuilds the original
record (its topic, partition, offset, key, value and headers, without the dlq_* ones) and hands it to that
consumer's own decoding and handling (messaging.BatchConsumer.redeliver): the same unit of work and inbox as a
fresh delivery, so redriving an event that was handled since changes nothing. Unlike `ecomops-dlq redrive`,
nothing is republished: this replica handles the record at once and the answer says how it went. A dead letter
is not marked as redriven: the inbox makes a second redrive a no-op."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ecomops_common.access import caller
from ecomops_common.auth import AUDITOR, SUPERVISOR, Principal
from ecomops_common.contracts.types import INT4_MAX, INT8_MAX
from ecomops_common.dlq_cli import REDRIVEN_FROM, DeadLetterRecord, partitions_of, read_records
from ecomops_common.errors import NotFound
from ecomops_common.kafka_security import connection_options
from ecomops_common.messaging import (
    DLQ_CONSUMER,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_PAYLOAD_TRUNCATED,
    BatchConsumer,
    MessageRejected,
)
from ecomops_common.resilience import is_transient
from ecomops_common.settings import ServiceSettings
from ecomops_common.topics import dead_letter_topic

T = TypeVar("T")
log = logging.getLogger(__name__)

ANSWER_WITHIN_S = 20.0  # Kafka (or, while handling, the database) not answering by then: 503, retry later
KAFKA_TIMEOUT_MS = 10_000
READ_WINDOW = 500  # dead letters read per step when listing, newest first
DETAIL_LIMIT = 2000  # characters of a refusal's detail, as of a dead letter's dlq_error

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])
UNAVAILABLE = {503: {"description": "Kafka (or, redriving, the database) is unavailable: retry after Retry-After "
                                    "seconds"}}
# Kafka's legal topic names: anything else is refused before Kafka is asked.
DeadLetterTopic = Annotated[str, Path(min_length=1, max_length=249, pattern=r"^[A-Za-z0-9._-]+$",
                                      description="The dead-letter topic, e.g. order.events.v1.dlq")]
Partition = Annotated[int, Path(ge=0, le=INT4_MAX, description="Its partition")]
Offset = Annotated[int, Path(ge=0, le=INT8_MAX, description="The dead letter's offset there")]


class DeadLetterView(BaseModel):
    dlq_topic: str
    partition: int
    offset: int
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    consumer: str = Field(description="The consumer group that could not handle it: one of this service's")
    reason: str = Field(description="unparseable, schema_invalid, unknown_version or handler_error")
    error: str = Field(description="What was wrong, up to 2,000 characters")
    failed_at: str = Field(description="When, ISO 8601 in UTC")
    key: str | None = Field(description="The record's key as text (bytes that are not UTF-8 replaced)")
    payload_truncated: bool = Field(description="Cut to fit the dead-letter topic: it cannot be redriven (replay "
                                                "the original record, where original_* point)")


class RedriveOutcome(BaseModel):
    outcome: Literal["handled", "ignored"] = Field(
        description="handled: the consumer handled it now, or had handled it already (its inbox has the event); "
                    "ignored: the consumer no longer takes its message type")


class RedriveRefusal(BaseModel):
    reason: str = Field(description="Why it would be dead-lettered again (unparseable, schema_invalid, "
                                    "unknown_version, handler_error), or why it cannot be redriven: "
                                    "payload_truncated, malformed_dead_letter (its dlq_original_* headers)")
    detail: str


@router.get("", response_model=list[DeadLetterView], dependencies=[caller(SUPERVISOR, AUDITOR)], responses=UNAVAILABLE)
async def dead_letters(request: Request,
                       topic: Annotated[str | None, Query(max_length=249, description=(
                           "A topic this service consumes, e.g. order.events.v1 (default: all of them)"))] = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """The dead letters of this service's consumers, newest first; redrive one with POST .../redrive."""
    consumers = request.app.state.runtime.consumers
    settings: ServiceSettings = request.app.state.runtime.settings
    if topic is not None:
        consumers = [consumer for consumer in consumers if consumer.topic in (topic, settings.topic(topic))]
        if not consumers:
            raise RequestValidationError([{"type": "value_error", "loc": ("query", "topic"), "input": topic,
                                           "msg": "not a topic this service consumes"}])
    groups: dict[str, set[str]] = {}
    for consumer in consumers:
        groups.setdefault(dead_letter_topic(consumer.topic), set()).add(consumer.name)
    if not groups:  # a service that consumes nothing (the catalog) has no dead letters
        return []
    found = await _within_deadline(_newest(settings, groups, limit), "reading dead letters")
    return [_view(record) for record in found]


@router.post("/{dlq_topic}/{partition}/{offset}/redrive", response_model=RedriveOutcome, responses={
    404: {"description": "No such dead letter, or not one of this service's consumers"},
    409: {"model": RedriveRefusal, "description": "It would be dead-lettered again, or its payload was truncated: "
                                                  "nothing changed"}, **UNAVAILABLE})
async def redrive(request: Request, dlq_topic: DeadLetterTopic, partition: Partition, offset: Offset,
                  by: Annotated[Principal, caller(SUPERVISOR)]) -> Any:
    """Handles the dead letter again, exactly as a fresh delivery to the consumer that dead-lettered it (after a
    fix): at most once per event, as the consumer's inbox keeps it. The dead letter stays where it is."""
    runtime = request.app.state.runtime
    consumers: dict[str, BatchConsumer] = {consumer.name: consumer for consumer in runtime.consumers
                                           if dead_letter_topic(consumer.topic) == dlq_topic}
    if not consumers:
        raise NotFound(f"{dlq_topic} is not the dead-letter topic of any of this service's consumers")
    where = f"{dlq_topic}[{partition}]@{offset}"
    dead_letter = await _within_deadline(_read_one(runtime.settings, TopicPartition(dlq_topic, partition), offset),
                                         "reading the dead letter")
    if dead_letter is None:
        raise NotFound(f"no dead letter at {where}")
    consumer = consumers.get(dead_letter.header(DLQ_CONSUMER) or "")
    if consumer is None or dead_letter.original_topic != consumer.topic:
        raise NotFound(f"the dead letter at {where} is not of this service's consumers "
                       f"(consumer {dead_letter.header(DLQ_CONSUMER)!r})")
    if dead_letter.header(DLQ_PAYLOAD_TRUNCATED) is not None:
        return _refusal(where, by, "payload_truncated", "its value was cut to fit the dead-letter topic: replay the "
                        f"original at {consumer.topic}[{dead_letter.header(DLQ_ORIGINAL_PARTITION)}]"
                        f"@{dead_letter.header(DLQ_ORIGINAL_OFFSET)}")
    original = _original_record(dead_letter)
    if original is None:
        return _refusal(where, by, "malformed_dead_letter", "its dlq_original_partition or dlq_original_offset "
                                                            "header is not a number")
    try:
        handled = await _within_deadline(consumer.redeliver(original), "handling the dead letter")
    except MessageRejected as rejected:
        return _refusal(where, by, rejected.reason, rejected.detail)
    outcome = "handled" if handled else "ignored"
    log.info("%s redrove the dead letter at %s through %s: %s", by.subject, where, consumer.name, outcome)
    return RedriveOutcome(outcome=outcome)


def _refusal(where: str, by: Principal, reason: str, detail: str) -> JSONResponse:
    log.warning("%s redrove the dead letter at %s: refused again: %s: %s", by.subject, where, reason, detail[:300])
    # A handler's message may carry anything: lone surrogates cannot be encoded in the answer.
    detail = detail[:DETAIL_LIMIT].encode("utf-8", "replace").decode()
    return JSONResponse(RedriveRefusal(reason=reason, detail=detail).model_dump(), status_code=409)


async def _within_deadline(work: Awaitable[T], what: str) -> T:
    try:
        return await asyncio.wait_for(work, ANSWER_WITHIN_S)
    except Exception as error:
        if is_transient(error):  # Kafka (or the database) down: the service's problem, worth a retry
            raise HTTPException(503, f"{what}: temporarily unavailable ({type(error).__name__}), retry",
                                headers={"Retry-After": "5"}) from error
        raise


@asynccontextmanager
async def _kafka(settings: ServiceSettings) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    """An admin client and a consumer as the service's own Kafka principal. The consumer has no group: it
    joins nothing and commits nothing (READ on the dead-letter topics is all it needs)."""
    options = {**connection_options(settings.kafka_bootstrap_servers, settings.kafka),
               "client_id": f"{settings.service_name}-dead-letters", "request_timeout_ms": KAFKA_TIMEOUT_MS}
    admin = AIOKafkaAdminClient(**options)
    consumer = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        await admin.start()
        await consumer.start()
        yield admin, consumer
    finally:
        await consumer.stop()
        await admin.close()


async def _newest(settings: ServiceSettings, groups: dict[str, set[str]], limit: int) -> list[DeadLetterRecord]:
    """The newest `limit` dead letters of the groups, per dead-letter topic: read backwards, a window at a time."""
    found: list[DeadLetterRecord] = []
    async with _kafka(settings) as (admin, consumer):
        for dlq_topic, names in sorted(groups.items()):
            try:
                partitions = await partitions_of(admin, dlq_topic)
            except LookupError:  # not created yet: the service has not started consuming
                continue
            consumer.assign(partitions)
            beginning, end = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
            for partition in partitions:
                stop, theirs = end[partition], []
                while stop > beginning[partition] and len(theirs) < limit:
                    start = max(beginning[partition], stop - READ_WINDOW)
                    theirs += [record for record in await read_records(consumer, {partition: (start, stop)})
                               if record.header(DLQ_CONSUMER) in names]
                    stop = start
                found += theirs
    return sorted(found, key=lambda record: (record.timestamp_ms, record.offset), reverse=True)[:limit]


async def _read_one(settings: ServiceSettings, partition: TopicPartition, offset: int) -> DeadLetterRecord | None:
    async with _kafka(settings) as (admin, consumer):
        try:
            partitions = await partitions_of(admin, partition.topic)
        except LookupError:
            return None
        if partition not in partitions:
            return None
        consumer.assign([partition])
        beginning = (await consumer.beginning_offsets([partition]))[partition]
        end = (await consumer.end_offsets([partition]))[partition]
        if not beginning <= offset < end:  # checked first: a seek outside the log would start over at its beginning
            return None
        records = await read_records(consumer, {partition: (offset, offset + 1)})
    return next((record for record in records if record.offset == offset), None)  # none: a gap (compaction)


def _original_record(dead_letter: DeadLetterRecord) -> ConsumerRecord | None:
    """The record as the consumer first received it, at its original position (what the inbox keys on when the
    record has no event id), plus `redriven_from` naming the dead letter; None if the position is unreadable."""
    partition = _number(dead_letter.header(DLQ_ORIGINAL_PARTITION))
    offset = _number(dead_letter.header(DLQ_ORIGINAL_OFFSET))
    if partition is None or offset is None:
        return None
    headers = [*dead_letter.original_headers, (REDRIVEN_FROM, dead_letter.redrive_marker.encode())]
    return ConsumerRecord(topic=dead_letter.original_topic, partition=partition, offset=offset,
                          timestamp=-1, timestamp_type=0,  # when the original was written is not kept
                          key=dead_letter.key, value=dead_letter.value, checksum=None,
                          serialized_key_size=len(dead_letter.key or b""),
                          serialized_value_size=len(dead_letter.value or b""), headers=headers)


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _view(record: DeadLetterRecord) -> DeadLetterView:
    return DeadLetterView(
        dlq_topic=record.topic, partition=record.partition, offset=record.offset,
        original_topic=record.original_topic, original_partition=_number(record.header(DLQ_ORIGINAL_PARTITION)),
        original_offset=_number(record.header(DLQ_ORIGINAL_OFFSET)), consumer=record.header(DLQ_CONSUMER) or "",
        reason=record.reason, error=record.error, failed_at=record.failed_at,
        key=record.key.decode("utf-8", "replace") if record.key is not None else None,
        payload_truncated=record.header(DLQ_PAYLOAD_TRUNCATED) is not None)
