"""Purchasing rules, to the cent: unit costs from the SKU master, goods received not invoiced, vendor invoices
matched three ways."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from finance_service.domain.accounts import (
    GOODS_RECEIVED_NOT_INVOICED,
    INVENTORY,
    PURCHASE_PRICE_VARIANCE,
    VENDOR_PAYABLES,
)
from finance_service.domain.journal import balances
from finance_service.domain.postings import MissingData, PostingError, UnitCost
from finance_service.domain.purchasing import (
    CatalogRevision,
    GrniBalance,
    InvoiceLine,
    InvoiceNotMatched,
    VendorInvoice,
    catalog_cost,
    cost_to_announce,
    goods_receipt,
    match_invoice,
    newest_revisions,
    post_goods_received,
    post_vendor_invoice,
)

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
EUR = UnitCost(D("3.333"), "EUR")


def receipt(receipt_id="rc-1", sku="SKU-A", quantity=3, unit_cost: D | None = D("3.333"), currency="EUR",
            costs=None, po_id="PO-1"):
    return goods_receipt(receipt_id, po_id, "ASN-1", "BER1", sku, quantity, unit_cost, currency, "op-7", AT,
                         costs or {})


def balance_of(*receipts, po_id="PO-1", sku="SKU-A", currency="EUR") -> GrniBalance:
    balance = GrniBalance(po_id, sku, currency)
    for received in receipts:
        balance.receive(received)
    return balance


def invoice(*lines, currency="EUR", vendor_id="V-1") -> VendorInvoice:
    return VendorInvoice("INV-1", "PO-1", vendor_id, currency, tuple(InvoiceLine(*line) for line in lines))


def test_a_sku_master_cost_needs_a_known_currency_and_no_negative_amount():
    assert catalog_cost(D("4.10"), "EUR") == UnitCost(D("4.10"), "EUR")
    assert catalog_cost(D("0"), "JPY") == UnitCost(D("0"), "JPY")  # free samples cost nothing
    assert catalog_cost(None, "EUR") is None and catalog_cost(D("4.10"), None) is None
    assert catalog_cost(D("4.10"), "XXX") is None and catalog_cost(D("-1"), "EUR") is None


def test_the_newest_revision_of_each_sku_wins_whatever_the_order():
    def revision(sku, number, amount):
        return CatalogRevision(sku, number, UnitCost(D(amount), "EUR"), "mia", AT)

    newest = newest_revisions([revision("A", 2, "2.00"), revision("B", 1, "9.00"), revision("A", 3, "3.00"),
                               revision("A", 1, "1.00"), revision("A", 3, "3.00")])
    assert [(r.sku, r.revision, r.cost.amount) for r in newest] == [("A", 3, D("3.00")), ("B", 1, D("9.00"))]


def test_an_applied_revision_announces_its_cost_only_when_it_changes_finances():
    costed = CatalogRevision("A", 4, UnitCost(D("4.10"), "EUR"), "mia", AT)
    assert cost_to_announce(costed, None) == UnitCost(D("4.10"), "EUR")
    assert cost_to_announce(costed, UnitCost(D("4.00"), "EUR")) == UnitCost(D("4.10"), "EUR")
    assert cost_to_announce(costed, UnitCost(D("4.10"), "USD")) == UnitCost(D("4.10"), "EUR")
    assert cost_to_announce(costed, UnitCost(D("4.1"), "EUR")) is None  # only, say, the weight changed
    assert cost_to_announce(CatalogRevision("A", 5, None, "mia", AT), UnitCost(D("4.10"), "EUR")) is None


def test_goods_received_post_inventory_against_grni_at_the_receipts_cost_rounded_once():
    received = receipt()
    assert received.amount == D("10.00")  # 3 × 3.333 = 9.999
    entry = post_goods_received(received)
    assert (entry.kind, entry.source_id, entry.occurred_at) == ("goods_received", "rc-1", AT)
    assert balances([entry]) == {(INVENTORY, "EUR"): D("10.00"), (GOODS_RECEIVED_NOT_INVOICED, "EUR"): D("-10.00")}
    assert {line.memo for line in entry.lines} == {"PO PO-1"} and {line.dims.sku for line in entry.lines} == {"SKU-A"}
    assert entry.description == "3 × SKU-A received at BER1 against PO PO-1 (ASN ASN-1) by op-7"


def test_a_receipt_without_a_cost_takes_finances_else_waits_for_it():
    assert receipt(unit_cost=None, costs={"SKU-A": UnitCost(D("2.50"), "USD")}).cost == UnitCost(D("2.50"), "USD")
    assert receipt(currency=None, costs={"SKU-A": UnitCost(D("2.50"), "USD")}).amount == D("7.50")
    with pytest.raises(MissingData) as waiting:
        receipt(unit_cost=None)
    assert waiting.value.keys == ["cost:SKU-A"]


def test_a_receipt_the_books_cannot_hold_goes_to_review():
    with pytest.raises(PostingError, match="is no cost"):
        receipt(unit_cost=D("-1"))
    with pytest.raises(PostingError, match="is no cost"):
        receipt(currency="XXX")
    with pytest.raises(PostingError, match="beyond a journal line"):
        receipt(unit_cost=D("9999999999999"), quantity=2)
    with pytest.raises(PostingError, match="longer than the books keep"):
        receipt(po_id="P" * 65)
    assert receipt(receipt_id="r" * 160).receipt_id == "r" * 160


def test_invoiced_units_leave_grni_at_their_share_of_the_open_value_and_the_last_take_the_rest():
    balance = balance_of(receipt())  # 3 units, 10.00
    assert balance.invoice(1, D("3.40")) == D("3.33")
    assert balance.invoice(1, D("3.40")) == D("3.34")  # 6.67 / 2 = 3.335
    assert balance.invoice(1, D("3.40")) == D("3.33")  # the rest: a fully invoiced line leaves nothing
    assert (balance.open_quantity, balance.open_value, balance.invoiced_value, balance.billed_value) == (
        0, D("0.00"), D("10.00"), D("10.20"))
    with pytest.raises(ValueError):
        balance.invoice(1, D("1"))


def test_an_invoice_matching_what_was_received_posts_grni_variance_and_payables():
    balances_ = {("SKU-A", "EUR"): balance_of(receipt()), ("SKU-B", "EUR"): balance_of(receipt(
        "rc-2", "SKU-B", 10, D("1.00")), sku="SKU-B")}
    billed = invoice(("SKU-A", 2, D("3.50")), ("SKU-B", 4, D("0.95")), ("SKU-B", 6, D("1.00")))
    matched = match_invoice(billed, balances_, None)
    assert [(m.sku, m.amount, m.received_cost, m.price_variance) for m in matched] == [
        ("SKU-A", D("7.00"), D("6.67"), D("0.33")), ("SKU-B", D("3.80"), D("4.00"), D("-0.20")),
        ("SKU-B", D("6.00"), D("6.00"), D("0.00"))]
    assert balances_[("SKU-B", "EUR")].open_quantity == 0 and balances_[("SKU-A", "EUR")].open_quantity == 1
    entry = post_vendor_invoice(billed, matched, AT)
    assert (entry.kind, entry.source_id) == ("vendor_invoice", "INV-1")
    assert balances([entry]) == {(GOODS_RECEIVED_NOT_INVOICED, "EUR"): D("16.67"),
                                 (PURCHASE_PRICE_VARIANCE, "EUR"): D("0.13"), (VENDOR_PAYABLES, "EUR"): D("-16.80")}
    assert [line.memo for line in entry.lines][-1] == "vendor V-1 invoice INV-1"


def test_more_units_invoiced_than_received_and_not_invoiced_name_the_line_and_take_nothing():
    balance = balance_of(receipt())  # 3 units open
    balance.invoice(1, D("3.33"))  # 2 left
    with pytest.raises(InvoiceNotMatched) as refused:
        match_invoice(invoice(("SKU-A", 1, D("3")), ("SKU-A", 2, D("3")), ("SKU-Z", 1, D("3"))),
                      {("SKU-A", "EUR"): balance}, None)
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("lines.1.quantity", "2 units of SKU-A invoiced, but only 1 of PO PO-1 were received and not invoiced yet"),
        ("lines.2.quantity", "1 units of SKU-Z invoiced, but only 0 of PO PO-1 were received and not invoiced yet")]
    assert refused.value.code == "three_way_match"
    assert (balance.invoiced_quantity, balance.billed_value) == (1, D("3.33"))  # nothing taken


def test_an_invoice_in_another_currency_or_from_another_vendor_does_not_match():
    balances_ = {("SKU-A", "EUR"): balance_of(receipt())}
    with pytest.raises(InvoiceNotMatched) as refused:
        match_invoice(invoice(("SKU-A", 1, D("3")), currency="USD", vendor_id="V-2"), balances_, "V-1")
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("vendor_id", "PO PO-1 is invoiced by vendor V-1"),
        ("currency", "SKU-A of PO PO-1 was received at a cost in EUR, not USD")]
    with pytest.raises(InvoiceNotMatched) as refused:
        match_invoice(invoice(("SKU-A", 2, D("9999999999999"))), balances_, None)
    assert [p.field for p in refused.value.problems] == ["lines.0.unit_price"]
    assert balances_[("SKU-A", "EUR")].invoiced_quantity == 0
