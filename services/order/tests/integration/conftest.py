from datetime import UTC, datetime

import pytest

from ecomops_common.db import Database
from ecomops_common.testing.plugin import serving
from order_service.bootstrap import build_app
from order_service.domain.catalog import CatalogSku
from order_service.service_layer.unit_of_work import SqlOrderUnitOfWork
from order_service.settings import OrderSettings


@pytest.fixture
def service_under_test() -> str:
    return "order"


SAMPLE_SKUS = ("SKU-RED-M", "SKU-RED-M-B", "SKU-RED-M-OPEN")  # the SKUs of the tests' orders


@pytest.fixture(autouse=True)
async def catalog_knows_the_sample_skus(database_url):
    """The catalog told the order service of the SKUs the tests' orders are for: without it they would be held."""
    database = Database(database_url)
    try:
        async with SqlOrderUnitOfWork(database) as uow:
            await uow.orders.save_catalog_entries([CatalogSku(sku, 1, active=True) for sku in SAMPLE_SKUS],
                                                  datetime.now(UTC))
            await uow.commit()
    finally:
        await database.dispose()


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
