"""Unit of work: one database transaction holding the state change, its outbox rows and inbox marks."""

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, ClassVar, Protocol, Self, TypeVar

from pydantic import BaseModel

from ecomops_common.contracts import ContractSpec
from ecomops_common.db import Database
from ecomops_common.envelope import EventEnvelope
from ecomops_common.inbox import claim_new_events
from ecomops_common.outbox import add_to_outbox, document_row, outbox_row

D = TypeVar("D")  # a Delivery: anything with an event_id


class UnitOfWork(Protocol):
    """What the service layer may do with a unit of work; each service's protocol adds its repositories, and
    both its SQL unit of work and its in-memory fake (ecomops_common.testing.fakes) satisfy it."""

    def emit(self, envelope: EventEnvelope, topic: str) -> None: ...

    def emit_document(self, document: BaseModel, key: str, message_type: str, source: str, topic: str) -> None: ...

    async def claim_new_deliveries(self, consumer: str, deliveries: Sequence[D]) -> list[D]: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class SqlUnitOfWork:
    """Subclass per service, naming its repositories: `repositories = {"orders": OrderRepository}` makes
    `uow.orders` a new OrderRepository over the unit of work's session each time it is entered."""

    repositories: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    def __init__(self, database: Database, *, topic_prefix: str = "", on_commit: Callable[[], None] | None = None,
                 publishes: Collection[ContractSpec] | None = None) -> None:
        self.database = database
        self.topic_prefix = topic_prefix
        self.on_commit = on_commit
        # The service's PUBLISHES (None: anything): emitting something else is refused, so the declaration that
        # docs/asyncapi.yaml is generated from cannot fall behind the code. Value: is it an envelope?
        self._publishes = None if publishes is None else {(s.topic, s.message_type): s.enveloped for s in publishes}

    async def __aenter__(self) -> Self:
        self.session = self.database.sessions()
        self._outbox: list[dict[str, Any]] = []
        for name, repository in self.repositories.items():
            setattr(self, name, repository(self.session))
        return self

    async def __aexit__(self, *exc_info) -> None:
        # close() rolls back what was not committed; unlike rollback() it keeps loaded rows readable
        await self.session.close()

    def emit(self, envelope: EventEnvelope, topic: str) -> None:
        self._check_declared(topic, envelope.event_type, enveloped=True)
        self._outbox.append(outbox_row(envelope, self.topic_prefix + topic))

    def emit_document(self, document: BaseModel, key: str, message_type: str, source: str, topic: str) -> None:
        self._check_declared(topic, message_type, enveloped=False)
        self._outbox.append(document_row(document, key, message_type, source, self.topic_prefix + topic))

    def _check_declared(self, topic: str, message_type: str, *, enveloped: bool) -> None:
        if self._publishes is not None and self._publishes.get((topic, message_type)) is not enveloped:
            form = "an envelope" if enveloped else "a bare document"
            raise ValueError(f"{message_type} on {topic} as {form} is not in the service's PUBLISHES "
                             "(declare it in its bootstrap and run `make docs`)")

    async def claim_new_events(self, consumer: str, event_ids: Iterable[str]) -> set[str]:
        return await claim_new_events(self.session, consumer, event_ids)

    async def claim_new_deliveries(self, consumer: str, deliveries: Sequence[D]) -> list[D]:
        """The deliveries of events not processed before, each once: a redelivery may share the batch."""
        new = await self.claim_new_events(consumer, [d.event_id for d in deliveries])
        first = []
        for delivery in deliveries:
            if delivery.event_id in new:
                new.discard(delivery.event_id)
                first.append(delivery)
        return first

    async def commit(self) -> None:
        emitted = bool(self._outbox)
        await add_to_outbox(self.session, self._outbox)
        self._outbox = []
        await self.session.commit()
        if emitted and self.on_commit:
            self.on_commit()

    async def rollback(self) -> None:
        self._outbox = []
        await self.session.rollback()
