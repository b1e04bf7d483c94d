"""The composition every service shares, written once: a service declares what it is (settings, tables, what it
publishes, its handler registry, its routes) and `build` wires the rest the same way for all of them: the
topics (those consumed get dead-letter topics), one consumer group per subscription, the outbox relay, the unit
of work factory (declared publications enforced, commits waking the relay) and the HTTP app, with the routes
that list and redrive the dead letters of the service's consumers (ecomops_common.dead_letters)."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, FastAPI

from ecomops_common.contracts import ContractSpec
from ecomops_common.dead_letters import router as dead_letter_router
from ecomops_common.handlers import Subscription, batch_consumer
from ecomops_common.http import create_app
from ecomops_common.migrations import ServiceMigrations
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.settings import ServiceSettings
from ecomops_common.topics import DEAD_LETTER_SUFFIX, TopicSpec
from ecomops_common.unit_of_work import SqlUnitOfWork

S = TypeVar("S", bound=ServiceSettings)
U = TypeVar("U", bound=SqlUnitOfWork)


@dataclass(frozen=True)
class ServiceDefinition(Generic[S, U]):
    title: str
    settings: type[S]
    unit_of_work: type[U]
    migrations: ServiceMigrations
    publishes: tuple[ContractSpec, ...]  # its unit of work refuses anything else; docs/asyncapi.yaml says it
    handlers: Callable[[S], Sequence[Subscription]]  # the registry, given the settings its handlers need
    routers: Sequence[APIRouter] = field(default_factory=tuple)

    def build(self, settings: S | None = None) -> "Service[S, U]":
        settings = settings or self.settings()
        runtime = ServiceRuntime(settings, migrations=self.migrations)
        unit_of_work = partial(self.unit_of_work, runtime.database, topic_prefix=settings.topic_prefix,
                               on_commit=runtime.relay.wake, publishes=self.publishes)
        subscriptions = self.handlers(settings)
        # Dead-letter topics are made with the topics they serve (a read model may consume them too).
        consumed = sorted({subscription.topic for subscription in subscriptions
                           if not subscription.topic.endswith(DEAD_LETTER_SUFFIX)})
        published = sorted({spec.topic for spec in self.publishes} - set(consumed))
        # Consumed topics are created here too, so consumers can start before the services that publish them.
        runtime.topics = [TopicSpec(topic, settings.topic_partitions, with_dead_letters=True) for topic in consumed]
        runtime.topics += [TopicSpec(topic, settings.topic_partitions) for topic in published]
        for subscription in subscriptions:
            runtime.consume(batch_consumer(subscription, settings, unit_of_work))
        app = create_app(runtime, title=self.title, routers=[*self.routers, dead_letter_router])
        app.state.unit_of_work = unit_of_work
        return Service(settings, runtime, unit_of_work, app)


@dataclass(frozen=True)
class Service(Generic[S, U]):
    settings: S
    runtime: ServiceRuntime
    unit_of_work: Callable[[], U]  # a new, not yet entered, unit of work
    app: FastAPI

    def every(self, name: str, interval_s: float, job: Callable[[U], Awaitable[Any]]) -> None:
        """Runs a service-layer job in a unit of work of its own every `interval_s` (it commits)."""
        async def run() -> None:
            async with self.unit_of_work() as uow:
                await job(uow)

        self.runtime.every(name, interval_s, run)
