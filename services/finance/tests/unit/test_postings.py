"""Posting rules, to the cent, and the journal's rules: balanced, rounded once, reversed not changed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from ecomops_common.money import to_minor_unit
from finance_service.domain.accounts import (
    CARRIER_PAYABLES,
    CLEARING,
    COGS,
    COUNT_GAIN_LOSS,
    FREIGHT,
    INVENTORY,
    RECEIVABLE,
    REFUNDS_PAYABLE,
    RESTOCKING_FEES,
    REVENUE,
    SALES_RETURNS,
    SHIPPING_REVENUE,
    TAX_PAYABLE,
    WRITE_OFF,
)
from finance_service.domain.journal import (
    IrreversibleEntry,
    JournalLine,
    UnbalancedEntry,
    balances,
    build_entry,
    reversal,
)
from finance_service.domain.money import allocate
from finance_service.domain.payouts import ProviderOutcome, ProviderResult, Refund, RefundStatus
from finance_service.domain.postings import (
    DispositionApplied,
    MissingData,
    OrderLine,
    PostingError,
    RefundComponent,
    SaleOrder,
    Shipment,
    ShippedUnits,
    StockAdjustment,
    UnitCost,
    post_disposition,
    post_refund_approved,
    post_refund_issued,
    post_stock_adjustment,
)

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
COSTS = {"SKU-A": UnitCost(D("12.40"), "EUR"), "SKU-B": UnitCost(D("4.333"), "EUR")}


def order(method: str = "card") -> SaleOrder:
    return SaleOrder("O-1", "web-eu", "C-1", "EUR", method, {
        "1": OrderLine("1", "SKU-A", 2, D("29.99")), "2": OrderLine("2", "SKU-B", 3, D("9.99"))},
        shipping_fee=D("4.95"), tax=D("10.00"))


def net(entry, account: str, currency: str = "EUR") -> D:
    return balances([entry]).get((account, currency), D(0))


def shipment(event_id: str, *lines: tuple[str, str, int], cost: str | None = None) -> Shipment:
    return Shipment(event_id, "O-1", tuple(ShippedUnits(*line) for line in lines), AT,
                    D(cost) if cost else None, "EUR" if cost else None)


def test_a_whole_shipment_posts_revenue_fee_tax_cost_and_freight_to_the_cent():
    entry = order().ship(shipment("e1", ("1", "SKU-A", 2), ("2", "SKU-B", 3), cost="7.10"), COSTS)
    assert net(entry, CLEARING) == D("59.98") + D("29.97") + D("4.95") + D("10.00")
    assert net(entry, REVENUE) == D("-89.95")
    assert (net(entry, SHIPPING_REVENUE), net(entry, TAX_PAYABLE)) == (D("-4.95"), D("-10.00"))
    assert net(entry, COGS) == D("24.80") + D("13.00") == -net(entry, INVENTORY)  # 3 × 4.333 = 12.999 → 13.00
    assert net(entry, FREIGHT) == D("7.10") == -net(entry, CARRIER_PAYABLES)
    assert {line.dims.sku for line in entry.lines if line.account == FREIGHT} == {"SKU-A", "SKU-B"}


def test_split_shipments_share_fee_and_tax_pro_rata_and_the_last_takes_what_is_left():
    sale = order()
    first = sale.ship(shipment("e1", ("1", "SKU-A", 1)), COSTS)
    # 29.99 of 89.95 goods: 4.95 × 0.3334 = 1.65, 10.00 × 0.3334 = 3.33
    assert (net(first, SHIPPING_REVENUE), net(first, TAX_PAYABLE)) == (D("-1.65"), D("-3.33"))
    second = sale.ship(shipment("e2", ("1", "SKU-A", 1), ("2", "SKU-B", 3)), COSTS)
    assert (net(second, SHIPPING_REVENUE), net(second, TAX_PAYABLE)) == (D("-3.30"), D("-6.67"))
    totals = balances([first, second])
    assert totals[(REVENUE, "EUR")] == D("-89.95") and totals[(CLEARING, "EUR")] == D("104.90")


def test_invoice_orders_are_owed_by_the_customer_and_exchanges_post_cost_only():
    invoiced = order("invoice").ship(shipment("e1", ("1", "SKU-A", 2)), COSTS)
    assert net(invoiced, RECEIVABLE) > 0 and net(invoiced, CLEARING) == 0
    exchange = order("exchange").ship(shipment("e1", ("1", "SKU-A", 2)), COSTS)
    assert {line.account for line in exchange.lines} == {COGS, INVENTORY}


def test_a_shipment_waits_for_unit_costs_and_refuses_lines_the_order_lacks():
    sale = order()
    with pytest.raises(MissingData) as missing:
        sale.ship(shipment("e1", ("1", "SKU-A", 1), ("2", "SKU-B", 1)), {"SKU-A": COSTS["SKU-A"]})
    assert missing.value.keys == ["cost:SKU-B"] and sale.shipped == {}  # nothing half done
    with pytest.raises(PostingError):
        sale.ship(shipment("e1", ("9", "SKU-A", 1)), COSTS)


def test_returned_units_leave_cogs_at_the_cost_they_were_sold_at():
    sale = order()
    sale.ship(shipment("e1", ("1", "SKU-A", 2)), COSTS)
    later_costs = {**COSTS, "SKU-A": UnitCost(D("15.00"), "EUR")}

    def disposition(kind: str):
        return post_disposition(DispositionApplied("d", "R-1", "SKU-A", 1, kind, AT), sale, "size_fit", later_costs)

    restock = disposition("restock")
    assert net(restock, INVENTORY) == D("12.40") == -net(restock, COGS)
    scrap = disposition("scrap")
    assert net(scrap, WRITE_OFF) == D("12.40") and net(scrap, INVENTORY) == 0
    liquidate = disposition("liquidate")  # kept in inventory until sold (a recovery move writes it off)
    assert (net(liquidate, INVENTORY), net(liquidate, WRITE_OFF), net(liquidate, COGS)) == (
        D("12.40"), D("0"), D("-12.40"))
    assert all(line.dims.reason == "size_fit" and line.dims.rma_id == "R-1" for line in liquidate.lines)


def test_count_adjustments_are_inventory_gains_and_losses_at_cost():
    lost = post_stock_adjustment(StockAdjustment("s1", "SKU-A", "WH1", -2, AT), COSTS)
    assert net(lost, INVENTORY) == D("-24.80") and net(lost, COUNT_GAIN_LOSS) == D("24.80")
    found = post_stock_adjustment(StockAdjustment("s2", "SKU-B", "WH1", 1, AT), COSTS)
    assert net(found, INVENTORY) == D("4.33")
    with pytest.raises(MissingData):
        post_stock_adjustment(StockAdjustment("s3", "SKU-X", "WH1", 1, AT), COSTS)


def test_an_approved_refund_is_a_liability_with_fees_kept_and_shipping_given_back():
    breakdown = [RefundComponent("1", "goods", D("29.99")), RefundComponent("1", "restocking_fee_C", D("-6.00")),
                 RefundComponent("2", "goods", D("9.99")), RefundComponent("2", "shipping", D("1.65"))]
    entry = post_refund_approved("RF-1", "O-1", "R-1", "web-eu", "size_fit", "EUR", {"1": "SKU-A", "2": "SKU-B"},
                                 breakdown, D("35.63"), AT)
    assert net(entry, SALES_RETURNS) == D("39.98")
    assert net(entry, RESTOCKING_FEES) == D("-6.00")
    assert net(entry, SHIPPING_REVENUE) == D("1.65")
    assert net(entry, REFUNDS_PAYABLE) == D("-35.63")
    paid = post_refund_issued("RF-1", "O-1", "R-1", "web-eu", "size_fit", "EUR", D("35.63"), "re_1", AT)
    assert balances([entry, paid])[(REFUNDS_PAYABLE, "EUR")] == 0
    with pytest.raises(PostingError):
        post_refund_approved("RF-2", "O-1", "R-1", "web-eu", "size_fit", "EUR", {}, breakdown, D("35.64"), AT)


def test_a_cap_beyond_the_goods_comes_off_the_shipping_share():
    entry = post_refund_approved("RF-1", "O-1", "R-1", "web", "defective", "EUR", {"1": "SKU-A"}, [
        RefundComponent("1", "goods", D("5.00")), RefundComponent("1", "shipping", D("2.00")),
        RefundComponent("1", "cap", D("-6.00"))], D("1.00"), AT)
    assert (net(entry, SALES_RETURNS), net(entry, SHIPPING_REVENUE)) == (D("0"), D("1.00"))


def test_entries_balance_per_currency_and_are_reversed_not_changed():
    with pytest.raises(UnbalancedEntry):
        build_entry("manual", "m1", AT, [JournalLine(CLEARING, D("1.00"), D(0), "EUR"),
                                         JournalLine(REVENUE, D(0), D("1.00"), "USD")])
    with pytest.raises(UnbalancedEntry):  # not in minor units: rounding happens once, before posting
        build_entry("manual", "m1", AT, [JournalLine(CLEARING, D("1.005"), D(0), "EUR"),
                                         JournalLine(REVENUE, D(0), D("1.005"), "EUR")])
    entry = order().ship(shipment("e1", ("1", "SKU-A", 2)), COSTS)
    undo = reversal(entry, AT, "shipped by mistake")
    assert undo.reverses == "shipment:e1" and undo.source_id == "shipment:e1"
    assert all(amount == 0 for amount in balances([entry, undo]).values())
    with pytest.raises(IrreversibleEntry):
        reversal(undo, AT, "twice")


def test_allocations_add_up_and_rounding_is_half_up_once():
    assert allocate(D("10.00"), [1, 1, 1], "EUR") == [D("3.34"), D("3.33"), D("3.33")]
    assert sum(allocate(D("7.10"), [2, 3, 5], "EUR")) == D("7.10")
    assert allocate(D("100"), [1, 2], "JPY") == [D("33"), D("67")]
    assert to_minor_unit(D("2.345"), "EUR") == D("2.35") and to_minor_unit(D("2.5"), "JPY") == D("3")


def test_a_refund_is_paid_once_retried_with_the_same_key_and_only_restarted_after_a_decline():
    refund = Refund("RF-1", "R-1", "O-1", "web", "C-1", D("10.00"), "EUR", "size_fit", "on_receipt", AT)
    key = refund.idempotency_key
    assert not refund.record(ProviderResult(ProviderOutcome.unknown, code="timeout"), AT, timedelta(seconds=5))
    assert refund.status is RefundStatus.pending and refund.idempotency_key == key
    assert refund.next_attempt_at == AT + timedelta(seconds=5)
    assert refund.record(ProviderResult(ProviderOutcome.paid, reference="re_1"), AT, timedelta(seconds=5))
    assert not refund.record(ProviderResult(ProviderOutcome.paid, reference="re_2"), AT, timedelta(seconds=5))
    assert (refund.status, refund.provider_reference, refund.attempts) == (RefundStatus.issued, "re_1", 2)

    declined = Refund("RF-2", "R-1", "O-1", "web", "C-1", D("10.00"), "EUR", "size_fit", "on_receipt", AT)
    declined.record(ProviderResult(ProviderOutcome.declined, code="card_closed"), AT, timedelta(seconds=5))
    assert declined.status is RefundStatus.failed and declined.last_error == "card_closed"
    first_key = declined.idempotency_key
    declined.retry()
    assert declined.status is RefundStatus.pending and declined.idempotency_key != first_key
    with pytest.raises(ValueError):
        declined.retry()
