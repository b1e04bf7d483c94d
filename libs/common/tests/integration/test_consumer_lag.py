"""Consumer lag asked of the real broker: what a group has committed against what its partitions hold."""

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from ecomops_common import metrics
from ecomops_common.kafka_security import connection_options
from ecomops_common.lag import sample_consumer_lag
from ecomops_common.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


async def test_a_group_with_no_consumer_running_shows_its_lag_growing(kafka_bootstrap, topic_prefix):
    topic, group = topic_prefix + "test.lagging.v1", topic_prefix + "lagging"
    await ensure_topics(kafka_bootstrap, [TopicSpec("test.lagging.v1", 2)], topic_prefix)
    await produce_to(kafka_bootstrap, topic, partition=0, count=3)
    await produce_to(kafka_bootstrap, topic, partition=1, count=2)
    # The group finished partition 0's 3 messages and never committed on partition 1; no consumer runs.
    committer = AIOKafkaConsumer(**connection_options(kafka_bootstrap), group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "")})
    finally:
        await committer.stop()

    def lag() -> tuple[float, float]:
        return tuple(metrics.CONSUMER_GROUP_LAG.labels(group, topic, str(p))._value.get() for p in (0, 1))

    await sample_consumer_lag(kafka_bootstrap, [(group, topic)])
    assert lag() == (0, 2)  # partition 1 counts from the start of its log, where the group would begin
    await produce_to(kafka_bootstrap, topic, partition=0, count=4)
    await sample_consumer_lag(kafka_bootstrap, [(group, topic)])
    assert lag() == (4, 2)


async def test_an_unreachable_broker_leaves_the_gauges_as_they_were(caplog):
    # Nothing listens on port 1: connection refused at once.
    await sample_consumer_lag("127.0.0.1:1", [("some-group", "some.topic.v1")])
    assert "consumer lag not sampled" in caplog.text


async def produce_to(bootstrap: str, topic: str, *, partition: int, count: int) -> None:
    producer = AIOKafkaProducer(**connection_options(bootstrap))
    await producer.start()
    try:
        for _ in range(count):
            await producer.send_and_wait(topic, b"m", partition=partition)
    finally:
        await producer.stop()
