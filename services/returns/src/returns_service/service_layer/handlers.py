"""The returns service's handler registry: what it consumes, and the service-layer function each message goes to.
The runtime makes a consumer group of each entry (ecomops_common.handlers); every handler commits."""

from functools import partial

from ecomops_common.contracts import (
    CATALOG_SKUS,
    CHANNEL_RETURNS,
    FINANCE_EVENTS,
    ORDER_EVENTS,
    SHIPPING_EVENTS,
    WAREHOUSE_EVENTS,
)
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.finance import RefundIssued, UnitCostChanged
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import ReturnRequest
from ecomops_common.contracts.shipping import ReturnLabelIssued
from ecomops_common.contracts.warehouse import (
    OrderFulfilmentChanged,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
)
from ecomops_common.handlers import Subscription, on
from returns_service.domain.policy import starts_return_window
from returns_service.service_layer.catalog import follow_catalog
from returns_service.service_layer.handling import follow_finance, follow_shipping, follow_warehouse
from returns_service.service_layer.intake import follow_orders, take_channel_returns
from returns_service.service_layer.vendor_claims import record_unit_costs
from returns_service.settings import ReturnsSettings


def handlers(settings: ReturnsSettings) -> list[Subscription]:
    # Only the warehouse's events need the inbox: return requests are idempotent by (channel, request_id), placed
    # orders are upserted, issuing a refund twice is a no-op in the domain, unit costs and the catalog's SKUs keep
    # the newest, and an RMA's return label held already changes nothing.
    return [
        on(CHANNEL_RETURNS, "returns-service.channel-returns",
           partial(take_channel_returns, default_node=settings.default_node), ReturnRequest, once=False),
        on(ORDER_EVENTS, "returns-service.order-events", follow_orders, OrderPlaced, once=False),
        on(WAREHOUSE_EVENTS, "returns-service.warehouse-events",
           partial(follow_warehouse, write_off_approval_value=settings.write_off_approval_value), ShipmentDispatched,
           OrderFulfilmentChanged, ReturnReceived, ReturnInspected, ReturnDispositionApplied,
           wants=follows_warehouse),
        on(FINANCE_EVENTS, "returns-service.finance-events", follow_finance, RefundIssued, once=False),
        on(FINANCE_EVENTS, "returns-service.unit-costs", record_unit_costs, UnitCostChanged, once=False),
        on(CATALOG_SKUS, "returns-service.catalog-skus", follow_catalog, SkuChanged, once=False),
        on(SHIPPING_EVENTS, "returns-service.shipping-events", follow_shipping, ReturnLabelIssued, once=False),
    ]


def follows_warehouse(message) -> bool:
    """Every warehouse fact taken but the stages before delivery: those would only cost an inbox row each."""
    return not isinstance(message, OrderFulfilmentChanged) or starts_return_window(message.stage.value)
