from datetime import UTC, datetime

import pytest

from allocation_service.domain.sourcing import OrderDemand
from allocation_service.domain.stock import StockPosition

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def t0() -> datetime:
    """When make_demand's orders are placed unless a test says otherwise."""
    return T0


@pytest.fixture
def make_demand():
    """A standard web order to DE for one unit of SKU A; each test changes what it is about."""

    def make(lines=(("1", "A", 1),), **changes) -> OrderDemand:
        fields = dict(order_id="o1", channel="web", lines=lines, ship_to_country="DE", service_level="standard",
                      customer_tier="standard", placed_at=T0, promised_date=None)
        fields.update(changes)
        return OrderDemand(**fields)

    return make


@pytest.fixture
def stock():
    """Positions keyed the way the domain expects: stock(StockPosition(...), ...) -> {(sku, node): position}."""

    def make(*positions: StockPosition) -> dict:
        return {position.key: position for position in positions}

    return make
