"""Production refuses to buy labels from the carrier simulator; cut-offs are read in time zones that exist."""

import os

import pytest
from pydantic import ValidationError

from shipping_service.settings import ShippingSettings

PRODUCTION = {"environment": "production", "oidc_issuer": "https://id.example.com/realms/shop",
              "kafka": {"security_protocol": "SASL_SSL"},
              "database_url": "postgresql+asyncpg://shipping_app:strong@db/shipping",
              "migration_database_url": "postgresql+asyncpg://shipping_owner:stronger@db/shipping"}


@pytest.fixture(autouse=True)
def no_shipping_environment(monkeypatch):
    """Only what a test gives counts (a shell with scripts/infra/env.sh exports development settings)."""
    for name in list(os.environ):
        if name.startswith("SHIPPING_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("url", [None, "http://127.0.0.1:8091", "http://localhost:8091/", "http://[::1]:8091",
                                 "http://carrier-simulator:8091", "https://prod-ecomops-carrier-simulator.ns.svc:8091"])
def test_production_refuses_the_carrier_simulator(url):
    given = {} if url is None else {"carrier_url": url}
    with pytest.raises(ValidationError, match="carrier simulator.*SHIPPING_CARRIER_URL"):
        ShippingSettings(**PRODUCTION, **given)


@pytest.mark.parametrize("url", ["https://carrier-gateway.example.com", "http://127.0.0.1:9000"])
def test_production_accepts_a_real_carrier(url):
    assert ShippingSettings(**PRODUCTION, carrier_url=url).carrier_url == url


def test_node_time_zones_must_exist():
    settings = ShippingSettings(node_time_zones={"WH1": "Europe/Berlin"})
    assert (str(settings.zone_of("WH1")), str(settings.zone_of("WH2"))) == ("Europe/Berlin", "UTC")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        ShippingSettings(node_time_zones={"WH1": "Mars/Olympus"})
    with pytest.raises(ValidationError, match="time_zone"):
        ShippingSettings(time_zone="Nowhere")
