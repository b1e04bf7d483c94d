"""The purchasing side of the books. Plain Python, no I/O.

- Unit costs from the SKU master: each SKU's newest catalog revision states its cost; a SKU the catalog costs is
  not costed by hand.
- Goods received against a purchase order: Dr inventory, Cr goods received not invoiced (GRNI), at the receipt's
  unit cost, else finance's unit cost of the SKU (the fact waits, parked, while there is neither).
- Vendor invoices, matched three ways (purchase order, goods received, invoice): per PO and SKU no more units are
  invoiced than were received and not invoiced yet; Dr GRNI at the received cost, the price difference to purchase
  price variance, Cr vendor payables at the invoiced amount.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ecomops_common.errors import FieldProblem, Invalid
from ecomops_common.money import MINOR_UNIT_DIGITS, to_minor_unit
from finance_service.domain.accounts import (
    GOODS_RECEIVED_NOT_INVOICED,
    INVENTORY,
    PURCHASE_PRICE_VARIANCE,
    VENDOR_PAYABLES,
)
from finance_service.domain.journal import Dimensions, JournalEntry, build_entry, signed_line
from finance_service.domain.money import ZERO
from finance_service.domain.postings import MissingData, PostingError, UnitCost

# What one journal line and the books' identifiers hold (the tables' column sizes): a fact beyond them goes to
# review instead of failing its consumer.
MAX_AMOUNT = Decimal(10) ** 13
ID_MAX_LENGTH, RECEIPT_ID_MAX_LENGTH = 64, 160
GOODS_RECEIVED, VENDOR_INVOICE = "goods_received", "vendor_invoice"  # the kinds of their journal entries


# --- unit costs from the SKU master ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogRevision:
    """A SKU's cost as one revision of the SKU master states it (cost None: the catalog does not cost it)."""

    sku: str
    revision: int
    cost: UnitCost | None
    changed_by: str
    changed_at: datetime


def catalog_cost(amount: Decimal | None, currency: str | None) -> UnitCost | None:
    """The unit cost a SKU master record sets: None when it has none, or one the books cannot use (no or an
    unknown currency, a negative amount; the catalog refuses those itself)."""
    if amount is None or currency not in MINOR_UNIT_DIGITS or amount < 0:
        return None
    return UnitCost(amount, currency)


def newest_revisions(revisions: Iterable[CatalogRevision]) -> list[CatalogRevision]:
    """Per SKU the highest revision: a batch may carry several, a redelivery an older one after a newer."""
    newest: dict[str, CatalogRevision] = {}
    for revision in revisions:
        if revision.sku not in newest or revision.revision > newest[revision.sku].revision:
            newest[revision.sku] = revision
    return list(newest.values())


def cost_to_announce(revision: CatalogRevision, current: UnitCost | None) -> UnitCost | None:
    """The cost an applied catalog revision gives the SKU: its own when it states one that differs from finance's
    current cost (a revision changing only, say, the weight changes no cost); else None."""
    return revision.cost if revision.cost is not None and revision.cost != current else None


# --- goods received ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GoodsReceipt:
    receipt_id: str
    po_id: str
    asn_id: str
    node: str
    sku: str
    quantity: int
    cost: UnitCost
    received_by: str
    received_at: datetime

    @property
    def amount(self) -> Decimal:
        return to_minor_unit(self.cost.amount * self.quantity, self.cost.currency)


