"""The warehouse service's handler registry: what it consumes, and the service-layer function each message goes
to. The runtime makes a consumer group of each entry (ecomops_common.handlers); every handler commits."""

from functools import partial

from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    CATALOG_SKUS,
    FINANCE_EVENTS,
    RETURNS_EVENTS,
    SHIPPING_EVENTS,
    SUPPLY_EVENTS,
    WAREHOUSE_SCANS,
)
from ecomops_common.contracts.allocation import AllocationReleased, OrderAllocated, OrderBackordered
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided
from ecomops_common.contracts.shipping import LabelPurchased
from ecomops_common.contracts.supply import AdvanceShipNoticeIssued
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.handlers import Subscription, on
from warehouse_service.service_layer.catalog import follow_skus
from warehouse_service.service_layer.inbound import expect_asns
from warehouse_service.service_layer.parcels import follow_labels
from warehouse_service.service_layer.recovery import follow_unit_costs
from warehouse_service.service_layer.returns import follow_returns
from warehouse_service.service_layer.scanning import take_scans
from warehouse_service.service_layer.tasks import follow_allocations
from warehouse_service.settings import WarehouseSettings


def handlers(settings: WarehouseSettings) -> list[Subscription]:
    return [
        # Each scan is applied once by its scan_id (apply_scans claims it), over Kafka and HTTP alike.
        on(WAREHOUSE_SCANS, "warehouse-service.scans",
           partial(take_scans, count_auto_adjust_units=settings.count_auto_adjust_units), Scan, once=False),
        on(ALLOCATION_EVENTS, "warehouse-service.allocations", partial(follow_allocations, rules=settings.wave_rules),
           OrderAllocated, OrderBackordered, AllocationReleased),
        on(RETURNS_EVENTS, "warehouse-service.returns", follow_returns, ReturnAuthorized, ReturnDispositionDecided),
        # What a write-off is worth: units × the SKU's unit cost.
        on(FINANCE_EVENTS, "warehouse-service.unit-costs", follow_unit_costs, UnitCostChanged),
        # The newest revision of each SKU wins: a redelivery changes nothing.
        on(CATALOG_SKUS, "warehouse-service.catalog-skus", follow_skus, SkuChanged, once=False),
        # Purchase order snapshots are skipped by their type before any transaction: only ASNs ask for work here.
        on(SUPPLY_EVENTS, "warehouse-service.asns", expect_asns, AdvanceShipNoticeIssued),
        # A label stored again is the same label; return labels are skipped by their type.
        on(SHIPPING_EVENTS, "warehouse-service.labels", follow_labels, LabelPurchased, once=False),
    ]
