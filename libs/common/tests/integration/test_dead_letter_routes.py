"""A service's dead letters over its own HTTP API (ecomops_common.dead_letters), on the real broker and PostgreSQL:
its consumer dead-letters what it cannot handle, GET /v1/dead-letters lists those, and a redrive after the fix
hands one to the same consumer, which handles it once, however often it is redriven."""

from datetime import datetime

import pytest
from aiokafka import ConsumerRecord

from ecomops_common.auth import AUDITOR, SUPERVISOR, WAREHOUSE_OPERATOR
from ecomops_common.contracts import ORDER_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.envelope import new_event
from ecomops_common.handlers import on
from ecomops_common.messaging import DeadLetters
from ecomops_common.service import ServiceDefinition
from ecomops_common.settings import ServiceSettings
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import (
    committed_offset_total,
    eventually,
    produce,
    produce_events,
    serving,
)
from ecomops_common.testing.samples import order_placed
from ecomops_common.unit_of_work import SqlUnitOfWork

pytestmark = pytest.mark.integration

SUPERVISOR_HEADERS = test_issuer().bearer("sam", SUPERVISOR)
CONSUMER = "seen.order-events"


def orders_seen(known_channels: set[str], handled: list[str]) -> ServiceDefinition:
    """A service following placed orders; an order of a channel not configured yet fails for good (its consumer
    dead-letters it as handler_error) until the channel is configured: the fix."""

    async def follow_orders(uow, deliveries) -> None:
        for delivery in deliveries:
            if delivery.message.channel not in known_channels:
                raise LookupError(f"channel {delivery.message.channel} is not configured")
        handled.extend(delivery.event_id for delivery in deliveries)
        await uow.commit()

    return ServiceDefinition(
        title="Orders seen", settings=ServiceSettings, unit_of_work=SqlUnitOfWork,
        migrations=None,  # the fixture made the tables (ServiceRuntime's libs/common case)
        publishes=(), handlers=lambda settings: [on(ORDER_EVENTS, CONSUMER, follow_orders, OrderPlaced)])


def record(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]], offset: int) -> ConsumerRecord:
    return ConsumerRecord(topic, 0, offset, -1, 0, key, value, None, len(key), len(value), headers)


