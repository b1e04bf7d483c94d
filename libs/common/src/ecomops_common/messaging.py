"""Consuming: typed batch subscribers with manual commits, inbox-friendly deliveries, dead letters.

Per batch: decode every record (bad ones go to `<topic>.dlq` with the reason), hand the good ones to
the service's handler, which commits its database transaction (inbox included), then publish the
dead letters and only then commit the Kafka offsets. A crash anywhere before the offset commit
means redelivery, which the inbox turns into a no-op. Transient failures (database or broker down)
are retried with backoff, never skipped; a handler error that is not transient isolates the message
that causes it and dead-letters that one alone.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import trace
from pydantic import BaseModel, ValidationError, create_model

from ecomops_common import envelope as env
from ecomops_common import metrics, telemetry
from ecomops_common.contracts.types import storable_json
from ecomops_common.kafka_security import KafkaSecurity
from ecomops_common.producer import kafka_producer
from ecomops_common.resilience import retry_transient
from ecomops_common.topics import dead_letter_topic

T = TypeVar("T")
log = logging.getLogger(__name__)

# Dead-letter headers: why, and where the message came from, so it can be inspected and redriven.
DLQ_REASON = "dlq_reason"
DLQ_ERROR = "dlq_error"
DLQ_ORIGINAL_TOPIC = "dlq_original_topic"
DLQ_ORIGINAL_PARTITION = "dlq_original_partition"
DLQ_ORIGINAL_OFFSET = "dlq_original_offset"
DLQ_CONSUMER = "dlq_consumer"
DLQ_FAILED_AT = "dlq_failed_at"
DLQ_PAYLOAD_TRUNCATED = "dlq_payload_truncated"  # the record did not fit as a dead letter: its size in bytes

# Kafka refuses messages above about 1 MB (the producer's max_request_size, the topic's max.message.bytes):
# a record up to there, plus the dlq_* headers (10 KiB at most), still fits.
DEAD_LETTER_MAX_BYTES = 1_000_000
_KEPT_VALUE_BYTES = 64 * 1024
_KEPT_BYTES = 1024  # of the key, and characters of each header's name and value
_KEPT_HEADERS = 64
_MAX_LINKS = 128


class MessageRejected(Exception):
    """A message that can never be handled: reason is unparseable|schema_invalid|unknown_version|..."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


IGNORED = object()  # a decoder's answer for a message this consumer has no interest in


@dataclass(frozen=True, slots=True)
class Delivery(Generic[T]):
    record: ConsumerRecord
    headers: dict[str, str]
    message: T
    envelope: env.EventEnvelope | None = None

    @property
    def topic(self) -> str:
        return self.record.topic

    @property
    def partition(self) -> int:
        return self.record.partition

    @property
    def offset(self) -> int:
        return self.record.offset

    @property
    def event_id(self) -> str:
        """The inbox key: the envelope's event id, else the header, else the message's position."""
        if self.envelope is not None:
            return self.envelope.event_id
        return self.headers.get(env.H_EVENT_ID) or f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def traceparent(self) -> str | None:
        """The header first: the relay sets it to its publish span, a child of the envelope's."""
        return self.headers.get(env.H_TRACEPARENT) or (self.envelope.traceparent if self.envelope else None)

    @property
    def correlation_id(self) -> str | None:
        return self.envelope.correlation_id if self.envelope else self.headers.get(env.H_CORRELATION_ID)

    @property
    def occurred_at(self) -> datetime | None:
        """When the fact happened, as its envelope says; None for a bare channel document."""
        return self.envelope.occurred_at if self.envelope else None

    @property
    def raw(self) -> bytes | None:
        return self.record.value


def _header(record: ConsumerRecord, name: str) -> bytes | None:
    """One header's raw value, without decoding the others."""
    return next((value for header, value in record.headers or () if header == name), None)


def record_headers(record: ConsumerRecord) -> dict[str, str]:
    return {name: (value or b"").decode("utf-8", "replace") for name, value in record.headers or ()}


def _schema_error(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()[:20]
    )


def _check_version(headers: dict[str, str], major: int) -> None:
    version = headers.get(env.H_EVENT_VERSION)
    if version is not None and version != str(major):
        raise MessageRejected("unknown_version", f"schema version {version!r}, this topic carries {major}")


