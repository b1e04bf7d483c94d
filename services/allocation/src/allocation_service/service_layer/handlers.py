"""The allocation service's handler registry: each topic it consumes, its consumer group and handler."""

from allocation_service.domain.requests import concerns_allocation
from allocation_service.service_layer.allocation import take_order_events, take_stock_levels
from allocation_service.service_layer.supply import take_purchase_orders, take_transfers, wants_purchase_order
from allocation_service.settings import AllocationSettings
from ecomops_common.contracts import INVENTORY_STOCK, ORDER_EVENTS, SUPPLY_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.inventory import StockLevelChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.contracts.supply import PurchaseOrderChanged
from ecomops_common.contracts.warehouse import TransferChanged
from ecomops_common.handlers import Subscription, on

ORDER_EVENTS_CONSUMER = "allocation-service.order-events"
STOCK_LEVELS_CONSUMER = "allocation-service.stock-levels"
PURCHASE_ORDERS_CONSUMER = "allocation-service.purchase-orders"
TRANSFERS_CONSUMER = "allocation-service.transfers"


def asks_allocation(message: OrderPlaced | OrderStatusChanged) -> bool:
    """A new order always does; a status change only if the domain says so (the order service's own progress,
    e.g. picking or shipped, costs no transaction here)."""
    return not isinstance(message, OrderStatusChanged) or concerns_allocation(message.to_status.value)


def handlers(settings: AllocationSettings) -> list[Subscription]:
    # Not taken: OrderRejected (a rejected order is never placed, so nothing was reserved for it).
    return [
        on(ORDER_EVENTS, ORDER_EVENTS_CONSUMER, take_order_events, OrderPlaced, OrderStatusChanged,
           wants=asks_allocation),
        on(INVENTORY_STOCK, STOCK_LEVELS_CONSUMER, take_stock_levels, StockLevelChanged),
        # Inbound supply. The warehouse's other events (picks, counts, receipts ...) are skipped by their
        # event-type header before any transaction; receipts reach allocation as stock levels.
        on(SUPPLY_EVENTS, PURCHASE_ORDERS_CONSUMER, take_purchase_orders, PurchaseOrderChanged,
           wants=wants_purchase_order),
        on(WAREHOUSE_EVENTS, TRANSFERS_CONSUMER, take_transfers, TransferChanged),
    ]
