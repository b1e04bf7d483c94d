"""Contracts between services: Pydantic models, published as JSON Schemas under schemas/.

REGISTRY lists every message type per topic; `ecomops-schemas` generates and checks schemas/ from it. Each service
declares which of them it publishes (PUBLISHES in its bootstrap, enforced by its unit of work); tools/api_docs.py
describes both in docs/asyncapi.yaml.
"""

from dataclasses import dataclass

from pydantic import BaseModel

from ecomops_common.contracts.allocation import (
    AllocationExceptionRaised,
    AllocationReleased,
    BackorderPromiseChanged,
    OrderAllocated,
    OrderBackordered,
)
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.channel import ChannelOrder, PaymentUpdate
from ecomops_common.contracts.finance import (
    JournalEntryPosted,
    RefundFailed,
    RefundIssued,
    StoreCreditChanged,
    UnitCostChanged,
)
from ecomops_common.contracts.inventory import AvailabilityChanged, StockLevelChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderRejected, OrderStatusChanged
from ecomops_common.contracts.returns import (
    RefundApproved,
    ReturnAuthorized,
    ReturnDispositionDecided,
    ReturnRefused,
    ReturnRequest,
    ReturnStatusChanged,
    SkuVendorAssigned,
    VendorClaimChanged,
)
from ecomops_common.contracts.shipping import LabelPurchased, ReturnLabelIssued, TrackingUpdated
from ecomops_common.contracts.supply import AdvanceShipNoticeIssued, PurchaseOrderChanged
from ecomops_common.contracts.warehouse import (
    CountRecorded,
    GoodsReceived,
    GradedVariantDefined,
    OrderFulfilmentChanged,
    ParcelPacked,
    RecoveryStockMoved,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    Scan,
    ShipmentDispatched,
    StockAdjusted,
    TransferChanged,
    WarehouseExceptionChanged,
)

CHANNEL_ORDERS = "channel.orders.v1"
CHANNEL_PAYMENTS = "channel.payments.v1"
ORDER_EVENTS = "order.events.v1"
ALLOCATION_EVENTS = "allocation.events.v1"
INVENTORY_STOCK = "inventory.stock.v1"
INVENTORY_AVAILABILITY = "inventory.availability.v1"
WAREHOUSE_SCANS = "warehouse.scans.v1"
WAREHOUSE_EVENTS = "warehouse.events.v1"
CHANNEL_RETURNS = "channel.returns.v1"
RETURNS_EVENTS = "returns.events.v1"
FINANCE_EVENTS = "finance.events.v1"
CATALOG_SKUS = "catalog.skus.v1"
SUPPLY_EVENTS = "supply.events.v1"
SHIPPING_EVENTS = "shipping.events.v1"
SHIPPING_TRACKING = "shipping.tracking.v1"


@dataclass(frozen=True)
class ContractSpec:
    topic: str
    message_type: str
    model: type[BaseModel]
    key: str  # from the message's fields; messages sharing it stay in order. Enveloped: the aggregate_id
    enveloped: bool = True  # channel topics carry the bare document; internal topics the envelope


