"""The purchasing service layer on in-memory fakes: the SKU master's costs, goods receipts and vendor invoices,
what each stores, posts, publishes and refuses, and that it happens once."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from ecomops_common.contracts.catalog import SkuChanged, SkuStatus
from ecomops_common.contracts.warehouse import GoodsReceived
from ecomops_common.testing.fakes import received
from finance_service.adapters.fakes import FakeFinanceUnitOfWork
from finance_service.domain.accounts import GOODS_RECEIVED_NOT_INVOICED, INVENTORY
from finance_service.domain.journal import balances
from finance_service.domain.postings import UnitCost
from finance_service.domain.purchasing import GrniBalance, InvoiceLine, InvoiceNotMatched, VendorInvoice
from finance_service.service_layer.journal import CostFromCatalog, set_unit_cost
from finance_service.service_layer.posting import post_parked, record_facts
from finance_service.service_layer.purchasing import InvoiceIdTaken, record_catalog_costs, record_vendor_invoice

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def sku_changed(revision: int, unit_cost: str | None = "4.10", sku: str = "SKU-A", **changes) -> SkuChanged:
    return SkuChanged(sku=sku, revision=revision, status=SkuStatus.active, name="Red shirt",
                      unit_cost=D(unit_cost) if unit_cost else None, currency="EUR" if unit_cost else None,
                      changed_by="merch:mia", changed_at=NOW, **changes)


def goods_received(receipt_id: str = "rc-1", quantity: int = 3, unit_cost: str | None = "3.333",
                   sku: str = "SKU-A") -> GoodsReceived:
    return GoodsReceived(receipt_id=receipt_id, po_id="PO-1", asn_id="ASN-1", node="BER1", sku=sku,
                         quantity=quantity, unit_cost=D(unit_cost) if unit_cost else None,
                         currency="EUR" if unit_cost else None, received_by="op-7", received_at=NOW)


def invoice(*lines: tuple[str, int, str], invoice_id: str = "INV-1") -> VendorInvoice:
    return VendorInvoice(invoice_id, "PO-1", "V-1", "EUR", tuple(InvoiceLine(s, q, D(p)) for s, q, p in lines))


async def test_the_catalogs_cost_becomes_finances_announced_like_one_set_by_hand():
    uow = FakeFinanceUnitOfWork()
    await record_catalog_costs(uow, received(sku_changed(2), sku_changed(1, "1.00")))
    assert uow.finance.costs == {"SKU-A": UnitCost(D("4.10"), "EUR")} and uow.commits == 1
    [changed] = uow.events("UnitCostChanged")
    assert (changed.aggregate_id, changed.payload["amount"], changed.payload["currency"], changed.payload["at"]) == (
        "SKU-A", "4.10", "EUR", "2026-12-01T09:00:00Z")

    # an older revision, the same one again, or a newer one with the same cost: nothing changes or is announced
    await record_catalog_costs(uow, received(sku_changed(1, "1.00"), sku_changed(2, "9.99")))
    await record_catalog_costs(uow, received(sku_changed(3, weight_kg=1.5)))
    assert uow.finance.costs == {"SKU-A": UnitCost(D("4.10"), "EUR")} and len(uow.events("UnitCostChanged")) == 1
    assert uow.finance.catalog["SKU-A"].revision == 3

    await record_catalog_costs(uow, received(sku_changed(4, "4.25")))
    assert [e.payload["amount"] for e in uow.events("UnitCostChanged")] == ["4.10", "4.25"]


async def test_a_cost_the_catalog_sets_is_not_set_by_hand_but_one_it_does_not_set_is():
    uow = FakeFinanceUnitOfWork()
    await record_catalog_costs(uow, received(sku_changed(1), sku_changed(1, None, sku="SKU-B")))
    with pytest.raises(CostFromCatalog, match="the unit cost of SKU-A comes from the SKU master "
                                              r"\(catalog revision 1\); change it in the catalog"):
        await set_unit_cost(uow, "SKU-A", UnitCost(D("1.00"), "EUR"), "fin:maria")
    await set_unit_cost(uow, "SKU-B", UnitCost(D("2.00"), "EUR"), "fin:maria")
    await set_unit_cost(uow, "SKU-C", UnitCost(D("3.00"), "EUR"), "fin:maria")  # unknown to the catalog
    assert uow.finance.costs["SKU-A"] == UnitCost(D("4.10"), "EUR")
    # the catalog stops costing SKU-A: finance keeps its last cost, and staff may set it again
    await record_catalog_costs(uow, received(sku_changed(2, None)))
    assert uow.finance.costs["SKU-A"] == UnitCost(D("4.10"), "EUR")
    await set_unit_cost(uow, "SKU-A", UnitCost(D("1.00"), "EUR"), "fin:maria")
    assert uow.finance.costs["SKU-A"] == UnitCost(D("1.00"), "EUR")


async def test_goods_received_post_once_per_receipt_and_open_the_po_lines_grni():
    uow = FakeFinanceUnitOfWork()
    again = goods_received()
    await record_facts(uow, received(goods_received(), again, goods_received("rc-2", 2, "3.00")))
    await record_facts(uow, received(again))  # the same receipt under another event id
    assert [entry.source_id for entry in uow.finance.entries("goods_received")] == ["rc-1", "rc-2"]
    ledger = balances(uow.finance.entries())
    assert (ledger[(INVENTORY, "EUR")], ledger[(GOODS_RECEIVED_NOT_INVOICED, "EUR")]) == (D("16.00"), D("-16.00"))
    assert uow.finance.grni == {("PO-1", "SKU-A", "EUR"): GrniBalance("PO-1", "SKU-A", "EUR", 5, D("16.00"))}
    assert [e.payload["kind"] for e in uow.events("JournalEntryPosted")] == ["goods_received"] * 2


async def test_a_receipt_without_any_cost_waits_until_the_catalog_costs_the_sku():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(goods_received(unit_cost=None)))
    assert [p["waiting_for"] for p in uow.finance.parked.values()] == ["cost:SKU-A"] and not uow.finance.journal
    await record_catalog_costs(uow, received(sku_changed(1, "2.00")))
    assert await post_parked(uow) == 1
    [entry] = uow.finance.entries("goods_received")
    assert balances([entry])[(INVENTORY, "EUR")] == D("6.00") and not uow.finance.parked


async def test_an_invoice_is_matched_posted_and_recorded_once_and_a_resend_answers_it():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(goods_received()))
    recorded, created = await record_vendor_invoice(uow, invoice(("SKU-A", 2, "3.50")), "fin:maria")
    assert created and (recorded.entry_id, recorded.recorded_by) == (2, "fin:maria")
    [(entry, posted_by)] = [(e, by) for e, by in uow.finance.journal if e.kind == "vendor_invoice"]
    assert posted_by == "fin:maria" and balances([entry])[(GOODS_RECEIVED_NOT_INVOICED, "EUR")] == D("6.67")
    commits = uow.commits

    again, created = await record_vendor_invoice(uow, invoice(("SKU-A", 2, "3.5")), "fin:omar")
    assert not created and (again.entry_id, again.recorded_by) == (2, "fin:maria") and uow.commits == commits
    with pytest.raises(InvoiceIdTaken, match="invoice INV-1 is recorded with other content"):
        await record_vendor_invoice(uow, invoice(("SKU-A", 1, "3.50")), "fin:maria")
    assert len(uow.finance.entries("vendor_invoice")) == 1
    assert uow.finance.grni[("PO-1", "SKU-A", "EUR")].open_quantity == 1


async def test_an_invoice_beyond_what_was_received_records_nothing_and_its_id_stays_free():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(goods_received()))
    with pytest.raises(InvoiceNotMatched) as refused:
        await record_vendor_invoice(uow, invoice(("SKU-A", 4, "3.50")), "fin:maria")
    assert [p.field for p in refused.value.problems] == ["lines.0.quantity"]
    assert not uow.finance.invoices and not uow.finance.entries("vendor_invoice")
    _, created = await record_vendor_invoice(uow, invoice(("SKU-A", 3, "3.50")), "fin:maria")
    assert created and uow.finance.grni[("PO-1", "SKU-A", "EUR")].open_value == D("0.00")
