import copy

import pytest

VALID_ORDER = {
    "channel": "web-eu", "external_order_id": "100234", "placed_at": "2026-11-20T10:00:00Z",
    "currency": "EUR",
    "customer": {"id": "c-42", "tier": "standard", "email": "a@example.com"},
    "ship_to": {"name": "A. Buyer", "line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "service_level": "standard",
    "payment": {"status": "authorized", "amount": "64.96", "method": "card"},
    "fraud_score": 12,
    "lines": [{"line_id": "1", "sku": "SKU-RED-M", "quantity": 3, "unit_price": "19.99"}],
    "shipping_fee": "4.99", "tax": "0.00",
}


@pytest.fixture
def order_json():
    """A valid channel order (the README's example); each test gets its own copy to change."""

    def make(**changes):
        document = copy.deepcopy(VALID_ORDER)
        document.update(changes)
        return document

    return make
