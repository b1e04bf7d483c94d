"""The finance service's tables. Journal entries and lines are append-only: the database refuses to change or
delete them (a trigger its migrations create), so a correction can only be a reversing entry."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from ecomops_common.db import UtcDateTime

MONEY = Numeric(17, 4)
SERIAL = BigInteger().with_variant(Integer, "sqlite")


class SaleOrderRecord(SQLModel, table=True):
    """An order as finance knows it: prices, what shipped and was recognized, costs posted (JSON document)."""

    __tablename__ = "sale_orders"

    order_id: str = Field(sa_column=Column(String(64), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))


class ReturnCaseRecord(SQLModel, table=True):
    """An RMA as finance follows it, for reconciliation: what was authorized, when it arrived and was graded."""

    __tablename__ = "return_cases"
    __table_args__ = (Index("ix_return_cases_order", "order_id"),)

    rma_id: str = Field(sa_column=Column(String(64), primary_key=True))
    order_id: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(64)))
    resolution: str = Field(sa_column=Column(String(16), nullable=False))
    authorized_units: int = Field(sa_column=Column(Integer, nullable=False))
    authorized_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    lines: str = Field(sa_column=Column(Text, nullable=False), description="JSON: line_id, sku, quantity")
    received_units: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    first_received_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    first_inspected_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    conditions: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""),
                            description="Conditions graded at inspection, one per line of text")


class UnitCostRecord(SQLModel, table=True):
    """Cost per SKU, from the SKU master (finance_catalog_skus) or set by finance staff; every change is kept in
    unit_cost_history."""

    __tablename__ = "unit_costs"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class UnitCostHistoryRecord(SQLModel, table=True):
    __tablename__ = "unit_cost_history"

    id: int | None = Field(default=None, sa_column=Column(SERIAL, primary_key=True, autoincrement=True))
    sku: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class RefundRecord(SQLModel, table=True):
    """An approved refund and its payout; `status, next_attempt_at` is the payout queue."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_queue", "status", "next_attempt_at"), Index("ix_refunds_rma", "rma_id"))

    refund_id: str = Field(sa_column=Column(String(64), primary_key=True))
    rma_id: str = Field(sa_column=Column(String(64), nullable=False))
    order_id: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    customer_id: str = Field(sa_column=Column(String(128), nullable=False))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    reason: str = Field(sa_column=Column(String(64), nullable=False))
    timing: str = Field(sa_column=Column(String(32), nullable=False))
    approved_by: str = Field(sa_column=Column(String(128), nullable=False))
    approved_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    generation: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    provider_reference: str | None = Field(default=None, sa_column=Column(String(128)))
    issued_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    duplicate_requests: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    hold_reason: str | None = Field(default=None, sa_column=Column(Text),
                                    description="Why a held refund waits or a refused one is never paid")
    breakdown: str = Field(sa_column=Column(Text, nullable=False), description="JSON: line_id, kind, amount")
    lines: str = Field(sa_column=Column(Text, nullable=False), description="JSON: line_id, sku, quantity")
    method: str = Field(default="original_payment", sa_column=Column(
        String(40), nullable=False, server_default="original_payment"),
        description="original_payment, store_credit (issued by finance) or another method the provider pays")