def bare_decoder(model: type[BaseModel], major: int) -> Callable[[ConsumerRecord], Any]:
    """For channel topics, whose value is the document itself (connectors do not wrap it)."""

    def decode(record: ConsumerRecord) -> BaseModel:
        _check_version(record_headers(record), major)
        if not record.value:
            raise MessageRejected("unparseable", "empty message")
        try:
            return model.model_validate_json(record.value, context=storable_json(record.value))
        except ValidationError as error:
            if any(e["type"] == "json_invalid" for e in error.errors()):
                raise MessageRejected("unparseable", _schema_error(error)) from None
            raise MessageRejected("schema_invalid", _schema_error(error)) from None

    decode.message_types = {model.__name__: model}  # what it takes, for docs/asyncapi.yaml (tools/api_docs.py)
    return decode


@functools.cache
def typed_envelope(payload_model: type[BaseModel]) -> type[env.EventEnvelope]:
    """EventEnvelope whose payload is `payload_model` (its instances are EventEnvelopes)."""
    return create_model(f"{payload_model.__name__}Envelope", __base__=env.EventEnvelope,
                        payload=(payload_model, ...))


def envelope_decoder(major: int, payload_models: dict[str, type[BaseModel]]) -> Callable[[ConsumerRecord], Any]:
    """For internal topics: the envelope, its version, and the payload of the event types wanted."""

    # One pass per event: the envelope with its payload model in place (parsing into a dict first and validating
    # that again costs a consumer about as much as the first pass).
    typed_envelopes = {event_type.encode(): (event_type, typed_envelope(model))
                       for event_type, model in payload_models.items()}

    def decode(record: ConsumerRecord) -> Any:
        value = record.value or b""
        # The relay copies the event type into a header: an event this consumer does not take is skipped without
        # parsing it (every service reads whole topics of which it takes a few types). A malformed one is the
        # dead letter of the consumers that take its type.
        header_type = _header(record, env.H_EVENT_TYPE)
        if header_type is not None:
            if header_type not in typed_envelopes:
                return IGNORED
            event_type, envelope_type = typed_envelopes[header_type]
            try:
                envelope = envelope_type.model_validate_json(value, context=storable_json(value))
            except ValidationError:
                envelope = None  # the two-pass path below says why
            if envelope is not None and envelope.event_type == event_type and envelope.schema_version == major:
                return envelope, envelope.payload
        try:
            envelope = env.EventEnvelope.model_validate_json(value)
        except ValidationError as error:
            reason = "unparseable" if any(e["type"] == "json_invalid" for e in error.errors()) else "schema_invalid"
            raise MessageRejected(reason, _schema_error(error)) from None
        if envelope.schema_version != major:
            raise MessageRejected("unknown_version",
                                  f"schema version {envelope.schema_version}, this topic carries {major}")
        model = payload_models.get(envelope.event_type)
        if model is None:
            return IGNORED
        try:
            return envelope, model.model_validate(envelope.payload)
        except ValidationError as error:
            raise MessageRejected("schema_invalid", _schema_error(error)) from None

    decode.message_types = dict(payload_models)  # what it takes, for docs/asyncapi.yaml (tools/api_docs.py)
    return decode


