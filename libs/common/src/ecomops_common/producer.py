"""The one Kafka producer configuration for everything the platform must not lose."""

from aiokafka import AIOKafkaProducer


def kafka_producer(bootstrap_servers: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=True,  # implies acks=all and ordered retries per partition
        acks="all",
        linger_ms=2,
        max_batch_size=512 * 1024,
        request_timeout_ms=10_000,
    )
