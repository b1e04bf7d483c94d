"""What every service process runs besides its own logic: database, topics, consumers, outbox relay."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from faststream.kafka import KafkaBroker
from sqlalchemy import Table

from ecomops_common import telemetry
from ecomops_common.db import Database
from ecomops_common.inbox import ProcessedEvent
from ecomops_common.messaging import BatchConsumer, DeadLetters
from ecomops_common.outbox import OutboxMessage
from ecomops_common.relay import OutboxRelay
from ecomops_common.resilience import retry_transient
from ecomops_common.settings import ServiceSettings
from ecomops_common.topics import TopicSpec, ensure_topics

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, database: Database | None = None, *,
                 tables: Sequence[Table] = ()) -> None:
        self.settings = settings
        self.database = database or Database(settings.database_url)
        # The service's own tables plus outbox and inbox: never another service's, even in one test process.
        self.tables = [*tables, OutboxMessage.__table__, ProcessedEvent.__table__]
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=settings.service_name,
            log_level=logging.DEBUG,  # one log line per message is too much at peak; metrics count them
            graceful_timeout=15.0,  # on shutdown the batch in hand finishes and commits
        )
        self.relay = OutboxRelay(
            self.database, settings.kafka_bootstrap_servers,
            batch_size=settings.relay_batch_size, poll_interval_s=settings.relay_poll_interval_s,
            retention_s=settings.outbox_retention_s, purge_interval_s=settings.purge_interval_s,
            inbox_retention_s=settings.inbox_retention_s,
        )
        self.dead_letters = DeadLetters(settings.kafka_bootstrap_servers)
        self.topics: list[TopicSpec] = []
        self.consumers: list[BatchConsumer] = []
        self.periodic: list[tuple[str, float, Callable[[], Awaitable[None]]]] = []
        self._periodic_tasks: list[asyncio.Task] = []

    def every(self, name: str, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
        """Runs `job` every `interval_s` while the service runs (e.g. time-based rules); failures are logged."""
        self.periodic.append((name, interval_s, job))

    def consume(self, consumer: BatchConsumer) -> None:
        self.consumers.append(consumer)

    async def start(self) -> None:
        settings = self.settings
        telemetry.setup_logging(settings.service_name, settings.log_level)
        telemetry.setup_tracing(settings.service_name, settings.otlp_endpoint)
        await retry_transient(lambda: self.database.create_tables(self.tables), what="creating tables")
        await retry_transient(
            lambda: asyncio.wait_for(ensure_topics(
                settings.kafka_bootstrap_servers, self.topics, settings.topic_prefix,
                settings.kafka_replication_factor), 30),
            what="creating topics",
        )
        for consumer in self.consumers:
            consumer.register(self.broker, self.dead_letters)
        await self.broker.start()
        if settings.relay_enabled:
            await self.relay.start()
        self._periodic_tasks = [asyncio.create_task(_repeat(name, interval_s, job), name=name)
                                for name, interval_s, job in self.periodic]
        log.info("%s started", settings.service_name)

    async def stop(self) -> None:
        for task in self._periodic_tasks:
            task.cancel()
        await asyncio.gather(*self._periodic_tasks, return_exceptions=True)
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
        return checks


async def _repeat(name: str, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await job()
        except Exception:
            log.exception("%s failed; next try in %.0f s", name, interval_s)
