"""Sample messages for tests and benchmarks: the README's channel order, valid as it stands."""

import copy
from typing import Any

from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.envelope import EventEnvelope, new_event
from ecomops_common.ids import new_id

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


def order_placed(order_id: str | None = None, lines: list[tuple[str, str, int]] = (("1", "SKU-RED-M", 1),), *,
                 channel: str = "web-eu", tier: str = "standard", service_level: str = "standard",
                 placed_at: str = "2026-11-20T10:00:00Z", promised_date: str | None = None,
                 country: str = "DE", held: bool = False) -> EventEnvelope:
    """An OrderPlaced envelope as the order service publishes it, for tests and benchmarks of its consumers."""
    order_id = order_id or new_id()
    document = channel_order(
        channel=channel, external_order_id=order_id, placed_at=placed_at, service_level=service_level,
        promised_date=promised_date, customer={"id": "c-42", "tier": tier},
        ship_to={**CHANNEL_ORDER["ship_to"], "country": country},
        lines=[{"line_id": line_id, "sku": sku, "quantity": qty, "unit_price": "10.00"} for line_id, sku, qty in lines])
    payload = OrderPlaced.model_validate({
        **document, "order_id": order_id, "total": "0.00",
        "status": "on_hold" if held else "awaiting_allocation", "holds": ["payment_hold"] if held else []})
    return new_event("OrderPlaced", 1, "order", "order", order_id, payload)