async def test_dead_letters_are_listed_and_redriven_once_through_their_consumer(
        database, settings_for, kafka_bootstrap, topic_prefix):
    known_channels, handled = {"web-eu"}, []
    service = orders_seen(known_channels, handled).build(settings_for(ServiceSettings, service_name="seen"))
    topic, group = topic_prefix + ORDER_EVENTS, topic_prefix + CONSUMER
    dlq = topic + ".dlq"
    async with serving(service.app, headers=SUPERVISOR_HEADERS) as client:
        # Dead letters of the same topic that are not this service's to redrive, or cannot be: another service's
        # consumer's, one whose value was cut to fit, one of a message type the consumer no longer takes.
        dead_letters = DeadLetters(kafka_bootstrap)
        status_changed = new_event("OrderStatusChanged", 1, "order", "order", "o-9", {"order_id": "o-9"})
        try:
            await dead_letters.send(record(topic, b"o-7", b"{}", [], 70), "schema_invalid", "order_id: missing",
                                    topic_prefix + "other-service.order-events")
            await dead_letters.send(record(topic, b"o-8", b"x" * 1_100_000, [], 80), "unparseable", "too large",
                                    group)
            await dead_letters.send(record(topic, b"o-9", status_changed.model_dump_json().encode(),
                                           status_changed.kafka_headers(), 90), "handler_error", "was taken", group)
        finally:
            await dead_letters.stop()
        unconfigured = order_placed(channel="shop-nl")
        await produce_events(kafka_bootstrap, topic, [unconfigured])
        await produce(kafka_bootstrap, topic, [(b"o-2", b"{not json")])

        async def all_listed() -> bool:
            return len((await client.get("/v1/dead-letters", params={"topic": ORDER_EVENTS})).json()) == 4

        await eventually(all_listed)
        await eventually(lambda: _committed(kafka_bootstrap, group, topic, 2))
        listed = (await client.get("/v1/dead-letters", params={"topic": ORDER_EVENTS, "limit": 10})).json()
        assert [entry["offset"] for entry in listed] == sorted((entry["offset"] for entry in listed), reverse=True)
        assert {entry["consumer"] for entry in listed} == {group}  # the other service's is not listed
        by_key = {entry["key"]: entry for entry in listed}
        unhandled = by_key[unconfigured.aggregate_id]
        assert {name: unhandled[name] for name in ("dlq_topic", "original_topic", "reason", "payload_truncated")} \
            == {"dlq_topic": dlq, "original_topic": topic, "reason": "handler_error", "payload_truncated": False}
        assert "LookupError: channel shop-nl is not configured" in unhandled["error"]
        assert datetime.fromisoformat(unhandled["failed_at"]).tzinfo is not None
        assert (unhandled["original_partition"], unhandled["original_offset"]) in {(0, 0), (1, 0)}
        assert (by_key["o-2"]["reason"], by_key["o-8"]["payload_truncated"]) == ("unparseable", True)
        assert [entry["offset"] for entry in (await client.get("/v1/dead-letters", params={"limit": 1})).json()] == [
            listed[0]["offset"]]  # every topic it consumes, newest first

        def redrive(entry: dict):
            return client.post(f"/v1/dead-letters/{entry['dlq_topic']}/{entry['partition']}/{entry['offset']}/redrive")

        # Refused again, nothing changes: still malformed; the channel still not configured; cut to fit.
        again = await redrive(by_key["o-2"])
        assert (again.status_code, again.json()["reason"]) == (409, "unparseable")
        again = await redrive(unhandled)
        assert (again.status_code, again.json()["reason"]) == (409, "handler_error")
        assert "channel shop-nl is not configured" in again.json()["detail"] and handled == []
        again = await redrive(by_key["o-8"])
        assert (again.status_code, again.json()["reason"]) == (409, "payload_truncated")
        assert f"replay the original at {topic}[0]@80" in again.json()["detail"]

        known_channels.add("shop-nl")  # the fix
        assert ((await redrive(unhandled)).status_code, handled) == (200, [unconfigured.event_id])
        second = await redrive(unhandled)  # the consumer's inbox has it: a no-op
        assert (second.status_code, second.json(), handled) == (200, {"outcome": "handled"}, [unconfigured.event_id])
        assert (await redrive(by_key["o-9"])).json() == {"outcome": "ignored"}

        # The consumer group's offsets did not move, and nothing was dead-lettered again.
        assert await committed_offset_total(kafka_bootstrap, group, topic) == 2
        assert len((await client.get("/v1/dead-letters", params={"topic": topic, "limit": 10})).json()) == 4

        other = await client.post(f"/v1/dead-letters/{dlq}/0/0/redrive")  # the other service's, dead-lettered first
        assert other.status_code == 404 and "other-service.order-events" in other.json()["detail"]
        for path in (f"/v1/dead-letters/{topic_prefix}warehouse.events.v1.dlq/0/0/redrive",
                     f"/v1/dead-letters/{dlq}/0/999/redrive", f"/v1/dead-letters/{dlq}/7/0/redrive"):
            assert (await client.post(path)).status_code == 404, path
        for path, field in ((f"/v1/dead-letters/{dlq}/-1/0/redrive", "partition"),
                            (f"/v1/dead-letters/{dlq}/0/abc/redrive", "offset"),
                            (f"/v1/dead-letters/{dlq}/0/{2**64}/redrive", "offset"),
                            ("/v1/dead-letters/not%20a%20topic/0/0/redrive", "dlq_topic")):
            answer = await client.post(path)
            assert (answer.status_code, answer.json()["detail"][0]["loc"]) == (422, ["path", field]), path
        unconsumed = await client.get("/v1/dead-letters", params={"topic": WAREHOUSE_EVENTS})
        assert (unconsumed.status_code, unconsumed.json()["detail"][0]["loc"]) == (422, ["query", "topic"])

        auditor, operator = test_issuer().bearer("ada", AUDITOR), test_issuer().bearer("wes", WAREHOUSE_OPERATOR)
        assert (await client.get("/v1/dead-letters", headers=auditor)).status_code == 200
        assert (await client.post(f"/v1/dead-letters/{dlq}/0/0/redrive", headers=auditor)).status_code == 403
        assert (await client.get("/v1/dead-letters", headers=operator)).status_code == 403


async def _committed(bootstrap: str, group: str, topic: str, total: int) -> bool:
    return await committed_offset_total(bootstrap, group, topic) == total
