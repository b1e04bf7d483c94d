"""The warehouse service's tables."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime

MONEY = Numeric(17, 4)


class LocationRecord(SQLModel, table=True):
    __tablename__ = "locations"

    node: str = Field(sa_column=Column(String(64), primary_key=True))
    code: str = Field(sa_column=Column(String(64), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))


class StockLevelRecord(SQLModel, table=True):
    """Sellable units of a SKU at a node, as published; the row every change of that SKU×node locks first."""

    __tablename__ = "stock_levels"
    __table_args__ = (CheckConstraint("sellable >= 0", name="ck_stock_levels_sellable"),)

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    sellable: int = Field(sa_column=Column(Integer, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False),
                         description="Of the last StockLevelChanged published (0: none yet); raised under this lock")
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class StockBalanceRecord(SQLModel, table=True):
    __tablename__ = "stock_balances"
    __table_args__ = (CheckConstraint("units > 0", name="ck_stock_balances_units"),)

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    location: str = Field(sa_column=Column(String(64), primary_key=True))
    status: str = Field(sa_column=Column(String(32), primary_key=True))
    lot: str = Field(sa_column=Column(String(64), primary_key=True), description="'' when not lot-tracked")
    serial: str = Field(sa_column=Column(String(128), primary_key=True), description="'' when not serialised")
    expiry: str = Field(sa_column=Column(String(10), primary_key=True), description="ISO date, '' when none")
    units: int = Field(sa_column=Column(Integer, nullable=False))


class MovementRecord(SQLModel, table=True):
    """The immutable ledger: balances are always its sum (GET /v1/reconciliation checks)."""

    __tablename__ = "movements"
    __table_args__ = (Index("ix_movements_sku_id", "sku", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    from_node: str | None = Field(default=None, sa_column=Column(String(64)))
    from_location: str | None = Field(default=None, sa_column=Column(String(64)))
    from_status: str | None = Field(default=None, sa_column=Column(String(32)))
    from_lot: str | None = Field(default=None, sa_column=Column(String(64)))
    from_serial: str | None = Field(default=None, sa_column=Column(String(128)))
    from_expiry: str | None = Field(default=None, sa_column=Column(String(10)))
    to_node: str | None = Field(default=None, sa_column=Column(String(64)))
    to_location: str | None = Field(default=None, sa_column=Column(String(64)))
    to_status: str | None = Field(default=None, sa_column=Column(String(32)))
    to_lot: str | None = Field(default=None, sa_column=Column(String(64)))
    to_serial: str | None = Field(default=None, sa_column=Column(String(128)))
    to_expiry: str | None = Field(default=None, sa_column=Column(String(10)))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(128)))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    scan_id: str | None = Field(default=None, sa_column=Column(String(128)))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ExpectedReceiptRecord(SQLModel, table=True):
    __tablename__ = "expected_receipts"

    reference: str = Field(sa_column=Column(String(128), primary_key=True))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    expected: str = Field(sa_column=Column(Text, nullable=False), description="JSON: sku -> units")
    received: str = Field(sa_column=Column(Text, nullable=False), description="JSON: sku -> units")
    damaged: str = Field(sa_column=Column(Text, nullable=False), description="JSON: sku -> units")
    transfer_from: str | None = Field(default=None, sa_column=Column(String(64)),
                                      description="For a transfer: the node the units come from")
    is_return: bool = Field(default=False, sa_column=Column(Boolean, nullable=False), description="An RMA")
    conditions: str = Field(default="{}", sa_column=Column(Text, nullable=False),
                            description="Returns, JSON: sku -> condition -> units")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_by: str | None = Field(default=None, sa_column=Column(String(128)),
                                   description="The supervisor who expects it; none for RMAs")
    expected_date: date | None = Field(default=None, sa_column=Column(Date), description="Of an ASN or transfer")
    po_id: str | None = Field(default=None, sa_column=Column(String(128)),
                              description="For an advance ship notice (the reference): its purchase order")
    currency: str | None = Field(default=None, sa_column=Column(String(3)), description="Of the ASN's unit costs")
    terms: str = Field(default="{}", sa_column=Column(Text, nullable=False),
                       description="ASNs, JSON: sku -> unit_cost, lot, expiry")


class ScanExceptionRecord(SQLModel, table=True):
    """Scans that could not be applied, for a supervisor to resolve."""

    __tablename__ = "scan_exceptions"
    __table_args__ = (Index("ix_scan_exceptions_open", "resolved_at", "created_at"),)

    scan_id: str = Field(sa_column=Column(String(128), primary_key=True))
    device_id: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    scan: str = Field(sa_column=Column(Text, nullable=False), description="The scan as received, JSON")
    scanned_by: str | None = Field(default=None, sa_column=Column(String(128)),
                                   description="Who scanned: the caller's subject over HTTP")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(String(16)),
                                 description="approved (the units were booked) or resolved (nothing was)")
    resolved_by: str | None = Field(default=None, sa_column=Column(String(128)))
    resolution: str | None = Field(default=None, sa_column=Column(Text))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class CountVarianceRecord(SQLModel, table=True):
    """A count beyond the automatic threshold: adjusted only when a supervisor other than the counter approves."""

    __tablename__ = "count_variances"

    scan_id: str = Field(sa_column=Column(String(128), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    location: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    lot: str = Field(sa_column=Column(String(64), nullable=False))
    serial: str = Field(sa_column=Column(String(128), nullable=False))
    expiry: str = Field(sa_column=Column(String(10), nullable=False))
    expected: int = Field(sa_column=Column(Integer, nullable=False))
    counted: int = Field(sa_column=Column(Integer, nullable=False))
    counted_by: str = Field(sa_column=Column(String(128), nullable=False))
    counted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(String(16)), description="approved or rejected")
    decided_by: str | None = Field(default=None, sa_column=Column(String(128)))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class ShortPickRecord(SQLModel, table=True):
    """A short pick beyond the automatic write-off: written off only when a supervisor other than the picker
    approves."""

    __tablename__ = "short_picks"
    __table_args__ = (Index("ix_short_picks_task", "task_id"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    task_id: str = Field(sa_column=Column(String(36), nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    location: str = Field(sa_column=Column(String(64), nullable=False))
    held: int = Field(sa_column=Column(Integer, nullable=False), description="Units the books showed")
    found: int = Field(sa_column=Column(Integer, nullable=False))
    reported_by: str = Field(sa_column=Column(String(128), nullable=False))
    reported_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(String(16)), description="approved or rejected")
    decided_by: str | None = Field(default=None, sa_column=Column(String(128)))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class ShipmentRecord(SQLModel, table=True):
    """Parcels that left, per order: their carrier is the one that may confirm the order's delivery."""

    __tablename__ = "shipments"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    tracking_number: str = Field(sa_column=Column(String(128), primary_key=True))
    carrier: str | None = Field(default=None, sa_column=Column(String(64)))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    shipped_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PickTaskRecord(SQLModel, table=True):
    __tablename__ = "pick_tasks"
    __table_args__ = (UniqueConstraint("order_id", "line_id", "node", name="uq_pick_tasks_order_line_node"),
                      Index("ix_pick_tasks_node_status", "node", "status", "created_at"))

    id: str = Field(sa_column=Column(String(36), primary_key=True), description="What pick scans reference")
    order_id: str = Field(sa_column=Column(String(36), nullable=False))
    line_id: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    picked: int = Field(sa_column=Column(Integer, nullable=False))
    packed: int = Field(sa_column=Column(Integer, nullable=False))
    shipped: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    suggested_bin: str | None = Field(default=None, sa_column=Column(String(64)))
    suggested_lot: str | None = Field(default=None, sa_column=Column(String(64)))
    suggested_expiry: date | None = Field(default=None, sa_column=Column(Date))
    wave_id: str | None = Field(default=None, sa_column=Column(String(36)))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CountTaskRecord(SQLModel, table=True):
    __tablename__ = "count_tasks"
    __table_args__ = (Index("ix_count_tasks_node_status", "node", "status"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True), description="What count scans reference")
    node: str = Field(sa_column=Column(String(64), nullable=False))
    location: str | None = Field(default=None, sa_column=Column(String(64)))
    sku: str | None = Field(default=None, sa_column=Column(String(64)))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    counts: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class WaveRecord(SQLModel, table=True):
    __tablename__ = "waves"
    __table_args__ = (Index("ix_waves_status_cutoff", "status", "cutoff"),
                      Index("ix_waves_planned_key", "node", "service_level", "cutoff", "status"))

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    service_level: str = Field(sa_column=Column(String(16), nullable=False))
    cutoff: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False), description="Carrier cut-off")
    status: str = Field(sa_column=Column(String(16), nullable=False))
    tasks: int = Field(sa_column=Column(Integer, nullable=False))
    released_by: str | None = Field(default=None, sa_column=Column(String(128)))
    released_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class WarehouseOrderRecord(SQLModel, table=True):
    """The latest allocation revision followed per order: older or redelivered results change nothing."""

    __tablename__ = "warehouse_orders"

    order_id: str = Field(sa_column=Column(String(36), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    backordered: int = Field(sa_column=Column(Integer, nullable=False), description="Units allocation still owes")
    stage: str | None = Field(default=None, sa_column=Column(String(24)), description="Last announced stage")


class UnitCostRecord(SQLModel, table=True):
    """A SKU's unit cost as finance last announced it (UnitCostChanged): what a write-off is valued at."""

    __tablename__ = "warehouse_unit_costs"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False), description="As of finance's change")


