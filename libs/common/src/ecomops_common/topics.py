"""Versioned topic names and their explicit creation at start-up (auto-create stays off)."""

import logging
import re
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ecomops_common.kafka_security import KafkaSecurity, connection_options

log = logging.getLogger(__name__)

TOPIC_NAME = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$")
DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    """`<context>.<stream>.v<major>`; a breaking contract change is a new major, i.e. a new topic."""

    name: str
    partitions: int = 6
    with_dead_letters: bool = False

    def __post_init__(self) -> None:
        if not TOPIC_NAME.match(self.name):
            raise ValueError(f"topic {self.name!r} is not named <context>.<stream>.v<major>")

    @property
    def dead_letter(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


async def ensure_topics(
    bootstrap_servers: str, specs: list[TopicSpec], prefix: str = "", replication_factor: int = 1,
    security: KafkaSecurity | None = None,
) -> None:
    """Create missing topics (and their dead-letter topics); existing ones are left as they are."""
    wanted: dict[str, int] = {}
    for spec in specs:
        wanted[prefix + spec.name] = spec.partitions
        if spec.with_dead_letters:
            wanted[prefix + spec.dead_letter] = 1
    admin = AIOKafkaAdminClient(**connection_options(bootstrap_servers, security), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, n, replication_factor) for name, n in wanted.items() if name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # created by a replica starting at the same time
            log.info("created topics", extra={"topics": [t.name for t in missing]})
    finally:
        await admin.close()
