import pytest

from ecomops_common.testing import samples
from ecomops_common.testing.plugin import free_port


def channel_order(external_order_id: str) -> dict:
    return samples.channel_order(external_order_id=external_order_id)


@pytest.fixture
def order_service_env(database_url, kafka_bootstrap, topic_prefix):
    port = free_port()
    return {"ORDER_DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "ECOMOPS_TOPIC_PREFIX": topic_prefix, "ORDER_HTTP_PORT": str(port), "ORDER_LOG_LEVEL": "WARNING"}
