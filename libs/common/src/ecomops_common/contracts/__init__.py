"""Contracts between services: Pydantic models, published as JSON Schemas under schemas/.

REGISTRY lists every message type per topic; `ecomops-schemas` generates and checks schemas/ from it.
"""

from dataclasses import dataclass

from pydantic import BaseModel

from ecomops_common.contracts.allocation import (
    AllocationExceptionRaised,
    AllocationReleased,
    OrderAllocated,
    OrderBackordered,
)
from ecomops_common.contracts.channel import ChannelOrder, PaymentUpdate
from ecomops_common.contracts.finance import RefundIssued
from ecomops_common.contracts.inventory import AvailabilityChanged, StockLevelChanged
from ecomops_common.contracts.orders import OrderPlaced, OrderRejected, OrderStatusChanged
from ecomops_common.contracts.returns import (
    RefundApproved,
    ReturnAuthorized,
    ReturnDispositionDecided,
    ReturnRefused,
    ReturnRequest,
    ReturnStatusChanged,
)
from ecomops_common.contracts.warehouse import (
    OrderFulfilmentChanged,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    Scan,
    ShipmentDispatched,
    StockAdjusted,
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


@dataclass(frozen=True)
class ContractSpec:
    topic: str
    message_type: str
    model: type[BaseModel]
    enveloped: bool = True  # channel topics carry the bare document; internal topics the envelope


REGISTRY: tuple[ContractSpec, ...] = (
    ContractSpec(CHANNEL_ORDERS, "ChannelOrder", ChannelOrder, enveloped=False),
    ContractSpec(CHANNEL_PAYMENTS, "PaymentUpdate", PaymentUpdate, enveloped=False),
    ContractSpec(ORDER_EVENTS, "OrderPlaced", OrderPlaced),
    ContractSpec(ORDER_EVENTS, "OrderRejected", OrderRejected),
    ContractSpec(ORDER_EVENTS, "OrderStatusChanged", OrderStatusChanged),
    ContractSpec(ALLOCATION_EVENTS, "OrderAllocated", OrderAllocated),
    ContractSpec(ALLOCATION_EVENTS, "OrderBackordered", OrderBackordered),
    ContractSpec(ALLOCATION_EVENTS, "AllocationReleased", AllocationReleased),
    ContractSpec(ALLOCATION_EVENTS, "AllocationExceptionRaised", AllocationExceptionRaised),
    ContractSpec(INVENTORY_STOCK, "StockLevelChanged", StockLevelChanged),
    ContractSpec(INVENTORY_AVAILABILITY, "AvailabilityChanged", AvailabilityChanged),
    ContractSpec(WAREHOUSE_SCANS, "Scan", Scan, enveloped=False),
    ContractSpec(WAREHOUSE_EVENTS, "OrderFulfilmentChanged", OrderFulfilmentChanged),
    ContractSpec(WAREHOUSE_EVENTS, "ShipmentDispatched", ShipmentDispatched),
    ContractSpec(WAREHOUSE_EVENTS, "ReturnReceived", ReturnReceived),
    ContractSpec(WAREHOUSE_EVENTS, "ReturnInspected", ReturnInspected),
    ContractSpec(WAREHOUSE_EVENTS, "ReturnDispositionApplied", ReturnDispositionApplied),
    ContractSpec(WAREHOUSE_EVENTS, "StockAdjusted", StockAdjusted),
    ContractSpec(CHANNEL_RETURNS, "ReturnRequest", ReturnRequest, enveloped=False),
    ContractSpec(RETURNS_EVENTS, "ReturnAuthorized", ReturnAuthorized),
    ContractSpec(RETURNS_EVENTS, "ReturnRefused", ReturnRefused),
    ContractSpec(RETURNS_EVENTS, "ReturnStatusChanged", ReturnStatusChanged),
    ContractSpec(RETURNS_EVENTS, "ReturnDispositionDecided", ReturnDispositionDecided),
    ContractSpec(RETURNS_EVENTS, "RefundApproved", RefundApproved),
    ContractSpec(FINANCE_EVENTS, "RefundIssued", RefundIssued),
)


def payload_model(topic: str, message_type: str) -> type[BaseModel] | None:
    for spec in REGISTRY:
        if spec.topic == topic and spec.message_type == message_type:
            return spec.model
    return None
