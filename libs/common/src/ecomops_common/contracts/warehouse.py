"""What warehouse scanners publish: topic warehouse.scans.v1 (key: device id), the bare JSON document."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, ConfigDict, Field

from ecomops_common.contracts.types import INT4_MAX, CurrencyCode, Document, EventPayload, Money


class ScanKind(StrEnum):
    receive = "receive"
    putaway = "putaway"
    pick = "pick"
    pack = "pack"
    ship = "ship"
    count = "count"
    move = "move"
    return_receive = "return_receive"
    inspect = "inspect"


class ItemCondition(StrEnum):
    new = "new"
    like_new = "like_new"
    opened = "opened"
    damaged = "damaged"
    missing_parts = "missing_parts"
    wrong_item = "wrong_item"
    empty_box = "empty_box"


class Scan(Document):
    """One scan from a handheld or fixed scanner. `scan_id` is unique per scan: a resend is applied once."""

    model_config = ConfigDict(extra="forbid")

    scan_id: str = Field(min_length=1, max_length=64, description="Unique per scan (the inbox key)")
    device_id: str = Field(min_length=1, max_length=64)
    operator_id: str | None = Field(default=None, max_length=64)
    warehouse_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    scanned_at: AwareDatetime
    kind: ScanKind
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=0, le=100_000, description="Units; for count, the units found (0 allowed)")
    location: str = Field(min_length=1, max_length=64)
    to_location: str | None = Field(default=None, max_length=64, description="For putaway and move")
    reference: str | None = Field(default=None, max_length=128, description="PO/ASN, task, RMA or transfer")
    condition: ItemCondition | None = Field(default=None, description="For return_receive and inspect")
    lot: str | None = Field(default=None, max_length=64)
    serial: str | None = Field(default=None, max_length=128)
    expiry: date | None = Field(default=None, description="Best-before or expiry date of the units (ISO date)")
    tracking_number: str | None = Field(default=None, max_length=128, description="For ship")
    carrier: str | None = Field(default=None, max_length=64, description="For ship, e.g. dhl")
    shipping_cost: Money | None = Field(default=None, description="For ship, and return_receive when the retailer "
                                                                  "paid the return label: what the carrier charges")
    currency: CurrencyCode | None = Field(default=None, description="Of shipping_cost")


class FulfilmentStage(StrEnum):
    released_to_warehouse = "released_to_warehouse"
    picking = "picking"
    packed = "packed"
    shipped = "shipped"
    delivered = "delivered"


class OrderFulfilmentChanged(EventPayload):
    """How far the warehouse is with an order (topic warehouse.events.v1, key: the order id).

    released_to_warehouse: pick tasks exist; picking: units picked; packed: every allocated unit packed and
    nothing backordered; shipped: every unit shipped; delivered: the carrier confirmed delivery."""

    order_id: str
    stage: FulfilmentStage
    units: int = Field(le=INT4_MAX, description="Units the warehouse works on for the order")
    picked: int = Field(le=INT4_MAX)
    packed: int = Field(le=INT4_MAX)
    shipped: int = Field(le=INT4_MAX)


class ShippedLine(Document):
    line_id: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    serials: list[str] = Field(default_factory=list, max_length=100_000,
                               description="Serial numbers scanned at shipping, if any")


class ShipmentDispatched(EventPayload):
    """Units of an order left a node with a carrier (key: the order id)."""

    order_id: str
    node: str
    tracking_number: str
    carrier: str | None = None
    lines: list[ShippedLine] = Field(max_length=1_000)
    shipped_at: AwareDatetime
    shipping_cost: Money | None = Field(default=None, description="Carrier charge, for finance")
    currency: str | None = None


class ReturnReceived(EventPayload):
    """Returned units arrived against an RMA, with the condition seen at receipt (key: the RMA id)."""

    rma_id: str
    node: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    condition: ItemCondition
    received_at: AwareDatetime
    shipping_cost: Money | None = Field(default=None, description="The return label's cost, when the retailer paid it")
    currency: str | None = None


class ReturnInspected(EventPayload):
    """Returned units graded at inspection (key: the RMA id); the returns service decides their disposition."""

    rma_id: str
    node: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    condition: ItemCondition
    inspected_at: AwareDatetime
    serial: str | None = Field(default=None, description="Serial number found on the returned unit")
    inspector: str | None = Field(default=None, description="Operator who inspected the units")


class ReturnDispositionApplied(EventPayload):
    """The warehouse moved inspected units as the returns service decided (key: the RMA id)."""

    rma_id: str
    node: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    disposition: str = Field(description="restock, refurbish, quarantine, vendor_return, liquidate or scrap")
    applied_at: AwareDatetime


class StockAdjusted(EventPayload):
    """Units entered or left the books without an order, a receipt or a return: a count found more or fewer
    units than the books held (key: `<sku>@<node>`). Finance posts it as inventory gain or loss at unit cost."""

    adjustment_id: str = Field(description="Unique per adjustment: the count scan or the approved variance")
    sku: str
    node: str
    location: str
    quantity: int = Field(ge=-INT4_MAX, le=INT4_MAX,
                          description="Signed: positive when units were found, negative when lost")
    reason: str = Field(default="count", description="Why the books changed; count for cycle counts")
    reference: str | None = Field(default=None, description="The count task, if any")
    actor: str = Field(description="Who counted, or the supervisor who approved the variance")
    adjusted_at: AwareDatetime


class WarehouseExceptionKind(StrEnum):
    scan_exception = "scan_exception"  # ScanExceptionRecord (incl. unreferenced receives awaiting approval)
    count_variance = "count_variance"  # CountVarianceRecord awaiting a supervisor
    short_pick = "short_pick"  # ShortPickRecord awaiting approval (over the threshold)
    qa_decision = "qa_decision"  # quarantined units waiting for a QA decision
    write_off = "write_off"  # scrap or liquidation above the value threshold awaiting a second supervisor


class WarehouseExceptionStatus(StrEnum):
    open = "open"
    resolved = "resolved"
    approved = "approved"
    rejected = "rejected"


class WarehouseExceptionChanged(EventPayload):
    """An item a supervisor must decide, when it is raised and when it is decided (key: exception_id)."""

    # The id the warehouse's own route takes to decide it: scan_id for scan exceptions and count variances,
    # short_pick_id for short picks.
    exception_id: str
    kind: WarehouseExceptionKind
    status: WarehouseExceptionStatus
    node: str
    sku: str | None = None
    location: str | None = None
    quantity: int = Field(ge=-INT4_MAX, le=INT4_MAX, description="Units concerned; signed variance for counts")
    reason: str  # machine code, e.g. unreferenced_receive, unknown_location, count_variance, short_pick
    actor: str  # who raised it (operator/device) or decided it (the supervisor's token subject)
    at: AwareDatetime


class CountRecorded(EventPayload):
    """A count at a location: what the books held and what was found (key: `<sku>@<node>`)."""

    count_id: str  # the count scan's id
    node: str
    sku: str
    location: str
    expected: int = Field(ge=0, le=INT4_MAX)
    counted: int = Field(ge=0, le=INT4_MAX)
    task_id: str | None = None
    counted_at: AwareDatetime


class RecoveryAction(StrEnum):
    refurbished = "refurbished"  # refurbishment finished: sellable again, possibly as a graded variant SKU
    refurbish_failed = "refurbish_failed"  # scrapped from the bench
    qa_released = "qa_released"  # a QA decision moved quarantined units to sellable, refurbish or vendor_return
    rtv_picked = "rtv_picked"
    rtv_packed = "rtv_packed"
    rtv_shipped = "rtv_shipped"  # left for the vendor against a return-to-vendor authorization
    liquidated = "liquidated"  # sold through a secondary channel for the proceeds
    scrapped = "scrapped"


class DisposalRecord(Document):
    """How units were destroyed: required for hazardous or regulated units."""

    method: str = Field(min_length=1, max_length=64, description="e.g. recycling, incineration, landfill")
    facility: str = Field(min_length=1, max_length=200, description="The licensed facility or contractor")
    certificate: str | None = Field(default=None, max_length=200, description="The certificate of destruction")
    hazard_class: str | None = Field(default=None, max_length=64, description="e.g. UN3480 lithium batteries")


class RecoveryStockMoved(EventPayload):
    """Returned units left a recovery status (refurbish, quarantined, vendor_return, liquidation) by a scan or a
    supervised action (key: `<sku>@<node>`). Finance writes off units that leave the books, less proceeds."""

    action_id: str = Field(description="Unique per action: finance posts each once")
    action: RecoveryAction
    node: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    from_status: str
    to_status: str | None = Field(description="None: the units left the books (shipped to the vendor, sold, "
                                              "scrapped)")
    to_sku: str | None = Field(default=None, description="The graded variant the units became, if any")
    reference: str | None = Field(default=None, description="The return-to-vendor authorization, liquidation lot "
                                                            "or RMA")
    vendor_id: str | None = None
    proceeds: Money | None = Field(default=None, description="For liquidated: what the buyer pays")
    currency: str | None = None
    disposal: DisposalRecord | None = None
    requested_by: str
    decided_by: str = Field(description="Who decided: the QA decision-maker or the approving supervisor; the "
                                        "requester when no approval was needed")
    at: AwareDatetime


class GradedVariantDefined(EventPayload):
    """A graded or open-box variant of a SKU that refurbished units may become, with its own price and the
    channels that may sell it (key: the variant SKU)."""

    variant_sku: str
    base_sku: str
    grade: str
    list_price: Money
    currency: str
    channels: list[str] = Field(max_length=100, description="Channels that may sell it; empty: every channel")
    defined_by: str
    at: AwareDatetime


class PackedLine(Document):
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)


class ParcelPacked(EventPayload):
    """Every allocated unit of an order at a node is packed: the parcel is ready for a carrier label (key: the
    order id). The shipping service buys its label once per `parcel_id`."""

    parcel_id: str = Field(description="`<order_id>@<node>`: one parcel per order and node")
    order_id: str
    node: str
    lines: list[PackedLine] = Field(min_length=1, max_length=1_000)
    packed_at: AwareDatetime


class GoodsReceived(EventPayload):
    """Units booked in at a node against a purchase order's advance ship notice (key: the purchase order id):
    the supply service closes its lines, finance posts goods received not invoiced at `unit_cost`."""

    receipt_id: str = Field(description="Unique per receipt: the receive scan's id")
    po_id: str
    asn_id: str
    node: str
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX)
    unit_cost: Money | None = None
    currency: str | None = None
    lot: str | None = None
    expiry: date | None = None
    received_by: str
    received_at: AwareDatetime


class TransferStatus(StrEnum):
    dispatched = "dispatched"
    received = "received"


class TransferLine(Document):
    sku: str
    quantity: int = Field(ge=1, le=INT4_MAX, description="Units sent")
    received: int = Field(ge=0, le=INT4_MAX, description="Units received at the destination so far")


class TransferChanged(EventPayload):
    """A transfer between nodes after a change (key: the transfer reference): allocation counts the units not
    yet received as inbound supply at `to_node` from `expected_date`."""

    reference: str
    from_node: str
    to_node: str
    status: TransferStatus
    expected_date: date
    lines: list[TransferLine] = Field(min_length=1, max_length=1_000)
    at: AwareDatetime