REGISTRY: tuple[ContractSpec, ...] = (
    ContractSpec(CHANNEL_ORDERS, "ChannelOrder", ChannelOrder, "<channel>:<external_order_id>", enveloped=False),
    ContractSpec(CHANNEL_PAYMENTS, "PaymentUpdate", PaymentUpdate, "<channel>:<external_order_id>", enveloped=False),
    ContractSpec(ORDER_EVENTS, "OrderPlaced", OrderPlaced, "order_id"),
    ContractSpec(ORDER_EVENTS, "OrderRejected", OrderRejected, "order_id"),
    ContractSpec(ORDER_EVENTS, "OrderStatusChanged", OrderStatusChanged, "order_id"),
    ContractSpec(ALLOCATION_EVENTS, "OrderAllocated", OrderAllocated, "order_id"),
    ContractSpec(ALLOCATION_EVENTS, "OrderBackordered", OrderBackordered, "order_id"),
    ContractSpec(ALLOCATION_EVENTS, "AllocationReleased", AllocationReleased, "order_id"),
    ContractSpec(ALLOCATION_EVENTS, "AllocationExceptionRaised", AllocationExceptionRaised, "<sku>@<node>"),
    ContractSpec(ALLOCATION_EVENTS, "BackorderPromiseChanged", BackorderPromiseChanged, "order_id"),
    ContractSpec(INVENTORY_STOCK, "StockLevelChanged", StockLevelChanged, "<sku>@<node>"),
    ContractSpec(INVENTORY_AVAILABILITY, "AvailabilityChanged", AvailabilityChanged, "sku"),
    ContractSpec(WAREHOUSE_SCANS, "Scan", Scan, "device_id", enveloped=False),
    ContractSpec(WAREHOUSE_EVENTS, "OrderFulfilmentChanged", OrderFulfilmentChanged, "order_id"),
    ContractSpec(WAREHOUSE_EVENTS, "ShipmentDispatched", ShipmentDispatched, "order_id"),
    ContractSpec(WAREHOUSE_EVENTS, "ReturnReceived", ReturnReceived, "rma_id"),
    ContractSpec(WAREHOUSE_EVENTS, "ReturnInspected", ReturnInspected, "rma_id"),
    ContractSpec(WAREHOUSE_EVENTS, "ReturnDispositionApplied", ReturnDispositionApplied, "rma_id"),
    ContractSpec(WAREHOUSE_EVENTS, "StockAdjusted", StockAdjusted, "<sku>@<node>"),
    ContractSpec(WAREHOUSE_EVENTS, "WarehouseExceptionChanged", WarehouseExceptionChanged, "exception_id"),
    ContractSpec(WAREHOUSE_EVENTS, "CountRecorded", CountRecorded, "<sku>@<node>"),
    ContractSpec(WAREHOUSE_EVENTS, "RecoveryStockMoved", RecoveryStockMoved, "<sku>@<node>"),
    ContractSpec(WAREHOUSE_EVENTS, "GradedVariantDefined", GradedVariantDefined, "variant_sku"),
    ContractSpec(WAREHOUSE_EVENTS, "ParcelPacked", ParcelPacked, "order_id"),
    ContractSpec(WAREHOUSE_EVENTS, "GoodsReceived", GoodsReceived, "po_id"),
    ContractSpec(WAREHOUSE_EVENTS, "TransferChanged", TransferChanged, "reference"),
    ContractSpec(CHANNEL_RETURNS, "ReturnRequest", ReturnRequest, "<channel>:<request_id>", enveloped=False),
    ContractSpec(RETURNS_EVENTS, "ReturnAuthorized", ReturnAuthorized, "rma_id"),
    ContractSpec(RETURNS_EVENTS, "ReturnRefused", ReturnRefused, "<channel>:<request_id>"),
    ContractSpec(RETURNS_EVENTS, "ReturnStatusChanged", ReturnStatusChanged, "rma_id"),
    ContractSpec(RETURNS_EVENTS, "ReturnDispositionDecided", ReturnDispositionDecided, "rma_id"),
    ContractSpec(RETURNS_EVENTS, "RefundApproved", RefundApproved, "rma_id"),
    ContractSpec(RETURNS_EVENTS, "SkuVendorAssigned", SkuVendorAssigned, "sku"),
    ContractSpec(RETURNS_EVENTS, "VendorClaimChanged", VendorClaimChanged, "claim_id"),
    ContractSpec(FINANCE_EVENTS, "RefundIssued", RefundIssued, "rma_id"),
    ContractSpec(FINANCE_EVENTS, "RefundFailed", RefundFailed, "rma_id"),
    ContractSpec(FINANCE_EVENTS, "JournalEntryPosted", JournalEntryPosted, "<order_id|rma_id|entry_id>"),
    ContractSpec(FINANCE_EVENTS, "UnitCostChanged", UnitCostChanged, "sku"),
    ContractSpec(FINANCE_EVENTS, "StoreCreditChanged", StoreCreditChanged, "customer_id"),
    ContractSpec(CATALOG_SKUS, "SkuChanged", SkuChanged, "sku"),
    ContractSpec(SUPPLY_EVENTS, "PurchaseOrderChanged", PurchaseOrderChanged, "po_id"),
    ContractSpec(SUPPLY_EVENTS, "AdvanceShipNoticeIssued", AdvanceShipNoticeIssued, "po_id"),
    ContractSpec(SHIPPING_EVENTS, "LabelPurchased", LabelPurchased, "order_id"),
    ContractSpec(SHIPPING_EVENTS, "ReturnLabelIssued", ReturnLabelIssued, "rma_id"),
    ContractSpec(SHIPPING_TRACKING, "TrackingUpdated", TrackingUpdated, "tracking_number"),
)


def contracts_on(topic: str, *message_types: str) -> tuple[ContractSpec, ...]:
    """The registered contracts of these message types on a topic, e.g. for a service's PUBLISHES."""
    registered = {spec.message_type: spec for spec in REGISTRY if spec.topic == topic}
    unknown = [message_type for message_type in message_types if message_type not in registered]
    if unknown:
        raise LookupError(f"no contract for {', '.join(unknown)} on {topic} in contracts.REGISTRY")
    return tuple(registered[message_type] for message_type in message_types)


def payload_model(topic: str, message_type: str) -> type[BaseModel] | None:
    for spec in REGISTRY:
        if spec.topic == topic and spec.message_type == message_type:
            return spec.model
    return None
