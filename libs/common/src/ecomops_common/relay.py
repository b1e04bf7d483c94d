"""Outbox relay: publishes outbox rows to Kafka in order per aggregate, then deletes them (Kafka keeps the events).

Several replicas may run; one publishes at a time. Each claim first takes a transaction-level advisory lock
(PostgreSQL; SQLite has one writer anyway): a relay that does not get it claims nothing, as another is
publishing. The one that does claims the oldest pending rows in insertion order, several of an aggregate
if pending together, and sends them in that order on one idempotent producer (ordered per partition), so one
aggregate's events never overtake each other and a busy order or SKU never waits a claim per event. Rows of a
claim that were sent are deleted whatever happened to the others, except the later rows of an aggregate whose
earlier row failed: they stay pending behind it. A row that failed transiently (Kafka down) stays pending and
is sent after a backoff (at least once: consumers de-duplicate by event id). Rows a relay of an earlier
version marked published instead, during a rolling upgrade, are never claimed and are purged after
OUTBOX_RETENTION_S.

A row the broker can never take as it is (larger than the maximum message size, a payload or headers
that cannot be encoded) is parked (outbox.park) with its error instead of being retried forever in
front of everything else. A parked row does not block its aggregate: the later events of that order
or SKU go out, because stopping an aggregate's whole flow for one unsendable event hurts more than a
gap, and consumers already take events late (revisions, stock level versions, releases before
placements). Requeued after a fix, the row keeps its old position, so it goes out before any later
event of its aggregate that is still pending.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError
from opentelemetry import trace
from sqlalchemy import delete, func, select

from ecomops_common import metrics, telemetry
from ecomops_common.db import Database
from ecomops_common.inbox import ProcessedEvent
from ecomops_common.kafka_security import KafkaSecurity
from ecomops_common.outbox import OutboxMessage, outbox_parked, park
from ecomops_common.producer import kafka_producer
from ecomops_common.resilience import Backoff

log = logging.getLogger(__name__)
_table = OutboxMessage.__table__
# The record itself can never be written as it is (ValueError: headers or payload that do not encode).
_RECORD_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError, ValueError)


_BUSY_RETRY_S = 0.01  # after finding another relay publishing: its claim may have missed this replica's rows
# The advisory lock key of "publishing this database's outbox" (any constant unique to it would do).
PUBLISHING_LOCK = 0x6F7574626F78  # "outbox"


def claim_statement(batch_size: int):
    """The oldest pending rows, in insertion order (the claiming relay holds the publishing lock)."""
    return (
        select(_table.c.position, _table.c.aggregateid, _table.c.topic, _table.c.payload, _table.c.headers)
        .where(_table.c.published_at.is_(None))
        .order_by(_table.c.position)
        .limit(batch_size)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL; SQLite is single-writer anyway
    )


async def take_publishing_lock(session) -> bool:
    """True if this transaction may publish: it holds the advisory lock until it ends (PostgreSQL), or the
    database has a single writer (SQLite)."""
    if session.bind.dialect.name != "postgresql":
        return True
    return bool((await session.execute(select(func.pg_try_advisory_xact_lock(PUBLISHING_LOCK)))).scalar_one())


def _describe(error: BaseException) -> str:
    """For `outbox_cli list`: a broker's error says little more than its code, its description more."""
    return f"{type(error).__name__}: {error} {getattr(error, 'description', '')}".strip()[:2000]


