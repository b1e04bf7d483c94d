"""Sample messages for tests and benchmarks: the README's channel order, valid as it stands."""

import copy
from typing import Any

CHANNEL_ORDER: dict[str, Any] = {
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


def channel_order(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the sample order with top-level fields replaced."""
    return {**copy.deepcopy(CHANNEL_ORDER), **changes}
