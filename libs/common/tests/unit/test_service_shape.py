"""The shape every service shares: a declaration becomes topics, consumers and a unit of work factory; a
subscription's consumer decodes, claims the inbox and hands the new messages to its handler; refusals become
HTTP answers in one place."""

import json

import httpx
import pytest
from aiokafka import ConsumerRecord
from fastapi import APIRouter

from ecomops_common.contracts import ALLOCATION_EVENTS, CHANNEL_ORDERS, ORDER_EVENTS, contracts_on
from ecomops_common.contracts.allocation import OrderAllocated
from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.errors import Conflict, Forbidden, Invalid, NotFound
from ecomops_common.handlers import batch_consumer, on
from ecomops_common.messaging import IGNORED, Delivery, MessageRejected
from ecomops_common.migrations import ServiceMigrations
from ecomops_common.service import ServiceDefinition
from ecomops_common.settings import ServiceSettings
from ecomops_common.testing.fakes import FakeUnitOfWork, received
from ecomops_common.testing.samples import channel_order, order_placed
from ecomops_common.unit_of_work import SqlUnitOfWork


def record(topic: str, value: bytes, offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, len(value), -1, [])


async def ignore(uow, messages) -> None:
    pass


def test_a_subscription_decodes_what_the_registry_says_its_topic_carries():
    enveloped = on(ORDER_EVENTS, "x.order-events", ignore, OrderPlaced).decoder()
    assert set(enveloped.message_types) == {"OrderPlaced"}
    other = new_event("OrderRejected", 1, "order", "order", "o1", {"order_id": "o1"})
    assert enveloped(record(ORDER_EVENTS, other.model_dump_json().encode())) is IGNORED
    bare = on(CHANNEL_ORDERS, "x.channel-orders", ignore, ChannelOrder).decoder()
    assert bare(record(CHANNEL_ORDERS, json.dumps(channel_order()).encode())).external_order_id == "100234"
    with pytest.raises(MessageRejected):
        bare(record(CHANNEL_ORDERS, b"{"))


def enveloped(event: EventEnvelope, offset: int = 0) -> ConsumerRecord:
    return record(ORDER_EVENTS, event.model_dump_json().encode(), offset)


def status_changed(order_id: str, to_status: str) -> EventEnvelope:
    return new_event("OrderStatusChanged", 1, "order", "order", order_id, OrderStatusChanged(
        order_id=order_id, channel="web-eu", external_order_id=order_id, from_status="packed", to_status=to_status,
        actor="system"))


def cancellations(message) -> bool:
    return not isinstance(message, OrderStatusChanged) or message.to_status.value == "cancelled"


def test_a_subscription_skips_the_messages_it_does_not_want_and_still_rejects_what_it_cannot_decode():
    decode = on(ORDER_EVENTS, "x.order-events", ignore, OrderPlaced, OrderStatusChanged, wants=cancellations).decoder()
    assert set(decode.message_types) == {"OrderPlaced", "OrderStatusChanged"}  # the docs still list both
    assert decode(enveloped(status_changed("o1", "shipped"))) is IGNORED
    assert decode(enveloped(status_changed("o1", "cancelled")))[1].to_status.value == "cancelled"
    assert isinstance(decode(enveloped(order_placed("o1")))[1], OrderPlaced)
    with pytest.raises(MessageRejected):
        decode(record(ORDER_EVENTS, b"{"))
    # A read model's consumer skips both what it cannot decode and what it does not want.
    read_only = on(ORDER_EVENTS, "x.order-events", ignore, OrderStatusChanged, read_only=True,
                   wants=cancellations).decoder()
    assert read_only(record(ORDER_EVENTS, b"{")) is IGNORED
    assert read_only(enveloped(status_changed("o1", "shipped"))) is IGNORED
    # A bare document is the message itself.
    bare = on(CHANNEL_ORDERS, "x.channel-orders", ignore, ChannelOrder,
              wants=lambda order: order.external_order_id != "100234").decoder()
    assert bare(record(CHANNEL_ORDERS, json.dumps(channel_order()).encode())) is IGNORED


class OffsetsCommitted:
    """The Kafka consumer as BatchConsumer.process uses it: commits, and no highwater known."""

    def __init__(self) -> None:
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1

    def highwater(self, partition) -> None:
        return None