class OutboxRelay:
    def __init__(self, database: Database, bootstrap_servers: str, *, security: KafkaSecurity | None = None,
                 batch_size: int = 500,
                 poll_interval_s: float = 0.05, retention_s: float = 7 * 86400,
                 purge_interval_s: float = 60, inbox_retention_s: float | None = None,
                 linger_s: float = 0.002) -> None:
        self.database = database
        self.bootstrap_servers, self.security = bootstrap_servers, security
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.linger_s = linger_s
        self.retention = timedelta(seconds=retention_s)
        self.inbox_retention = timedelta(seconds=inbox_retention_s) if inbox_retention_s else None
        self.purge_interval_s = purge_interval_s
        self._claim = claim_statement(batch_size)
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._tasks: list[asyncio.Task] = []
        self._stopping = False

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they go out without waiting for a poll."""
        self._wake.set()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._publish_loop(), name="outbox-relay"),
                       asyncio.create_task(self._housekeeping_loop(), name="outbox-housekeeping")]

    async def stop(self, timeout: float = 10.0) -> None:
        """Lets the batch in flight finish (so it is not sent twice), then stops."""
        self._stopping = True
        self._wake.set()
        publisher, *others = self._tasks or [None]
        for task in others:
            task.cancel()
        if publisher is not None:
            try:
                await asyncio.wait_for(publisher, timeout)
            except TimeoutError:
                pass  # cancelled by wait_for: the claimed rows roll back and go out again later
        await asyncio.gather(*others, return_exceptions=True)
        await self._close_producer()

    async def _producer_ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = kafka_producer(self.bootstrap_servers, self.security)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:  # a broken producer is replaced anyway
                log.debug("error while stopping the relay producer", exc_info=True)

    async def publish_batch(self) -> int | None:
        """Publishes up to batch_size rows and returns how many (None: another relay is publishing); parks rows
        that can never be sent.

        Raises (after marking what was sent) when a row failed transiently, so the loop backs off.
        """
        async with self.database.sessions() as session, session.begin():
            if not await take_publishing_lock(session):
                return None
            rows = (await session.execute(self._claim)).all()
            if not rows:
                return 0
            errors = await self._send(rows)
            if len(rows) > 1 and any(isinstance(error, _RECORD_ERRORS) for error in errors):
                # The broker fails a whole producer batch for one record too large, and after a rejection
                # the idempotent producer's sequence is out of step: suspects are tried alone, each on a
                # fresh producer, so only the row at fault is parked.
                for index, error in enumerate(errors):
                    if isinstance(error, _RECORD_ERRORS):
                        await self._close_producer()
                        (errors[index],) = await self._send([rows[index]])
            outcomes = list(zip(rows, errors, strict=True))
            published, failed_aggregates = [], set()
            for row, error in outcomes:  # in insertion order
                if error is None and row.aggregateid not in failed_aggregates:
                    published.append(row.position)
                elif error is not None and not isinstance(error, _RECORD_ERRORS):
                    # Its aggregate's later rows stay pending and go out again after it: consumers get the
                    # aggregate's events in order, at least once.
                    failed_aggregates.add(row.aggregateid)
            parked = [(row, error) for row, error in outcomes if isinstance(error, _RECORD_ERRORS)]
            now = datetime.now(UTC)
            if published:
                # Deleted, not marked: Kafka keeps the events, and an UPDATE would write each row (about a kilobyte)
                # and its index entries again; a delete is a few bytes of WAL.
                await session.execute(delete(_table).where(_table.c.position.in_(published)))
            if parked:
                await park(session, [(row.position, _describe(error)) for row, error in parked], now)
        metrics.OUTBOX_PUBLISHED.inc(len(published))
        for row, error in parked:
            log.error("outbox row %d (aggregate %s, topic %s) parked, it can never be sent as it is: %r",
                      row.position, row.aggregateid, row.topic, error)
        if parked:
            await self._close_producer()  # a rejection leaves its sequence numbers out of step
        for error in errors:
            if error is not None and not isinstance(error, _RECORD_ERRORS):
                raise error
        return len(published)

    async def _send(self, rows) -> list[BaseException | None]:
        """Sends the rows in one go; per row, None once the broker has it, or why not."""
        producer = await self._producer_ready()
        errors: list[BaseException | None] = [None] * len(rows)
        deliveries: dict[int, asyncio.Future] = {}
        spans: list[trace.Span] = []
        for index, row in enumerate(rows):
            try:
                headers = json.loads(row.headers)
                spans.append(telemetry.publish_span(row.topic, headers))  # rewrites the traceparent header
                deliveries[index] = await producer.send(
                    row.topic, value=row.payload.encode(), key=row.aggregateid.encode(),
                    headers=[(name, value.encode()) for name, value in headers.items()])
            except _RECORD_ERRORS as error:  # refused before sending, e.g. larger than max_request_size
                errors[index] = error
            except Exception as error:  # Kafka unreachable: the rest waits for the next try
                errors[index:] = [error] * (len(rows) - index)
                break
        outcomes = await asyncio.gather(*deliveries.values(), return_exceptions=True)
        for index, outcome in zip(deliveries, outcomes, strict=True):
            errors[index] = outcome if isinstance(outcome, BaseException) else None
        for span, error in zip(spans, errors, strict=False):  # the rows tried (a failed send stops the rest)
            if error is not None:
                span.set_status(trace.StatusCode.ERROR, repr(error))
            span.end()
        return errors

    async def _publish_loop(self) -> None:
        backoff = Backoff(cap=5.0)
        while not self._stopping:
            self._wake.clear()
            try:
                published = await self.publish_batch()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                metrics.OUTBOX_PUBLISH_ERRORS.inc()
                log.warning("outbox relay failed, retrying in %.1fs: %r", backoff.delay, error)
                await self._close_producer()  # a fresh idempotent producer after any failure
                if not self._stopping:
                    await backoff.sleep()
                continue
            backoff.reset()
            if published is None:
                # Another replica's relay is publishing; its claim may have missed this replica's latest rows.
                await asyncio.sleep(_BUSY_RETRY_S)
            elif published < self.batch_size and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
                    await asyncio.sleep(self.linger_s)  # commits landing together go out in one claim
                except TimeoutError:
                    pass

    async def _housekeeping_loop(self) -> None:
        """Keeps the backlog and parked gauges fresh; purges inbox rows, and outbox rows an earlier version marked
        published, past retention."""
        next_purge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.observe_backlog()
                if loop.time() >= next_purge:
                    await self.purge()
                    next_purge = loop.time() + self.purge_interval_s
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox housekeeping failed: %r", error)
            await asyncio.sleep(min(5.0, self.purge_interval_s))

    async def observe_backlog(self) -> tuple[int, float]:
        """Pending rows and the oldest one's age (returned), and parked rows (the gauge only)."""
        async with self.database.sessions() as session:
            count, oldest = (await session.execute(
                select(func.count(), func.min(_table.c.created_at)).where(_table.c.published_at.is_(None))
            )).one()
            parked = (await session.execute(select(func.count()).select_from(outbox_parked))).scalar_one()
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        metrics.OUTBOX_BACKLOG.set(count)
        metrics.OUTBOX_OLDEST_AGE.set(age)
        metrics.OUTBOX_PARKED.set(parked)
        return count, age

    async def purge(self) -> int:
        now = datetime.now(UTC)
        async with self.database.sessions() as session, session.begin():
            purged = (await session.execute(
                delete(_table).where(_table.c.published_at < now - self.retention)
            )).rowcount
            if self.inbox_retention:
                inbox = ProcessedEvent.__table__
                await session.execute(delete(inbox).where(inbox.c.processed_at < now - self.inbox_retention))
        metrics.OUTBOX_PURGED.inc(purged or 0)
        return purged or 0
