"""A service's message handlers, declared once: which topic and message types go to which service-layer function.

The runtime makes one consumer group per subscription (ecomops_common.service); the consumer decodes each batch
(skipping what it does not want, dead-lettering what cannot be decoded), enters a unit of work if anything is left,
claims the batch's events in the inbox (skipping redeliveries) and hands the new ones to the handler, which does the
work and commits. So every consumer of every service commits the same way: offsets after the database, the inbox in
the same transaction as the work.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from aiokafka import ConsumerRecord
from pydantic import BaseModel

from ecomops_common.contracts import REGISTRY
from ecomops_common.messaging import (
    IGNORED,
    BatchConsumer,
    Delivery,
    MessageRejected,
    bare_decoder,
    envelope_decoder,
)
from ecomops_common.settings import ServiceSettings

T = TypeVar("T", covariant=True)


class Received(Protocol[T]):
    """A message as a handler sees it: the contract, and the ids that make handling it idempotent and traceable.
    A Kafka Delivery is one; tests build them with ecomops_common.testing.fakes.received."""

    @property
    def message(self) -> T: ...

    @property
    def event_id(self) -> str: ...

    @property
    def correlation_id(self) -> str | None: ...

    @property
    def traceparent(self) -> str | None: ...

    @property
    def occurred_at(self) -> datetime | None: ...

    @property
    def raw(self) -> bytes | None:
        """The message exactly as it arrived (e.g. kept whole in an exception queue); None if not from Kafka."""


# A service-layer function: (its entered unit of work, the batch's new messages) -> None; it commits.
Handler = Callable[[Any, list[Any]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One consumer group on one topic: the message types it takes (the others are skipped) and their handler."""

    topic: str
    consumer: str  # the consumer group's name, e.g. "order-service.allocation-events" (the topic prefix is added)
    handler: Handler
    messages: tuple[type[BaseModel], ...]
    # False where handling twice is a no-op by the handler's own key (e.g. an upsert, a channel's order id): the
    # inbox row would only cost a write.
    once: bool = True
    # A read model's consumer (the control service): a record it cannot decode is the owning services' consumers'
    # dead letter, not its own, so it is skipped here.
    read_only: bool = False
    decode: Callable[[ConsumerRecord], Any] | None = None  # instead of the REGISTRY's, e.g. for dead-letter topics
    # The messages of these types this consumer acts on; the others are skipped before any transaction or inbox
    # row (e.g. the many order status changes that ask nothing of allocation).
    wants: Callable[[BaseModel], bool] | None = None

    def decoder(self) -> Callable:
        """The subscription's own decode, else one from contracts.REGISTRY (the message types' names on the topic,
        and whether it carries envelopes); answering IGNORED for what this consumer skips."""
        decode = self.decode or self._registry_decoder()
        if not self.read_only and self.wants is None:
            return decode
        return skipping(decode, rejected=self.read_only, wants=self.wants)

    def _registry_decoder(self) -> Callable:
        specs = [spec for spec in REGISTRY if spec.topic == self.topic and spec.model in self.messages]
        forms = {spec.enveloped for spec in specs}
        if len(specs) != len(self.messages) or len(forms) != 1:
            raise LookupError(f"{self.consumer}: {[m.__name__ for m in self.messages]} are not contracts of one "
                              f"form on {self.topic} in contracts.REGISTRY")
        major = int(self.topic.rsplit(".v", 1)[1])  # a topic's name ends in its major version: order.events.v1
        if forms.pop():
            return envelope_decoder(major, {spec.message_type: spec.model for spec in specs})
        (spec,) = specs  # a channel topic carries one bare document type
        return bare_decoder(spec.model, major)


def on(topic: str, consumer: str, handler: Handler, *messages: type[BaseModel], once: bool = True,
       read_only: bool = False, wants: Callable[[BaseModel], bool] | None = None) -> Subscription:
    """One entry of a service's handler registry: `on(ALLOCATION_EVENTS, "order-service.allocation-events",
    record_allocations, OrderAllocated, OrderBackordered)`."""
    return Subscription(topic, consumer, handler, messages, once, read_only, wants=wants)


def skipping(decode: Callable[[ConsumerRecord], Any], *, rejected: bool = False,
             wants: Callable[[BaseModel], bool] | None = None) -> Callable[[ConsumerRecord], Any]:
    """`decode`, answering IGNORED for a record it rejects (if `rejected`) and for a message `wants` refuses."""

    def decode_or_skip(record: ConsumerRecord) -> Any:
        try:
            decoded = decode(record)
        except MessageRejected:
            if rejected:
                return IGNORED
            raise
        if decoded is IGNORED or wants is None:
            return decoded
        message = decoded[1] if isinstance(decoded, tuple) else decoded  # an envelope decoder's (envelope, payload)
        return decoded if wants(message) else IGNORED

    decode_or_skip.message_types = decode.message_types
    return decode_or_skip


def batch_consumer(subscription: Subscription, settings: ServiceSettings,
                   unit_of_work: Callable[[], Any]) -> BatchConsumer:
    group = settings.consumer_group(subscription.consumer)
    handler = subscription.handler

    async def dispatch(deliveries: Sequence[Delivery]) -> None:
        async with unit_of_work() as uow:
            if subscription.once:
                deliveries = await uow.claim_new_deliveries(group, deliveries)
            if deliveries:
                await handler(uow, list(deliveries))

    return BatchConsumer(name=group, topic=settings.topic(subscription.topic), decode=subscription.decoder(),
                         handle=dispatch, max_records=settings.consumer_max_records,
                         batch_timeout_ms=settings.consumer_batch_timeout_ms, pace_s=settings.consumer_pace_s)