class HazardousStockRecord(SQLModel, table=True):
    """SKUs a disposition called hazardous or regulated at a node: scrapping them needs a disposal record."""

    __tablename__ = "hazardous_stock"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    node: str = Field(sa_column=Column(String(64), primary_key=True))
    category: str | None = Field(default=None, sa_column=Column(String(200)))
    rma_id: str = Field(sa_column=Column(String(128), nullable=False), description="The last disposition saying so")
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class QaQueueRecord(SQLModel, table=True):
    """Quarantined units of a disposition waiting for a QA decision (open until decisions took them all out)."""

    __tablename__ = "qa_queue"
    __table_args__ = (Index("ix_qa_queue_sku_node", "sku", "node", "status", "opened_at"),)

    id: str = Field(sa_column=Column(String(200), primary_key=True), description="<rma_id>/<sku>")
    node: str = Field(sa_column=Column(String(64), nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    location: str = Field(sa_column=Column(String(64), nullable=False))
    rma_id: str = Field(sa_column=Column(String(128), nullable=False))
    remaining: int = Field(sa_column=Column(Integer, nullable=False), description="Units still waiting")
    status: str = Field(sa_column=Column(String(16), nullable=False), description="open or resolved")
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    resolved_by: str | None = Field(default=None, sa_column=Column(String(128)))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class GradedVariantRecord(SQLModel, table=True):
    __tablename__ = "graded_variants"

    variant_sku: str = Field(sa_column=Column(String(64), primary_key=True))
    base_sku: str = Field(sa_column=Column(String(64), nullable=False))
    grade: str = Field(sa_column=Column(String(16), nullable=False))
    list_price: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    channels: str = Field(sa_column=Column(Text, nullable=False), description="JSON list; empty: every channel")
    defined_by: str = Field(sa_column=Column(String(128), nullable=False))
    defined_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class VendorReturnRecord(SQLModel, table=True):
    """A return-to-vendor authorization: what pick, pack and ship scans referencing it may move."""

    __tablename__ = "vendor_returns"

    rtv_id: str = Field(sa_column=Column(String(128), primary_key=True))
    vendor_id: str = Field(sa_column=Column(String(128), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    claim_id: str | None = Field(default=None, sa_column=Column(String(128)))
    lines: str = Field(sa_column=Column(Text, nullable=False),
                       description="JSON: sku -> quantity, picked, packed, shipped")
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class WriteOffRecord(SQLModel, table=True):
    """A scrap or liquidation worth more than the threshold, applied only once a second supervisor approves."""

    __tablename__ = "write_offs"
    __table_args__ = (Index("ix_write_offs_status", "status", "requested_at"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(24), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(128)), description="RMA or liquidation lot")
    moves: str = Field(sa_column=Column(Text, nullable=False), description="JSON: the recovery moves asked for")
    # units × unit cost: up to INT4_MAX units of a cost below 10^13
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(28, 4)),
                                  description="None: a unit cost unknown")
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    status: str = Field(sa_column=Column(String(24), nullable=False),
                        description="pending_approval, approved or rejected")
    requested_by: str = Field(sa_column=Column(String(128), nullable=False))
    requested_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    decided_by: str | None = Field(default=None, sa_column=Column(String(128)))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    reason: str | None = Field(default=None, sa_column=Column(Text),
                               description="The decider's reason (required to reject)")


class RecoveryActionRecord(SQLModel, table=True):
    """The audit trail of units leaving recovery statuses, as published in RecoveryStockMoved."""

    __tablename__ = "recovery_actions"
    __table_args__ = (Index("ix_recovery_actions_sku_node", "sku", "node", "at"),
                      Index("ix_recovery_actions_reference", "reference"))

    action_id: str = Field(sa_column=Column(String(64), primary_key=True))
    action: str = Field(sa_column=Column(String(24), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    location: str = Field(sa_column=Column(String(64), nullable=False))
    from_status: str = Field(sa_column=Column(String(32), nullable=False))
    to_status: str | None = Field(default=None, sa_column=Column(String(32)), description="None: off the books")
    to_location: str | None = Field(default=None, sa_column=Column(String(64)))
    to_sku: str | None = Field(default=None, sa_column=Column(String(64)))
    reference: str | None = Field(default=None, sa_column=Column(String(128)))
    vendor_id: str | None = Field(default=None, sa_column=Column(String(128)))
    buyer: str | None = Field(default=None, sa_column=Column(String(200)))
    proceeds: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    disposal: str | None = Field(default=None, sa_column=Column(Text), description="JSON disposal record")
    note: str | None = Field(default=None, sa_column=Column(Text), description="The QA note or scrap reason")
    write_off_id: str | None = Field(default=None, sa_column=Column(String(36)))
    requested_by: str = Field(sa_column=Column(String(128), nullable=False))
    decided_by: str = Field(sa_column=Column(String(128), nullable=False))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SkuRulesRecord(SQLModel, table=True):
    """A SKU's handling rules from the catalog (SkuChanged), at the newest revision received."""

    __tablename__ = "warehouse_skus"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    lot_controlled: bool = Field(sa_column=Column(Boolean, nullable=False))
    serial_controlled: bool = Field(sa_column=Column(Boolean, nullable=False))
    expiry_controlled: bool = Field(sa_column=Column(Boolean, nullable=False))
    shelf_life_days: int | None = Field(default=None, sa_column=Column(Integer))
    hazmat_class: str | None = Field(default=None, sa_column=Column(String(64)))
    barcodes: str = Field(sa_column=Column(Text, nullable=False), description="JSON list")
    is_bundle: bool = Field(sa_column=Column(Boolean, nullable=False))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class BarcodeRecord(SQLModel, table=True):
    """Which SKU a scanned barcode names."""

    __tablename__ = "warehouse_barcodes"
    __table_args__ = (Index("ix_warehouse_barcodes_sku", "sku"),)

    barcode: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False))


class ParcelRecord(SQLModel, table=True):
    """An order's units at a node, packed (ParcelPacked announced once) and labelled (LabelPurchased)."""

    __tablename__ = "warehouse_parcels"
    __table_args__ = (Index("ix_warehouse_parcels_order", "order_id"),)

    parcel_id: str = Field(sa_column=Column(String(128), primary_key=True), description="<order_id>@<node>")
    order_id: str = Field(sa_column=Column(String(36), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    lines: str = Field(sa_column=Column(Text, nullable=False), description="JSON: sku -> units packed")
    packed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    carrier: str | None = Field(default=None, sa_column=Column(Text))
    service: str | None = Field(default=None, sa_column=Column(Text))
    tracking_number: str | None = Field(default=None, sa_column=Column(Text))
    label_url: str | None = Field(default=None, sa_column=Column(Text))
    cost: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    estimated_delivery: date | None = Field(default=None, sa_column=Column(Date))
    label_purchased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    cost_charged: bool = Field(default=False, sa_column=Column(Boolean, nullable=False),
                               description="A shipment of the parcel carried the label's cost already")


TABLES = [model.__table__ for model in (LocationRecord, StockLevelRecord, StockBalanceRecord, MovementRecord,
                                        ExpectedReceiptRecord, ScanExceptionRecord, CountVarianceRecord,
                                        PickTaskRecord, WaveRecord, WarehouseOrderRecord, CountTaskRecord,
                                        ShortPickRecord, ShipmentRecord, UnitCostRecord, HazardousStockRecord,
                                        QaQueueRecord, GradedVariantRecord, VendorReturnRecord, WriteOffRecord,
                                        RecoveryActionRecord, SkuRulesRecord, BarcodeRecord, ParcelRecord)]
