"""The supply service's handler registry: what it consumes, and the service-layer function each message goes to.
The runtime makes a consumer group of each entry (ecomops_common.handlers); every handler commits."""

from ecomops_common.contracts import CATALOG_SKUS, INVENTORY_AVAILABILITY, WAREHOUSE_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.inventory import AvailabilityChanged
from ecomops_common.contracts.warehouse import GoodsReceived, ReturnDispositionApplied, ShipmentDispatched
from ecomops_common.handlers import Subscription, on
from supply_service.service_layer.observations import (
    counts_for_supply,
    follow_warehouse,
    record_availability,
    record_skus,
)
from supply_service.settings import SupplySettings


def handlers(settings: SupplySettings) -> list[Subscription]:
    # Only the warehouse's events need the inbox (they add to demand and receipts); the catalog's SKUs keep the
    # highest revision and the stock the newest availability, so handling them twice changes nothing.
    return [
        on(CATALOG_SKUS, "supply-service.catalog-skus", record_skus, SkuChanged, once=False),
        on(INVENTORY_AVAILABILITY, "supply-service.availability", record_availability, AvailabilityChanged,
           once=False),
        on(WAREHOUSE_EVENTS, "supply-service.warehouse-events", follow_warehouse, ShipmentDispatched,
           ReturnDispositionApplied, GoodsReceived, wants=counts_for_supply),
    ]
