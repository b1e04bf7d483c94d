import json
import uuid

import pytest
from aiokafka import ConsumerRecord
from pydantic import BaseModel, ValidationError

from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.envelope import EventEnvelope
from ecomops_common.ids import new_id, uuid7
from ecomops_common.messaging import IGNORED, MessageRejected, bare_decoder, envelope_decoder
from ecomops_common.settings import ServiceSettings
from ecomops_common.topics import TopicSpec


def test_uuid7_is_version_7_and_monotonic():
    ids = [uuid7() for _ in range(10_000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert uuid.UUID(new_id()).version == 7


def test_envelope_headers_carry_type_version_id_and_trace():
    envelope = EventEnvelope(event_type="OrderPlaced", schema_version=1, source="order", aggregate_type="order",
                             aggregate_id="o1", traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
                             payload={"a": 1})
    headers = dict(envelope.kafka_headers())
    assert headers["event_type"] == b"OrderPlaced"
    assert headers["event_version"] == b"1"
    assert headers["event_id"] == envelope.event_id.encode()
    assert headers["traceparent"].startswith(b"00-111")


@pytest.mark.parametrize("name", ["orders", "order.events", "Order.events.v1", "order.events.v0", "a.b.c.v1"])
def test_topic_names_must_be_context_stream_major(name):
    with pytest.raises(ValueError):
        TopicSpec(name)


def test_topic_spec_knows_its_dead_letter_topic():
    assert TopicSpec("channel.orders.v12").dead_letter == "channel.orders.v12.dlq"


def test_settings_default_to_an_embedded_sqlite_file_per_service(monkeypatch, tmp_path):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = ServiceSettings(service_name="order", data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'order.db'}"



def test_production_refuses_insecure_defaults():
    with pytest.raises(ValidationError, match="OIDC_ISSUER must name.*PostgreSQL"):
        ServiceSettings(service_name="order", environment="production", oidc_issuer=None)
    secure = {"environment": "production", "oidc_issuer": "https://login.example/realms/shop",
              "kafka": {"security_protocol": "SASL_SSL", "sasl_username": "order", "sasl_password": "from-vault"},
              "database_url": "postgresql+asyncpg://order_app:strong@db/order"}
    ok = ServiceSettings(service_name="order", **secure)
    assert ok.database_url.startswith("postgresql")
    assert ok.migration_database_url == ok.database_url  # one role for both unless a migration URL is given
    with pytest.raises(ValidationError, match="migration_database_url uses a development password"):
        ServiceSettings(service_name="order", **secure,
                        migration_database_url="postgresql+asyncpg://order_service:order_service@db/order")
    # The static token is a local-development switch only: production takes the issuer's tokens, whatever its value.
    with pytest.raises(ValidationError, match="api_token is for local development only"):
        ServiceSettings(service_name="order", **secure, api_token="s3cr3t-from-vault")
    with pytest.raises(ValidationError, match="OIDC_ISSUER must name the OpenID Connect issuer"):
        ServiceSettings(service_name="order", **{**secure, "oidc_issuer": None})
    assert ServiceSettings(service_name="order", api_token="local-secret").api_token == "local-secret"  # development


def test_shared_kafka_variable_and_prefixed_service_variables(monkeypatch):
    from pydantic_settings import SettingsConfigDict

    class OrderSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="ORDER_")

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("ORDER_DATABASE_URL", "postgresql+asyncpg://u:p@h/db")
    settings = OrderSettings(service_name="order")
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.database_url == "postgresql+asyncpg://u:p@h/db"


def record(value: bytes, headers=()) -> ConsumerRecord:
    return ConsumerRecord("channel.orders.v1", 0, 7, 0, 0, b"k", value, None, len(value), 0, list(headers))


def test_money_is_never_a_float():
    with pytest.raises(ValidationError, match="decimal string"):
        from ecomops_common.contracts.channel import Payment

        Payment(status="authorized", amount=64.96, method="card")


@pytest.mark.parametrize(("value", "reason"), [
    (b"{not json", "unparseable"),
    (b"", "unparseable"),
    (json.dumps({"channel": "web"}).encode(), "schema_invalid"),
])
def test_bare_decoder_classifies_bad_messages(value, reason):
    with pytest.raises(MessageRejected) as rejected:
        bare_decoder(ChannelOrder, 1)(record(value))
    assert rejected.value.reason == reason


def test_bare_decoder_refuses_an_unknown_major_version():
    with pytest.raises(MessageRejected) as rejected:
        bare_decoder(ChannelOrder, 1)(record(b"{}", [("event_version", b"2")]))
    assert rejected.value.reason == "unknown_version"


class Thing(BaseModel):
    n: int


def envelope_bytes(event_type="ThingHappened", version=1, payload=None) -> bytes:
    return EventEnvelope(event_type=event_type, schema_version=version, source="s", aggregate_type="thing",
                         aggregate_id="t1", payload=payload or {"n": 1}).model_dump_json().encode()


def test_envelope_decoder_validates_payload_and_ignores_other_event_types():
    decode = envelope_decoder(1, {"ThingHappened": Thing})
    envelope, thing = decode(record(envelope_bytes()))
    assert thing == Thing(n=1) and envelope.aggregate_id == "t1"
    assert decode(record(envelope_bytes(event_type="SomethingElse"))) is IGNORED
    for bad, reason in [(envelope_bytes(version=2), "unknown_version"),
                        (envelope_bytes(payload={"n": "x"}), "schema_invalid"),
                        (b"[]", "schema_invalid")]:
        with pytest.raises(MessageRejected) as rejected:
            decode(record(bad))
        assert rejected.value.reason == reason


def test_envelope_decoder_skips_other_event_types_by_their_header_unparsed():
    """The relay's event_type header decides before the value is parsed: another type is skipped even when its
    value would not parse (its own consumers dead-letter it); a wanted type is still checked whole."""
    decode = envelope_decoder(1, {"ThingHappened": Thing})
    assert decode(record(b"not json", [("event_type", b"SomethingElse")])) is IGNORED
    with pytest.raises(MessageRejected) as rejected:
        decode(record(b"not json", [("event_type", b"ThingHappened")]))
    assert rejected.value.reason == "unparseable"
    envelope, thing = decode(record(envelope_bytes(), [("event_type", b"ThingHappened")]))
    assert thing == Thing(n=1)


async def test_a_batch_that_fails_unexpectedly_is_fetched_again_not_skipped():
    from ecomops_common.messaging import BatchConsumer

    class FakeBatch:
        raw_message = (record(b"{}"),)
        consumer = None
        nacked = False

        async def nack(self):
            self.nacked = True

    def broken_decoder(_record):
        raise RuntimeError("a bug in decoding")

    async def handle(_deliveries):
        raise AssertionError("not reached")

    batch = FakeBatch()
    await BatchConsumer("c", "channel.orders.v1", broken_decoder, handle)._on_batch(batch)
    assert batch.nacked


async def test_a_paced_consumer_takes_a_batch_at_most_every_pace_unless_the_batch_was_full():
    """consumer_pace_s: after a batch smaller than max_records the consumer waits out the pace (the records of
    the pause come as the next batch); after a full one it goes on at once (a backlog is not slowed down)."""
    import time

    from ecomops_common.messaging import BatchConsumer

    class FakeBatch:
        consumer = None

        def __init__(self, size: int) -> None:
            self.raw_message = tuple(record(b"{}") for _ in range(size))

    consumer = BatchConsumer("c", "channel.orders.v1", lambda _record: None, None, max_records=3, pace_s=0.3)
    processed = []

    async def process(records, _consumer):
        processed.append(len(records))

    consumer.process = process
    for size, at_least, below in ((1, 0.25, 1.0), (3, 0.0, 0.1)):
        started = time.monotonic()
        await consumer._on_batch(FakeBatch(size))
        assert at_least <= time.monotonic() - started < below, size
    assert processed == [1, 3]
