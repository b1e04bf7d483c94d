"""What every service process runs besides its own logic: database, topics, consumers, outbox relay."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable

from faststream.kafka import KafkaBroker

from ecomops_common import telemetry
from ecomops_common.db import Database
from ecomops_common.lag import sample_consumer_lag
from ecomops_common.messaging import BatchConsumer, DeadLetters
from ecomops_common.migrations import SchemaNotCurrent, ServiceMigrations, require_current
from ecomops_common.relay import OutboxRelay
from ecomops_common.resilience import retry_transient
from ecomops_common.settings import ServiceSettings
from ecomops_common.topics import TopicSpec, ensure_topics

log = logging.getLogger(__name__)
# Young-generation collections every this many allocations instead of 700: a batch's objects mostly die by
# reference counting long before, and each collection walks every live young object.
YOUNG_COLLECTION_THRESHOLD = 50_000


def settle_heap() -> None:
    """Moves what imports and start-up built (a few hundred thousand objects: models, mappers, routes) out of the
    cyclic collector's reach. Every full collection walked all of them again: profiled, the collector took more
    than half of a consumer's decoding time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, database: Database | None = None, *,
                 migrations: ServiceMigrations | None = None) -> None:
        self.settings = settings
        self.database = database or Database(settings.database_url)
        self.migrations = migrations  # None: the caller made the tables (libs/common's own tests)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            security=settings.kafka.faststream_security(),
            client_id=settings.service_name,
            log_level=logging.DEBUG,  # one log line per message is too much at peak; metrics count them
            graceful_timeout=15.0,  # on shutdown the batch in hand finishes and commits
            # Handlers take the message as it is: FastDepends would solve it per batch in a worker thread.
            apply_types=False,
        )
        self.relay = OutboxRelay(
            self.database, settings.kafka_bootstrap_servers, security=settings.kafka,
            batch_size=settings.relay_batch_size, poll_interval_s=settings.relay_poll_interval_s,
            retention_s=settings.outbox_retention_s, purge_interval_s=settings.purge_interval_s,
            inbox_retention_s=settings.inbox_retention_s,
        )
        self.dead_letters = DeadLetters(settings.kafka_bootstrap_servers, settings.kafka)
        self.topics: list[TopicSpec] = []
        self.consumers: list[BatchConsumer] = []
        self.periodic: list[tuple[str, float, Callable[[], Awaitable[None]]]] = []
        self._periodic_tasks: list[asyncio.Task] = []
        self._messaging: asyncio.Task | None = None
        # Asked of the broker, not reported by the consumers: a stalled consumer cannot report its own lag.
        self.every("consumer lag", settings.consumer_lag_interval_s, lambda: sample_consumer_lag(
            settings.kafka_bootstrap_servers, [(consumer.name, consumer.topic) for consumer in self.consumers],
            settings.kafka))

    def every(self, name: str, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
        """Runs `job` every `interval_s` while the service runs (e.g. time-based rules); failures are logged."""
        self.periodic.append((name, interval_s, job))

    def consume(self, consumer: BatchConsumer) -> None:
        self.consumers.append(consumer)

    async def start(self) -> None:
        """Returns once the database is there, so HTTP serves at once. Topics and consumer groups are joined in
        the background: while Kafka is down the HTTP API works and the outbox keeps what is to be published."""
        settings = self.settings
        telemetry.setup_logging(settings.service_name, settings.log_level)
        telemetry.setup_tracing(settings.service_name, settings.otlp_endpoint)
        telemetry.trace_database(self.database.engine)
        if self.migrations is not None:  # tables are the migration step's, never the service's
            logging.getLogger("alembic").setLevel(logging.WARNING)  # its context logs are for the migration step
            try:
                await retry_transient(lambda: require_current(self.migrations, settings.database_url),
                                      what="reading the schema revision")
            except SchemaNotCurrent as problem:
                log.error("not starting: %s", problem)
                raise
        self._messaging = asyncio.create_task(self._start_messaging_logged(), name="messaging-start")
        if settings.relay_enabled:
            await self.relay.start()
        self._periodic_tasks = [asyncio.create_task(_repeat(name, interval_s, job), name=name)
                                for name, interval_s, job in self.periodic]
        settle_heap()
        log.info("%s serving; consumers join once Kafka answers", settings.service_name)

    async def _start_messaging(self) -> None:
        settings = self.settings
        await retry_transient(
            lambda: asyncio.wait_for(ensure_topics(
                settings.kafka_bootstrap_servers, self.topics, settings.topic_prefix,
                settings.kafka_replication_factor, settings.kafka), 30),
            what="creating topics",
        )
        for consumer in self.consumers:
            consumer.register(self.broker, self.dead_letters)
        await retry_transient(self._start_broker, what="joining consumer groups")
        log.info("%s consumers started", settings.service_name)

    async def _start_messaging_logged(self) -> None:
        try:
            await self._start_messaging()
        except asyncio.CancelledError:
            raise
        except Exception:  # not transient (e.g. a topic's settings refused): /readyz shows it
            log.exception("%s: consumers could not start", self.settings.service_name)
            raise

    async def _start_broker(self) -> None:
        try:
            await self.broker.start()
        except BaseException:
            with contextlib.suppress(Exception):  # a half-started broker starts again from scratch
                await self.broker.stop()
            raise

    def _messaging_status(self) -> str:
        task = self._messaging
        if task is None or not task.done():
            return "waiting for kafka"
        if task.cancelled():
            return "stopped"
        return f"failed: {task.exception()!r}"[:300] if task.exception() else "ok"

    async def wait_for_messaging(self, timeout: float = 60.0) -> None:
        """Until topics exist and consumers have joined (tests and tools that produce right after start)."""
        await asyncio.wait_for(asyncio.shield(self._messaging), timeout)

    async def stop(self) -> None:
        if self._messaging is not None and not self._messaging.done():
            self._messaging.cancel()
        for task in self._periodic_tasks:
            task.cancel()
        await asyncio.gather(*self._periodic_tasks, *filter(None, [self._messaging]), return_exceptions=True)
        await self.relay.stop()
        await self.broker.stop()
        await self.dead_letters.stop()
        await self.database.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.database.ping(), 2)
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unavailable: {type(error).__name__}"
        checks["kafka"] = "ok" if await self.broker.ping(timeout=2) else "unavailable"
        checks["consumers"] = self._messaging_status()
        return checks


async def _repeat(name: str, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await job()
        except Exception:
            log.exception("%s failed; next try in %.0f s", name, interval_s)