class DeadLetters:
    """Publishes dead letters durably (idempotent, acks=all) before the offset is committed.

    A dead letter always fits the broker: a record that would not fit with the dlq_* headers added (a
    malformed message near the maximum message size) keeps the first 64 KiB of its value, the first 1 KiB of
    its key and of its first 64 headers, and gets `dlq_payload_truncated` (its original size in bytes). Such
    a dead letter is for reading, not redriving; the whole record stays in the original topic, where the
    dlq_original_* headers point, for as long as that topic keeps it.
    """

    def __init__(self, bootstrap_servers: str, security: KafkaSecurity | None = None) -> None:
        self.bootstrap_servers, self.security = bootstrap_servers, security
        self._producer: AIOKafkaProducer | None = None

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def send(self, record: ConsumerRecord, reason: str, detail: str, consumer_name: str) -> None:
        key, value, headers = record.key, record.value, record_headers(record)
        size = len(key or b"") + len(value or b"") + sum(len(n.encode()) + len(v.encode()) for n, v in headers.items())
        if size > DEAD_LETTER_MAX_BYTES:
            key, value = key and key[:_KEPT_BYTES], value and value[:_KEPT_VALUE_BYTES]
            headers = {name[:_KEPT_BYTES]: text[:_KEPT_BYTES] for name, text in list(headers.items())[:_KEPT_HEADERS]}
            headers[DLQ_PAYLOAD_TRUNCATED] = str(size)
        headers.update({
            DLQ_REASON: reason,
            DLQ_ERROR: detail[:2000],
            DLQ_ORIGINAL_TOPIC: record.topic,
            DLQ_ORIGINAL_PARTITION: str(record.partition),
            DLQ_ORIGINAL_OFFSET: str(record.offset),
            DLQ_CONSUMER: consumer_name,
            DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
        })
        if self._producer is None:
            producer = kafka_producer(self.bootstrap_servers, self.security)
            await producer.start()
            self._producer = producer
        await self._producer.send_and_wait(dead_letter_topic(record.topic), value, key=key,
                                           headers=[(name, text.encode()) for name, text in headers.items()])
        metrics.DEAD_LETTERS.labels(topic=record.topic, reason=reason).inc()
        log.warning("dead-lettered %s[%d]@%d: %s: %s", record.topic, record.partition, record.offset,
                    reason, detail[:300])


Handler = Callable[[list[Delivery[Any]]], Awaitable[None]]


