"""The shipping service's handler registry: what it consumes, and the service-layer function each message goes to.
The runtime makes a consumer group of each entry (ecomops_common.handlers); every handler commits. Each is
idempotent by its own key (intake.py), so none needs the inbox. The warehouse's other events are skipped by their
type header before any transaction."""

from ecomops_common.contracts import CATALOG_SKUS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import ReturnAuthorized
from ecomops_common.contracts.warehouse import ParcelPacked, ShipmentDispatched
from ecomops_common.handlers import Subscription, on
from shipping_service.service_layer.intake import follow_orders, follow_returns, follow_skus, follow_warehouse
from shipping_service.settings import ShippingSettings


def handlers(settings: ShippingSettings) -> list[Subscription]:
    return [
        on(ORDER_EVENTS, "shipping-service.order-events", follow_orders, OrderPlaced, once=False),
        on(CATALOG_SKUS, "shipping-service.catalog-skus", follow_skus, SkuChanged, once=False),
        on(WAREHOUSE_EVENTS, "shipping-service.warehouse-events", follow_warehouse, ParcelPacked, ShipmentDispatched,
           once=False),
        on(RETURNS_EVENTS, "shipping-service.returns-events", follow_returns, ReturnAuthorized, once=False),
    ]
