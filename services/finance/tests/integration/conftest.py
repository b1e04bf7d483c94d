import httpx
import pytest

from ecomops_common.auth import FINANCE_CLERK
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import serving
from finance_service.adapters.payment_provider import HttpPaymentProvider
from finance_service.bootstrap import build_app
from finance_service.settings import FinanceSettings
from payment_simulator import create_simulator_app


@pytest.fixture
def service_under_test() -> str:
    return "finance"


@pytest.fixture
async def finance(settings_for):
    """The finance service in this process, paying through the simulated provider (in process too), and an
    HTTP client on it calling as finance clerk fin:maria; `finance.provider` is a client on the simulator's own
    API."""
    settings = settings_for(FinanceSettings, payout_interval_s=0.1, payout_retry_s=0.2, payment_timeout_s=0.5,
                            parked_retry_interval_s=0.2)
    simulator = httpx.ASGITransport(app=create_simulator_app())
    app = build_app(settings, HttpPaymentProvider("http://provider", settings.payment_timeout_s, simulator))
    async with serving(app, test_issuer().bearer("fin:maria", FINANCE_CLERK)) as client, \
            httpx.AsyncClient(transport=simulator, base_url="http://provider") as provider:
        client.provider = provider
        yield client