def goods_receipt(receipt_id: str, po_id: str, asn_id: str, node: str, sku: str, quantity: int,
                  unit_cost: Decimal | None, currency: str | None, received_by: str, received_at: datetime,
                  costs: Mapping[str, UnitCost]) -> GoodsReceipt:
    """A receipt valued at its own unit cost (with its currency), else at finance's unit cost of the SKU; with
    neither it waits for the SKU's cost (MissingData). Identifiers the books cannot keep, an unknown currency or
    a value beyond a journal line go to review (PostingError)."""
    if len(receipt_id) > RECEIPT_ID_MAX_LENGTH or max(map(len, (po_id, asn_id, node, sku))) > ID_MAX_LENGTH:
        raise PostingError(f"goods receipt {receipt_id[:RECEIPT_ID_MAX_LENGTH]}: an identifier is longer than the "
                           "books keep")
    if unit_cost is not None and currency is not None:
        if currency not in MINOR_UNIT_DIGITS or unit_cost < 0:
            raise PostingError(f"goods receipt {receipt_id}: unit cost {unit_cost} {currency} is no cost")
        cost = UnitCost(unit_cost, currency)
    elif sku in costs:
        cost = costs[sku]
    else:
        raise MissingData([f"cost:{sku}"])
    receipt = GoodsReceipt(receipt_id, po_id, asn_id, node, sku, quantity, cost, received_by, received_at)
    if receipt.amount >= MAX_AMOUNT:
        raise PostingError(f"goods receipt {receipt_id}: {receipt.amount} {cost.currency} is beyond a journal line")
    return receipt


def post_goods_received(receipt: GoodsReceipt) -> JournalEntry:
    """The units are the business's from receipt: inventory against what is owed the vendor until invoiced."""
    dims, memo = Dimensions(sku=receipt.sku), f"PO {receipt.po_id}"
    currency = receipt.cost.currency
    return build_entry(GOODS_RECEIVED, receipt.receipt_id, receipt.received_at, [
        signed_line(INVENTORY, receipt.amount, currency, dims, memo),
        signed_line(GOODS_RECEIVED_NOT_INVOICED, -receipt.amount, currency, dims, memo),
    ], description=f"{receipt.quantity} × {receipt.sku} received at {receipt.node} against PO {receipt.po_id} "
                   f"(ASN {receipt.asn_id}) by {receipt.received_by}", dims=dims)


@dataclass
class GrniBalance:
    """Per purchase order, SKU and currency of the received cost: what was received, what of it was invoiced
    (at the received cost, and as the vendor billed it), and what is open."""

    po_id: str
    sku: str
    currency: str
    received_quantity: int = 0
    received_value: Decimal = ZERO
    invoiced_quantity: int = 0
    invoiced_value: Decimal = ZERO  # the received cost of the units invoiced, taken out of GRNI
    billed_value: Decimal = ZERO  # what the vendor invoiced for them

    @property
    def open_quantity(self) -> int:
        return self.received_quantity - self.invoiced_quantity

    @property
    def open_value(self) -> Decimal:
        return self.received_value - self.invoiced_value

    def receive(self, receipt: GoodsReceipt) -> None:
        self.received_quantity += receipt.quantity
        self.received_value += receipt.amount

    def invoice(self, quantity: int, billed: Decimal) -> Decimal:
        """Takes `quantity` open units as invoiced; returns their received cost: the open value's share (its
        average), and all that is left for the last open units, so a fully invoiced PO line leaves nothing in
        GRNI whatever the rounding of its receipts."""
        if not 0 < quantity <= self.open_quantity:
            raise ValueError(f"{quantity} units of {self.open_quantity} open")
        cost = self.open_value if quantity == self.open_quantity else to_minor_unit(
            self.open_value * quantity / self.open_quantity, self.currency)
        self.invoiced_quantity += quantity
        self.invoiced_value += cost
        self.billed_value += billed
        return cost


# --- vendor invoices -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class VendorInvoice:
    invoice_id: str
    po_id: str
    vendor_id: str
    currency: str
    lines: tuple[InvoiceLine, ...]  # equal invoices are one sent again (amounts compare as numbers: 5.0 is 5.00)


@dataclass(frozen=True)
class MatchedLine:
    sku: str
    quantity: int
    unit_price: Decimal
    amount: Decimal  # what the vendor bills: unit_price × quantity, rounded once
    received_cost: Decimal  # what the units were received at, taken out of GRNI

    @property
    def price_variance(self) -> Decimal:
        return self.amount - self.received_cost


