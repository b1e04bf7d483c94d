"""The order service's handler registry: what it consumes, and the service-layer function each message goes to.
The runtime makes a consumer group of each entry (ecomops_common.handlers); every handler commits."""

from functools import partial

from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    CATALOG_SKUS,
    CHANNEL_ORDERS,
    CHANNEL_PAYMENTS,
    FINANCE_EVENTS,
    RETURNS_EVENTS,
    SHIPPING_TRACKING,
    WAREHOUSE_EVENTS,
)
from ecomops_common.contracts.allocation import (
    AllocationReleased,
    BackorderPromiseChanged,
    OrderAllocated,
    OrderBackordered,
)
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.channel import ChannelOrder, PaymentUpdate
from ecomops_common.contracts.finance import StoreCreditChanged
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnStatusChanged
from ecomops_common.contracts.shipping import TrackingUpdated
from ecomops_common.contracts.warehouse import GradedVariantDefined, OrderFulfilmentChanged
from ecomops_common.handlers import Subscription, on
from order_service.service_layer.allocation import record_allocations
from order_service.service_layer.catalog import record_sku_changes
from order_service.service_layer.fulfilment import delivers_an_order, record_deliveries, record_warehouse_events
from order_service.service_layer.intake import take_channel_orders
from order_service.service_layer.lifecycle import SETTLING_KINDS, settle_store_credit, update_channel_payments
from order_service.service_layer.returns import record_returns
from order_service.settings import OrderSettings

ALLOCATION_CONSUMER = "order-service.allocation-events"
RETURNS_CONSUMER = "order-service.returns-events"
WAREHOUSE_CONSUMER = "order-service.warehouse-events"
FINANCE_CONSUMER = "order-service.finance-events"
CATALOG_CONSUMER = "order-service.catalog-skus"
TRACKING_CONSUMER = "order-service.shipping-tracking"


def settles_an_order(movement: StoreCreditChanged) -> bool:
    return movement.kind in SETTLING_KINDS and movement.order_id is not None


def handlers(settings: OrderSettings) -> list[Subscription]:
    # Not taken: AllocationExceptionRaised (for operators); ShipmentDispatched (for carriers and finance);
    # ReturnRefused, ReturnDispositionDecided and RefundApproved (for channels, the warehouse and finance);
    # store credit issued or restored (finance's own bookkeeping); tracking events other than an order's last
    # parcel delivered (for control).
    return [
        on(CHANNEL_ORDERS, "order-service.channel-orders",
           partial(take_channel_orders, policy=settings.intake_policy), ChannelOrder, once=False),
        on(CHANNEL_PAYMENTS, "order-service.channel-payments", update_channel_payments, PaymentUpdate, once=False),
        on(ALLOCATION_EVENTS, ALLOCATION_CONSUMER, record_allocations,
           OrderAllocated, OrderBackordered, AllocationReleased, BackorderPromiseChanged),
        on(WAREHOUSE_EVENTS, WAREHOUSE_CONSUMER, record_warehouse_events, OrderFulfilmentChanged,
           GradedVariantDefined),
        on(RETURNS_EVENTS, RETURNS_CONSUMER, record_returns, ReturnAuthorized, ReturnStatusChanged),
        on(FINANCE_EVENTS, FINANCE_CONSUMER, settle_store_credit, StoreCreditChanged, wants=settles_an_order),
        on(CATALOG_SKUS, CATALOG_CONSUMER, record_sku_changes, SkuChanged),
        on(SHIPPING_TRACKING, TRACKING_CONSUMER, record_deliveries, TrackingUpdated, wants=delivers_an_order),
    ]
