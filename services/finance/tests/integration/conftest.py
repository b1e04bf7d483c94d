import httpx
import pytest

from ecomops_common.testing.plugin import running
from finance_service.adapters.payment_provider import HttpPaymentProvider
from finance_service.bootstrap import build_app
from finance_service.settings import FinanceSettings
from payment_simulator import create_simulator_app

ADMIN = {"authorization": "Bearer test-token", "x-actor": "fin:maria"}


@pytest.fixture
def service_under_test() -> str:
    return "finance"


@pytest.fixture
async def finance(database_url, kafka_bootstrap, topic_prefix):
    """The finance service in this process, paying through the simulated provider (in process too), and an
    HTTP client on it; `finance.provider` is a client on the simulator's own API."""
    settings = FinanceSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                               topic_prefix=topic_prefix, topic_partitions=2, api_token="test-token",
                               payout_interval_s=0.1, payout_retry_s=0.2, payment_timeout_s=0.5,
                               parked_retry_interval_s=0.2)
    simulator = httpx.ASGITransport(app=create_simulator_app())
    app = build_app(settings, HttpPaymentProvider("http://provider", settings.payment_timeout_s, simulator))
    async with running(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://finance",
                                     headers=ADMIN) as client, \
                httpx.AsyncClient(transport=simulator, base_url="http://provider") as provider:
            client.settings, client.unit_of_work, client.provider = settings, app.state.unit_of_work, provider
            yield client
