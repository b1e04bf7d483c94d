"""In-memory fakes for service-layer unit tests (fakes, not mocks): a unit of work that keeps what is emitted,
counts commits and claims inbox events in a set. A service's fake subclasses it and adds fake repositories."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel

from ecomops_common.envelope import EventEnvelope
from ecomops_common.ids import new_id

T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True)
class FakeDelivery(Generic[T]):
    """A received message (ecomops_common.handlers.Received) without Kafka."""

    message: T
    event_id: str = field(default_factory=new_id)
    correlation_id: str | None = None
    traceparent: str | None = None
    occurred_at: datetime | None = None
    raw: bytes | None = None


def received(*messages: T, **ids: Any) -> list[FakeDelivery[T]]:
    return [FakeDelivery(message, **ids) for message in messages]


class FakeUnitOfWork:
    """Emitted messages reach `published` (topic, envelope or document), and inbox claims `claimed`, only when
    committed, like the outbox and inbox rows of a transaction."""

    def __init__(self) -> None:
        self.published: list[tuple[str, EventEnvelope | BaseModel]] = []
        self.commits = 0
        self.claimed: set[tuple[str, str]] = set()
        self._pending: list[tuple[str, EventEnvelope | BaseModel]] = []
        self._claiming: set[tuple[str, str]] = set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.rollback()

    def emit(self, envelope: EventEnvelope, topic: str) -> None:
        self._pending.append((topic, envelope))

    def emit_document(self, document: BaseModel, key: str, message_type: str, source: str, topic: str) -> None:
        self._pending.append((topic, document))

    async def claim_new_deliveries(self, consumer: str, deliveries: Sequence[D]) -> list[D]:
        new = []
        for delivery in deliveries:
            key = (consumer, delivery.event_id)
            if key not in self.claimed and key not in self._claiming:
                self._claiming.add(key)
                new.append(delivery)
        return new

    async def commit(self) -> None:
        self.published += self._pending
        self.claimed |= self._claiming
        self._pending, self._claiming = [], set()
        self.commits += 1

    async def rollback(self) -> None:
        self._pending, self._claiming = [], set()

    def events(self, event_type: str | None = None) -> list[EventEnvelope]:
        """The committed envelopes, optionally of one type."""
        return [message for _, message in self.published if isinstance(message, EventEnvelope)
                and (event_type is None or message.event_type == event_type)]
