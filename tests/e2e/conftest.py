import copy

import pytest

from ecomops_common.testing.plugin import free_port

ORDER = {
    "channel": "web-eu", "external_order_id": "0", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
    "customer": {"id": "c-42", "tier": "standard", "email": "a@example.com"},
    "ship_to": {"name": "A. Buyer", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "service_level": "standard", "payment": {"status": "authorized", "amount": "64.96", "method": "card"},
    "fraud_score": 12, "lines": [{"line_id": "1", "sku": "SKU-RED-M", "quantity": 3, "unit_price": "19.99"}],
    "shipping_fee": "4.99", "tax": "0.00",
}


def channel_order(external_order_id: str) -> dict:
    document = copy.deepcopy(ORDER)
    document["external_order_id"] = external_order_id
    return document


@pytest.fixture
def order_service_env(database_url, kafka_bootstrap, topic_prefix):
    port = free_port()
    return {"ORDER_DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "ECOMOPS_TOPIC_PREFIX": topic_prefix, "ORDER_HTTP_PORT": str(port), "ORDER_LOG_LEVEL": "WARNING"}
