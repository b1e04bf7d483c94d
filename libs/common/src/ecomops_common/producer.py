"""The one Kafka producer configuration for everything the platform must not lose."""

from aiokafka import AIOKafkaProducer

from ecomops_common.kafka_security import KafkaSecurity, connection_options


def kafka_producer(bootstrap_servers: str, security: KafkaSecurity | None = None) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **connection_options(bootstrap_servers, security),
        enable_idempotence=True,  # implies acks=all and ordered retries per partition
        acks="all",
        linger_ms=2,
        max_batch_size=512 * 1024,
        request_timeout_ms=10_000,
    )
