"""Production refuses to pay refunds through the payment simulator, whichever way its address is spelled."""

import os

import pytest
from pydantic import ValidationError

from finance_service.settings import FinanceSettings

PRODUCTION = {"environment": "production", "oidc_issuer": "https://id.example.com/realms/shop",
              "kafka": {"security_protocol": "SASL_SSL"},
              "database_url": "postgresql+asyncpg://finance_app:strong@db/finance",
              "migration_database_url": "postgresql+asyncpg://finance_owner:stronger@db/finance"}


@pytest.fixture(autouse=True)
def no_finance_environment(monkeypatch):
    """Only what a test gives counts (a shell with scripts/infra/env.sh exports development settings)."""
    for name in list(os.environ):
        if name.startswith("FINANCE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("url", [
    None,  # unset: the default is the simulator's local address
    "http://127.0.0.1:8090",
    "http://localhost:8090/",
    "http://[::1]:8090",
    "http://payment-simulator:8090",
    "http://Payment-Simulator.shop.svc.cluster.local:8090",
    "https://prod-ecomops-payment-simulator:8090",
])
def test_production_refuses_the_payment_simulator(url):
    given = {} if url is None else {"payment_provider_url": url}
    with pytest.raises(ValidationError, match="payment simulator.*FINANCE_PAYMENT_PROVIDER_URL"):
        FinanceSettings(**PRODUCTION, **given)


def test_production_refuses_the_simulator_from_the_environment(monkeypatch):
    monkeypatch.setenv("FINANCE_ENVIRONMENT", "production")
    monkeypatch.setenv("OIDC_ISSUER", PRODUCTION["oidc_issuer"])
    monkeypatch.setenv("FINANCE_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("FINANCE_DATABASE_URL", PRODUCTION["database_url"])
    monkeypatch.setenv("FINANCE_MIGRATION_DATABASE_URL", PRODUCTION["migration_database_url"])
    monkeypatch.setenv("FINANCE_PAYMENT_PROVIDER_URL", "http://payment-simulator:8090")
    with pytest.raises(ValidationError, match="payment simulator"):
        FinanceSettings()


@pytest.mark.parametrize("url", [
    "https://payments.example.com/v1",
    "http://127.0.0.1:9000",  # an adapter of the real provider as a sidecar
    "http://payment-adapter.payments.svc:8080",
    "http://simulator-payment-gateway:8090",
])
def test_production_accepts_a_real_provider(url):
    assert FinanceSettings(**PRODUCTION, payment_provider_url=url).payment_provider_url == url


def test_development_keeps_the_simulator_by_default():
    assert FinanceSettings().payment_provider_url == "http://127.0.0.1:8090"
