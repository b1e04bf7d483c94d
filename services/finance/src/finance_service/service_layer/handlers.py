"""The finance service's handler registry: every operational fact it follows goes to record_facts, the SKU master
to record_catalog_costs; one consumer group per topic. The runtime makes a consumer group of each entry
(ecomops_common.handlers); the handlers commit."""

from ecomops_common.contracts import CATALOG_SKUS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderStatus, OrderStatusChanged
from ecomops_common.contracts.returns import RefundApproved, ReturnAuthorized, VendorClaimChanged
from ecomops_common.contracts.warehouse import (
    GoodsReceived,
    RecoveryStockMoved,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
    StockAdjusted,
)
from ecomops_common.handlers import Subscription, on
from finance_service.service_layer.posting import record_facts
from finance_service.service_layer.purchasing import record_catalog_costs
from finance_service.settings import FinanceSettings


def changes_the_books(message: OrderPlaced | OrderStatusChanged) -> bool:
    """Of an order's status changes only a cancellation matters (it restores redeemed store credit): the others,
    four or more per order, are skipped before any transaction or inbox row."""
    return not isinstance(message, OrderStatusChanged) or message.to_status is OrderStatus.cancelled


def handlers(settings: FinanceSettings) -> list[Subscription]:
    return [
        on(ORDER_EVENTS, "finance-service.order-events", record_facts, OrderPlaced, OrderStatusChanged,
           wants=changes_the_books),
        on(WAREHOUSE_EVENTS, "finance-service.warehouse-events", record_facts, ShipmentDispatched, ReturnReceived,
           ReturnInspected, ReturnDispositionApplied, StockAdjusted, RecoveryStockMoved, GoodsReceived),
        on(RETURNS_EVENTS, "finance-service.returns-events", record_facts, ReturnAuthorized, RefundApproved,
           VendorClaimChanged),
        # idempotent by the SKU's revision (an older or repeated one changes nothing): no inbox row
        on(CATALOG_SKUS, "finance-service.catalog-skus", record_catalog_costs, SkuChanged, once=False),
    ]