class InvoiceNotMatched(Invalid):
    """The invoice does not match what was received (or who invoices the PO): 422 naming each line's field."""

    code = "three_way_match"


def match_invoice(invoice: VendorInvoice, balances: Mapping[tuple[str, str], GrniBalance],
                  po_vendor: str | None) -> list[MatchedLine]:
    """Matches each line against the PO's goods received and not yet invoiced in the invoice's currency (the
    `balances` of the invoice's PO per (SKU, currency), taken in the invoice's order: two lines of one SKU share
    its open units) and takes the units as invoiced. `po_vendor`: who invoiced the PO before, if anyone. Raises
    InvoiceNotMatched naming every line that does not match; then nothing is taken."""
    problems: list[FieldProblem] = []
    if po_vendor is not None and po_vendor != invoice.vendor_id:
        problems.append(FieldProblem("vendor_id", f"PO {invoice.po_id} is invoiced by vendor {po_vendor}"))
    open_units = {key: balance.open_quantity for key, balance in balances.items()}
    for number, line in enumerate(invoice.lines):
        amount = to_minor_unit(line.unit_price * line.quantity, invoice.currency)
        available = open_units.get((line.sku, invoice.currency), 0)
        elsewhere = sorted(currency for (sku, currency), units in open_units.items()
                           if sku == line.sku and currency != invoice.currency and units)
        if amount >= MAX_AMOUNT:
            problems.append(FieldProblem(f"lines.{number}.unit_price", f"{amount} {invoice.currency} for the line "
                                                                       "is beyond what the books hold"))
        elif not available and elsewhere:
            problems.append(FieldProblem("currency", f"{line.sku} of PO {invoice.po_id} was received at a cost in "
                                                     f"{', '.join(elsewhere)}, not {invoice.currency}"))
        elif line.quantity > available:
            problems.append(FieldProblem(f"lines.{number}.quantity", (
                f"{line.quantity} units of {line.sku} invoiced, but only {available} of PO {invoice.po_id} were "
                "received and not invoiced yet")))
        else:
            open_units[(line.sku, invoice.currency)] = available - line.quantity
    if problems:
        raise InvoiceNotMatched(problems)
    matched = []
    for line in invoice.lines:
        amount = to_minor_unit(line.unit_price * line.quantity, invoice.currency)
        cost = balances[(line.sku, invoice.currency)].invoice(line.quantity, amount)
        matched.append(MatchedLine(line.sku, line.quantity, line.unit_price, amount, cost))
    if sum((max(line.amount, line.received_cost) for line in matched), ZERO) >= MAX_AMOUNT:
        raise InvoiceNotMatched([FieldProblem("lines", "the invoice's total is beyond what the books hold")])
    return matched


def post_vendor_invoice(invoice: VendorInvoice, matched: Sequence[MatchedLine], invoiced_at: datetime,
                        ) -> JournalEntry:
    """What was received and not invoiced becomes owed the vendor at the invoiced amount: Dr GRNI at the
    received cost, the difference to purchase price variance (a debit when the vendor bills more), Cr vendor
    payables."""
    currency, memo = invoice.currency, f"PO {invoice.po_id}"
    lines = []
    for line in matched:
        dims = Dimensions(sku=line.sku)
        lines += [signed_line(GOODS_RECEIVED_NOT_INVOICED, line.received_cost, currency, dims, memo),
                  signed_line(PURCHASE_PRICE_VARIANCE, line.price_variance, currency, dims, memo)]
    lines.append(signed_line(VENDOR_PAYABLES, -sum((line.amount for line in matched), ZERO), currency,
                             memo=f"vendor {invoice.vendor_id} invoice {invoice.invoice_id}"))
    return build_entry(VENDOR_INVOICE, invoice.invoice_id, invoiced_at, lines,
                       description=f"invoice {invoice.invoice_id} of vendor {invoice.vendor_id} for PO "
                                   f"{invoice.po_id}")
