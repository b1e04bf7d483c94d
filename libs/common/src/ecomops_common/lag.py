"""Consumer lag as the broker sees it: per group and partition, the end offset minus the group's committed offset.

A consumer that reports its own lag stops reporting when it stalls, which is when lag matters most. The
service's periodic job (ServiceRuntime) asks the broker instead, so a group whose consumer hangs, crashed or
never joined still shows its lag growing. Every replica of a service samples the same groups: take the max.
"""

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from ecomops_common import metrics
from ecomops_common.kafka_security import KafkaSecurity, connection_options

log = logging.getLogger(__name__)
_TIMEOUT_MS = 10_000


async def group_lag(bootstrap_servers: str, groups: Iterable[tuple[str, str]],
                    security: KafkaSecurity | None = None) -> dict[tuple[str, str, int], int]:
    """(group, topic, partition) -> messages the group has not committed yet, for each (group, topic) given.
    A partition the group has no committed offset on counts from the start of its log, where the group's
    consumers begin (auto_offset_reset=earliest)."""
    groups = sorted(set(groups))
    if not groups:
        return {}
    admin = AIOKafkaAdminClient(**connection_options(bootstrap_servers, security), request_timeout_ms=_TIMEOUT_MS)
    # Without a group: it only reads offsets, and never joins or commits anything.
    offsets = AIOKafkaConsumer(**connection_options(bootstrap_servers, security), group_id=None,
                               enable_auto_commit=False, request_timeout_ms=_TIMEOUT_MS)
    try:
        await admin.start()
        await offsets.start()
        described = await admin.describe_topics(sorted({topic for _, topic in groups}))
        partitions = {t["topic"]: [TopicPartition(t["topic"], p["partition"]) for p in t["partitions"]]
                      for t in described}  # a topic not created yet has none
        every = [tp for tps in partitions.values() for tp in tps]
        end, start = await offsets.end_offsets(every), await offsets.beginning_offsets(every)
        lag: dict[tuple[str, str, int], int] = {}
        for group, topic in groups:
            if not partitions.get(topic):
                continue
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions[topic])
            for tp in partitions[topic]:
                meta = committed.get(tp)
                position = max(meta.offset if meta is not None else -1, start[tp])  # -1: nothing committed
                lag[group, topic, tp.partition] = max(0, end[tp] - position)
        return lag
    finally:
        await offsets.stop()
        await admin.close()


async def sample_consumer_lag(bootstrap_servers: str, groups: Iterable[tuple[str, str]],
                              security: KafkaSecurity | None = None) -> None:
    """Sets ecomops_consumer_group_lag; while Kafka is unreachable the gauges keep their last values."""
    try:
        lag = await asyncio.wait_for(group_lag(bootstrap_servers, groups, security), 3 * _TIMEOUT_MS / 1000)
    except (KafkaError, OSError, TimeoutError) as error:
        log.warning("consumer lag not sampled, Kafka did not answer: %r", error)
        return
    for (group, topic, partition), messages in lag.items():
        metrics.CONSUMER_GROUP_LAG.labels(group, topic, str(partition)).set(messages)
