import pytest

from ecomops_common.testing.plugin import serving
from order_service.bootstrap import build_app
from order_service.settings import OrderSettings


@pytest.fixture
def service_under_test() -> str:
    return "order"


@pytest.fixture
def order_settings() -> dict:
    """Changes to the order service's test settings; a test module overrides it."""
    return {}


@pytest.fixture
async def order_service(settings_for, order_settings):
    """The order service in this process and an HTTP client on it; `client.settings` are the service's."""
    async with serving(build_app(settings_for(OrderSettings, **order_settings))) as client:
        yield client


@pytest.fixture
def anonymously(order_service):
    """Sends a request of the order service's client without its token: `await anonymously("GET", url)`."""
    async def send(method: str, url: str, **kwargs):
        request = order_service.build_request(method, url, **kwargs)
        del request.headers["authorization"]
        return await order_service.send(request)

    return send
