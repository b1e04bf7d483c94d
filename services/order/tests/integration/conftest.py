import httpx
import pytest

from ecomops_common.testing.plugin import running
from order_service.bootstrap import build_app
from order_service.settings import OrderSettings


@pytest.fixture
def service_under_test() -> str:
    return "order"


@pytest.fixture
async def order_service(database_url, kafka_bootstrap, topic_prefix):
    """The order service in this process and an HTTP client on it; `client.settings` are the service's."""
    settings = OrderSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                             topic_prefix=topic_prefix, topic_partitions=2, api_token="test-token")
    app = build_app(settings)
    async with running(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://order") as client:
            client.settings = settings
            yield client