async def test_a_batch_of_only_unwanted_messages_enters_no_unit_of_work_and_still_commits_its_offsets():
    def no_unit_of_work():
        raise AssertionError("a unit of work was entered")

    consumer = batch_consumer(on(ORDER_EVENTS, "x.order-events", ignore, OrderStatusChanged, wants=cancellations),
                              ServiceSettings(), no_unit_of_work)
    kafka = OffsetsCommitted()
    await consumer.process(tuple(enveloped(status_changed(f"o{i}", "shipped"), offset=i) for i in range(3)), kafka)
    assert kafka.commits == 1


def test_a_message_type_not_on_the_topic_is_refused_at_declaration():
    with pytest.raises(LookupError, match="OrderAllocated"):
        on(ORDER_EVENTS, "x.order-events", ignore, OrderAllocated).decoder()


class Recorder(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.handled: list[list[str]] = []


async def test_the_consumer_hands_only_new_events_to_the_handler_in_one_unit_of_work():
    uow = Recorder()

    async def handle(unit_of_work, messages) -> None:
        unit_of_work.handled.append([m.event_id for m in messages])
        await unit_of_work.commit()

    settings = ServiceSettings(topic_prefix="p.")
    consumer = batch_consumer(on(ORDER_EVENTS, "x.order-events", handle, OrderPlaced), settings, lambda: uow)
    assert (consumer.name, consumer.topic) == ("p.x.order-events", "p.order.events.v1")
    event = order_placed()
    delivery = Delivery(record(ORDER_EVENTS, b""), {}, OrderPlaced.model_validate(event.payload), event)
    await consumer.handle([delivery, delivery])  # a redelivery in the same batch
    await consumer.handle([delivery])  # and in a later one: nothing to hand over
    assert uow.handled == [[event.event_id]] and uow.commits == 1


async def test_without_the_inbox_every_message_reaches_the_handler():
    uow = Recorder()

    async def handle(unit_of_work, messages) -> None:
        unit_of_work.handled.append([m.message for m in messages])

    consumer = batch_consumer(on(CHANNEL_ORDERS, "x.channel-orders", handle, ChannelOrder, once=False),
                              ServiceSettings(), lambda: uow)
    await consumer.handle(received("a", "a"))
    assert uow.handled == [["a", "a"]] and not uow.claimed


def test_a_definition_derives_topics_consumers_and_the_unit_of_work_factory():
    definition = ServiceDefinition(
        title="T", settings=ServiceSettings, unit_of_work=SqlUnitOfWork,
        migrations=ServiceMigrations("t", "t.migrations", ServiceSettings, []),
        publishes=contracts_on(ORDER_EVENTS, "OrderPlaced"),
        handlers=lambda settings: [on(ALLOCATION_EVENTS, "t.allocation-events", ignore, OrderAllocated)])
    service = definition.build(ServiceSettings(database_url="sqlite+aiosqlite:///:memory:", topic_partitions=3))
    assert [(t.name, t.partitions, t.with_dead_letters) for t in service.runtime.topics] == [
        (ALLOCATION_EVENTS, 3, True), (ORDER_EVENTS, 3, False)]
    assert [(c.name, c.topic) for c in service.runtime.consumers] == [("t.allocation-events", ALLOCATION_EVENTS)]
    assert service.app.state.unit_of_work is service.unit_of_work


@pytest.mark.parametrize(("error", "status", "body"), [
    (NotFound("order o1 not found"), 404, {"detail": "order o1 not found"}),
    (Conflict("already shipped"), 409, {"detail": "already shipped"}),
    (Forbidden("same_person", "you requested it"), 403, {"detail": "you requested it", "reason": "same_person"}),
])
async def test_refusals_are_answered_in_one_place(error, status, body):
    assert (await answer_raising(error)) == (status, body)


async def test_an_invalid_input_names_each_field():
    class Problem:
        field, message = "rules.0.nodes", "unknown node"

    class InvalidRule(Invalid):
        code = "invalid_rule"

    assert (await answer_raising(InvalidRule([Problem()]))) == (422, {"detail": [
        {"loc": ["body", "rules", "0", "nodes"], "msg": "unknown node", "type": "invalid_rule"}]})


async def answer_raising(error: Exception) -> tuple[int, dict]:
    router = APIRouter()

    @router.get("/refused")
    async def refused() -> None:
        raise error

    definition = ServiceDefinition(title="T", settings=ServiceSettings, unit_of_work=SqlUnitOfWork,
                                   migrations=ServiceMigrations("t", "t.migrations", ServiceSettings, []), publishes=(),
                                   handlers=lambda settings: [], routers=[router])
    app = definition.build(ServiceSettings(database_url="sqlite+aiosqlite:///:memory:")).app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/refused")
    return response.status_code, response.json()
