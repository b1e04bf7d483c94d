"""Events of the finance service, topic finance.events.v1 (key: the RMA id for refunds; the order, else the RMA, else
the entry for journal entries; the SKU for unit costs; the customer for store credit)."""

from typing import Literal

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import Document, EventPayload, Money


class RefundIssued(EventPayload):
    """The payment provider paid the refund out; the returns service settles the RMA on it."""

    refund_id: str
    rma_id: str
    order_id: str
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    provider_reference: str | None = None
    issued_at: AwareDatetime


class RefundFailed(EventPayload):
    """A refund finance did not pay (key: the RMA id): the provider declined it, or finance's checks held or refused
    it."""

    refund_id: str
    rma_id: str
    order_id: str
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    outcome: Literal["declined", "held", "refused"]
    reason: str
    at: AwareDatetime


class JournalLine(Document):
    account: str
    debit: Money
    credit: Money


class JournalEntryPosted(EventPayload):
    """A double-entry journal entry finance posted (key: order_id, else rma_id, else entry_id), for the order's
    timeline."""

    entry_id: str
    order_id: str | None = None
    rma_id: str | None = None
    kind: str  # what it posts, e.g. sale, shipment, refund, inventory_adjustment, reversal
    currency: str
    amount: Money  # the sum of debits
    lines: list[JournalLine] = Field(max_length=1000)
    posted_at: AwareDatetime


class UnitCostChanged(EventPayload):
    """A SKU's unit cost as finance keeps it (key: the SKU): the warehouse values write-offs by it, the returns
    service vendor claims."""

    sku: str
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    at: AwareDatetime


class StoreCreditChanged(EventPayload):
    """A movement of a customer's store credit (key: the customer id). issued: a refund paid as store credit;
    redeemed: an order paid with it (the order service releases its payment hold); declined: an order's
    redemption refused (not enough credit); restored: a redeemed order cancelled."""

    movement_id: str = Field(description="Unique per movement")
    customer_id: str
    kind: Literal["issued", "redeemed", "declined", "restored"]
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    balance: Money = Field(description="The customer's balance in this currency after the movement")
    order_id: str | None = None
    rma_id: str | None = None
    refund_id: str | None = None
    reason: str | None = None
    at: AwareDatetime
