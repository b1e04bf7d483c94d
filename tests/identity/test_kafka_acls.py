"""Kafka locked down: the local broker takes SASL only and authorizes with the KRaft StandardAuthorizer, and each
principal may do only what deploy/helm/ecomops/files/kafka-acls.json (generated from the services' definitions)
grants it. The grants are applied here for this test's topic prefix, as `ecomops-kafka-setup --prefix` does."""

import json
import os
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed, TopicAuthorizationFailedError

from ecomops_common.auth import SUPERVISOR
from ecomops_common.contracts import CHANNEL_ORDERS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_SCANS
from ecomops_common.kafka_security import KafkaSecurity, connection_options
from ecomops_common.kafka_setup import acl_bindings, admin_client, development_password
from ecomops_common.testing.infrastructure import repo_root
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, running, serving
from ecomops_common.topics import TopicSpec, ensure_topics
from returns_service.bootstrap import build_app
from returns_service.settings import ReturnsSettings

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.environ.get("KAFKA_SECURITY_PROTOCOL", "").startswith("SASL"),
                                 reason="the broker under test does not authenticate (not scripts/infra/kafka.sh)")]

GRANTS = json.loads((repo_root() / Path("deploy/helm/ecomops/files/kafka-acls.json")).read_text())["principals"]
FORGED_REFUND = json.dumps({"event_type": "RefundApproved", "payload": {"refund_id": "forged", "amount": "999.00"}})


@pytest.fixture
def service_under_test() -> str:
    return "returns"


@pytest.fixture
def granted(kafka_bootstrap, topic_prefix):
    """This test's prefix gets the grants every principal has on the unprefixed topics; removed afterwards."""
    admin = admin_client(kafka_bootstrap)
    bindings = acl_bindings(GRANTS, topic_prefix)
    admin.create_acls(bindings)
    yield topic_prefix
    admin.delete_acls(bindings)
    admin.close()


def principal(name: str, password: str | None = None) -> KafkaSecurity:
    return KafkaSecurity(sasl_username=name, sasl_password=password or development_password(name))


async def publish(bootstrap: str, security: KafkaSecurity, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(**connection_options(bootstrap, security), enable_idempotence=True,
                                request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def test_only_the_returns_principal_may_publish_refund_approvals(kafka_bootstrap, granted, settings_for):
    # The returns service runs as its own principal: with its grants alone it creates its topics and joins its groups.
    settings = settings_for(ReturnsSettings, kafka=principal("returns"))
    async with running(build_app(settings)):
        await publish(kafka_bootstrap, principal("returns"), granted + RETURNS_EVENTS, FORGED_REFUND.encode())
        for forger in ("warehouse", "finance", "connector", "scanner"):
            with pytest.raises(TopicAuthorizationFailedError):
                await publish(kafka_bootstrap, principal(forger), granted + RETURNS_EVENTS, FORGED_REFUND.encode())


async def test_a_service_reads_and_redrives_its_dead_letters_as_its_own_principal(kafka_bootstrap, granted,
                                                                                 settings_for):
    # Its /v1/dead-letters routes read the dead-letter topics of what it consumes without a consumer group.
    settings = settings_for(ReturnsSettings, kafka=principal("returns"))
    async with serving(build_app(settings), headers=test_issuer().bearer("sam", SUPERVISOR)) as client:
        await publish(kafka_bootstrap, principal("order"), granted + ORDER_EVENTS, b"{not json")

        async def listed() -> list[dict]:
            return (await client.get("/v1/dead-letters", params={"topic": ORDER_EVENTS})).json()

        async def dead_lettered() -> bool:
            return len(await listed()) == 1

        await eventually(dead_lettered)
        (dead_letter,) = await listed()
        redrive = f"/v1/dead-letters/{dead_letter['dlq_topic']}/{dead_letter['partition']}/{dead_letter['offset']}"
        again = await client.post(redrive + "/redrive")
        assert (again.status_code, again.json()["reason"]) == (409, "unparseable")


async def test_connectors_write_only_channel_topics_and_scanners_only_scans(kafka_bootstrap, granted):
    await ensure_topics(kafka_bootstrap, [TopicSpec(CHANNEL_ORDERS, 1), TopicSpec(WAREHOUSE_SCANS, 1)], granted)
    await publish(kafka_bootstrap, principal("connector"), granted + CHANNEL_ORDERS, b"{}")
    await publish(kafka_bootstrap, principal("scanner"), granted + WAREHOUSE_SCANS, b"{}")
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(kafka_bootstrap, principal("scanner"), granted + CHANNEL_ORDERS, b"{}")
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(kafka_bootstrap, principal("connector"), granted + WAREHOUSE_SCANS, b"{}")


async def test_unauthenticated_and_wrong_password_clients_are_refused(kafka_bootstrap):
    with pytest.raises((KafkaConnectionError, SaslAuthenticationFailed)):
        await publish(kafka_bootstrap, principal("returns", "guessed"), RETURNS_EVENTS, b"{}")
    with pytest.raises(KafkaConnectionError):
        await publish(kafka_bootstrap, KafkaSecurity(security_protocol="PLAINTEXT"), RETURNS_EVENTS, b"{}")