class ChannelFeeRuleRecord(SQLModel, table=True):
    """A channel's marketplace fees: commission on goods revenue, and the share of it given back on refunds."""

    __tablename__ = "channel_fee_rules"

    channel: str = Field(sa_column=Column(String(64), primary_key=True))
    commission_rate: Decimal = Field(sa_column=Column(Numeric(9, 6), nullable=False))
    refund_reversal_rate: Decimal = Field(sa_column=Column(Numeric(9, 6), nullable=False))
    updated_by: str = Field(sa_column=Column(String(128), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class StoreCreditBalanceRecord(SQLModel, table=True):
    """A customer's store credit in one currency; its row is locked while a movement changes it."""

    __tablename__ = "store_credit_balances"

    customer_id: str = Field(sa_column=Column(String(128), primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    balance: Decimal = Field(sa_column=Column(MONEY, nullable=False))


class StoreCreditMovementRecord(SQLModel, table=True):
    """Every change of a customer's store credit (and each redemption declined); the id says what it is about
    (issued:<refund>, redemption:<order>, restored:<order>), so each happens once."""

    __tablename__ = "store_credit_movements"
    __table_args__ = (Index("ix_store_credit_movements_customer", "customer_id", "at"),)

    movement_id: str = Field(sa_column=Column(String(160), primary_key=True))
    customer_id: str = Field(sa_column=Column(String(128), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    balance: Decimal = Field(sa_column=Column(MONEY, nullable=False), description="After the movement")
    order_id: str | None = Field(default=None, sa_column=Column(String(64)))
    rma_id: str | None = Field(default=None, sa_column=Column(String(64)))
    refund_id: str | None = Field(default=None, sa_column=Column(String(64)))
    reason: str | None = Field(default=None, sa_column=Column(String(64)))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ApprovalRequestRecord(SQLModel, table=True):
    """Finance staff's corrections waiting for, or decided by, a second person: who asked, who decided, when."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        # one open request per refund or journal entry
        Index("uq_approval_requests_open", "target", unique=True, postgresql_where=text("status = 'requested'"),
              sqlite_where=text("status = 'requested'")),
        Index("ix_approval_requests_status", "status", "requested_at"))

    id: int | None = Field(default=None, sa_column=Column(SERIAL, primary_key=True, autoincrement=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    target: str = Field(sa_column=Column(String(80), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    requested_by: str = Field(sa_column=Column(String(128), nullable=False))
    requested_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    decided_by: str | None = Field(default=None, sa_column=Column(String(128)))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    decision_note: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = Field(default=None, sa_column=Column(String(200)))


class JournalEntryRecord(SQLModel, table=True):
    __tablename__ = "journal_entries"
    __table_args__ = (UniqueConstraint("kind", "source_id", name="uq_journal_entries_source"),
                      Index("ix_journal_entries_occurred", "occurred_at"))

    id: int | None = Field(default=None, sa_column=Column(SERIAL, primary_key=True, autoincrement=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    source_id: str = Field(sa_column=Column(String(160), nullable=False), description="The fact: event or refund id")
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False), description="Accounting date")
    posted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    posted_by: str = Field(sa_column=Column(String(128), nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    reverses: str | None = Field(default=None, sa_column=Column(String(200)))
    order_id: str | None = Field(default=None, sa_column=Column(String(64)))
    rma_id: str | None = Field(default=None, sa_column=Column(String(64)))


class JournalLineRecord(SQLModel, table=True):
    __tablename__ = "journal_lines"
    __table_args__ = (Index("ix_journal_lines_entry", "entry_id"), Index("ix_journal_lines_account", "account"),
                      Index("ix_journal_lines_rma", "rma_id"))

    id: int | None = Field(default=None, sa_column=Column(SERIAL, primary_key=True, autoincrement=True))
    entry_id: int = Field(sa_column=Column(SERIAL, ForeignKey("journal_entries.id"), nullable=False))
    account: str = Field(sa_column=Column(String(8), nullable=False))
    debit: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    credit: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    order_id: str | None = Field(default=None, sa_column=Column(String(64)))
    rma_id: str | None = Field(default=None, sa_column=Column(String(64)))
    sku: str | None = Field(default=None, sa_column=Column(String(64)))
    channel: str | None = Field(default=None, sa_column=Column(String(64)))
    reason: str | None = Field(default=None, sa_column=Column(String(64)))
    memo: str | None = Field(default=None, sa_column=Column(String(200)))


class ParkedFactRecord(SQLModel, table=True):
    """A fact that cannot be posted yet, with the first thing it waits for (order:…, rma:…, cost:…), or a
    problem a person must look at (review:…). It is posted when that arrives; nothing is lost meanwhile."""

    __tablename__ = "parked_facts"
    __table_args__ = (Index("ix_parked_facts_waiting", "waiting_for"),)

    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    message_type: str = Field(sa_column=Column(String(64), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    waiting_for: str = Field(sa_column=Column(String(200), nullable=False))
    parked_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CatalogSkuRecord(SQLModel, table=True):
    """The newest SKU master revision finance applied per SKU, with the unit cost it states (None: the catalog
    does not cost the SKU, so finance staff may)."""

    __tablename__ = "finance_catalog_skus"

    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    unit_cost: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    currency: str | None = Field(default=None, sa_column=Column(String(3)))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class GoodsReceiptRecord(SQLModel, table=True):
    """Each goods receipt posted, once per receipt id, at the cost it was posted at."""

    __tablename__ = "finance_goods_receipts"
    __table_args__ = (Index("ix_finance_goods_receipts_po", "po_id", "sku"),)

    receipt_id: str = Field(sa_column=Column(String(160), primary_key=True))
    po_id: str = Field(sa_column=Column(String(64), nullable=False))
    asn_id: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(64), nullable=False))
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    unit_cost: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    received_by: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class GrniBalanceRecord(SQLModel, table=True):
    """Goods received not invoiced per purchase order, SKU and currency: received, invoiced (at the received cost
    and as billed), open = received − invoiced. Locked while an invoice is matched against it."""

    __tablename__ = "finance_grni_balances"

    po_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sku: str = Field(sa_column=Column(String(64), primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    received_quantity: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_value: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    invoiced_quantity: int = Field(sa_column=Column(BigInteger, nullable=False))
    invoiced_value: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    billed_value: Decimal = Field(sa_column=Column(MONEY, nullable=False))


class VendorInvoiceRecord(SQLModel, table=True):
    """A vendor invoice, recorded once per invoice id, with its matched lines and journal entry."""

    __tablename__ = "finance_vendor_invoices"
    __table_args__ = (Index("ix_finance_vendor_invoices_po", "po_id"),)

    invoice_id: str = Field(sa_column=Column(String(64), primary_key=True))
    po_id: str = Field(sa_column=Column(String(64), nullable=False))
    vendor_id: str = Field(sa_column=Column(String(64), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    lines: str = Field(sa_column=Column(Text, nullable=False),
                       description="JSON: sku, quantity, unit_price, amount, received_cost")
    entry_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    recorded_by: str = Field(sa_column=Column(String(128), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


TABLES = [model.__table__ for model in (SaleOrderRecord, ReturnCaseRecord, UnitCostRecord, UnitCostHistoryRecord,
                                        RefundRecord, ChannelFeeRuleRecord, StoreCreditBalanceRecord,
                                        StoreCreditMovementRecord, ApprovalRequestRecord, JournalEntryRecord,
                                        JournalLineRecord, ParkedFactRecord, CatalogSkuRecord, GoodsReceiptRecord,
                                        GrniBalanceRecord, VendorInvoiceRecord)]