@dataclass
class BatchConsumer:
    """One consumer group on one topic; `handle` gets the decoded deliveries of each batch."""

    name: str
    topic: str
    decode: Callable[[ConsumerRecord], Any]
    handle: Handler
    max_records: int = 500
    batch_timeout_ms: int = 20
    pace_s: float = 0.0  # a batch at most this often: the records of the pause come as one batch
    _dead_letters: DeadLetters | None = field(default=None, init=False)

    def register(self, broker: KafkaBroker, dead_letters: DeadLetters) -> None:
        self._dead_letters = dead_letters
        # MANUAL: FastStream's default for Kafka commits before handling; process() commits after the DB.
        # A paced consumer lets the broker gather a pause's records into one fetch response (up to 1 MB, at most
        # the pace) and polls no more often either: a few requests and wake-ups a second, busy or idle.
        pace_ms = int(self.pace_s * 1000)
        fetching = {"fetch_min_bytes": 1024 * 1024, "fetch_max_wait_ms": pace_ms} if pace_ms else {}
        subscriber = broker.subscriber(self.topic, ack_policy=AckPolicy.MANUAL, group_id=self.name, batch=True,
                                       max_records=self.max_records,
                                       batch_timeout_ms=max(self.batch_timeout_ms, pace_ms),
                                       auto_offset_reset="earliest", parser=_parse_batch, decoder=_message_itself,
                                       **fetching)
        subscriber(self._on_batch)

    async def _on_batch(self, message: KafkaMessage) -> None:
        started = time.monotonic()
        try:
            await self.process(message.raw_message, message.consumer)
            if self.pace_s and len(message.raw_message) < self.max_records:
                await asyncio.sleep(self.pace_s - (time.monotonic() - started))
        except Exception:
            # Never move on past a batch that was not handled: a later commit would skip it for good.
            log.exception("%s: batch failed, fetching it again", self.name)
            await message.nack()  # seeks every partition back to the batch's first record
            await asyncio.sleep(1)

    async def process(self, records: tuple[ConsumerRecord, ...], consumer: AIOKafkaConsumer) -> None:
        started = time.perf_counter()
        deliveries, rejected = self._decode(records)
        await self._handle_with_isolation(deliveries, rejected)
        for record, reason, detail in rejected:
            await retry_transient(lambda r=record, why=reason, d=detail: self._dead_letters.send(r, why, d, self.name),
                                  what=f"{self.name}: dead-lettering")
        try:
            await consumer.commit()
        except KafkaError as error:  # e.g. a rebalance took the partition: it is redelivered, the inbox skips it
            log.warning("%s: offset commit failed, batch will be redelivered: %r", self.name, error)
        metrics.HANDLER_SECONDS.labels(consumer=self.name).observe(time.perf_counter() - started)
        metrics.MESSAGES_HANDLED.labels(consumer=self.name).inc(len(records))
        self._observe_lag(records, consumer)

    async def redeliver(self, record: ConsumerRecord) -> bool:
        """One record through the batch path's decoding and handling, without dead letters or offsets (a dead
        letter's redrive, ecomops_common.dead_letters): True if handled, False if the decoder ignores it;
        MessageRejected if the batch path would dead-letter it again."""
        deliveries, rejected = self._decode([record])
        await self._handle_with_isolation(deliveries, rejected)
        if rejected:
            _, reason, detail = rejected[0]
            raise MessageRejected(reason, detail)
        return bool(deliveries)

    def _decode(self, records) -> tuple[list[Delivery], list[tuple[ConsumerRecord, str, str]]]:
        deliveries: list[Delivery] = []
        rejected: list[tuple[ConsumerRecord, str, str]] = []
        for record in records:
            try:
                decoded = self.decode(record)
            except MessageRejected as error:
                rejected.append((record, error.reason, error.detail))
                continue
            if decoded is IGNORED:
                continue
            envelope, message = decoded if isinstance(decoded, tuple) else (None, decoded)
            deliveries.append(Delivery(record, record_headers(record), message, envelope))
        return deliveries, rejected

    async def _handle_with_isolation(self, deliveries: list[Delivery], rejected: list) -> None:
        if not deliveries:
            return
        try:
            await retry_transient(lambda: self._traced_handle(deliveries), what=f"{self.name}: handling")
        except Exception as error:
            if len(deliveries) == 1:
                delivery = deliveries[0]
                log.exception("%s: handler failed on %s[%d]@%d", self.name, delivery.topic,
                              delivery.partition, delivery.offset)
                rejected.append((delivery.record, "handler_error", f"{type(error).__name__}: {error}"))
                return
            # Find the message that breaks the batch: handle one at a time.
            for delivery in deliveries:
                await self._handle_with_isolation([delivery], rejected)

    async def _traced_handle(self, deliveries: list[Delivery]) -> None:
        first = deliveries[0]
        # The SDK keeps at most 128 links a span (SpanLimits): the rest would be built to be dropped.
        links = [trace.Link(span.get_span_context()) for span in (
            trace.get_current_span(telemetry.context_from_traceparent(d.traceparent)) for d in deliveries[:_MAX_LINKS]
        ) if span.get_span_context().is_valid]
        parent = telemetry.context_from_traceparent(first.traceparent) if len(deliveries) == 1 else None
        with telemetry.tracer.start_as_current_span(
            f"{self.topic} process", context=parent, kind=trace.SpanKind.CONSUMER, links=links,
            attributes={"messaging.system": "kafka", "messaging.destination.name": self.topic,
                        "messaging.consumer.group.name": self.name, "messaging.batch.message_count": len(deliveries)},
        ):
            await self.handle(deliveries)

    def _observe_lag(self, records, consumer: AIOKafkaConsumer) -> None:
        last_offsets: dict[TopicPartition, int] = {}
        for record in records:
            last_offsets[TopicPartition(record.topic, record.partition)] = record.offset
        for partition, offset in last_offsets.items():
            highwater = consumer.highwater(partition)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(self.name, partition.topic, str(partition.partition)).set(
                    max(0, highwater - offset - 1))


async def _parse_batch(records: tuple[ConsumerRecord, ...], faststream_parser) -> KafkaMessage:
    """The batch as FastStream's message, built from its first record only: FastStream would decode every header
    of every record (as UTF-8, dropping the whole batch on one that is not), which nothing here reads. Handling
    and dead letters keep the records exactly as they came."""
    message = await faststream_parser((_with_text_headers(records[0]),))
    message.raw_message = records
    return message


def _with_text_headers(record: ConsumerRecord) -> ConsumerRecord:
    try:
        for _, value in record.headers or ():
            (value or b"").decode()
        return record
    except UnicodeDecodeError:
        return replace(record, headers=[
            (name, (value or b"").decode("utf-8", "replace").encode()) for name, value in record.headers])


async def _message_itself(message: KafkaMessage) -> KafkaMessage:
    """FastStream would JSON-decode each record; decoding (and dead-lettering) is ours, so the handler takes the
    message itself (the broker injects nothing: apply_types=False)."""
    return message
