"""Property: for any sequence of operational events, every entry balances per currency, the account totals are
the sum of the per-event postings, and the totals say what the events say (revenue = goods shipped, the
liability = refunds approved − paid, cost of goods sold = cost shipped − cost returned)."""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ecomops_common.money import to_minor_unit
from finance_service.domain.accounts import (
    CLEARING,
    COGS,
    INVENTORY,
    RECEIVABLE,
    REFUNDS_PAYABLE,
    REVENUE,
    SHIPPING_REVENUE,
    TAX_PAYABLE,
)
from finance_service.domain.journal import balances
from finance_service.domain.postings import (
    DispositionApplied,
    OrderLine,
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

AT = datetime(2026, 11, 1, tzinfo=UTC)
SKUS = ["SKU-A", "SKU-B", "SKU-C"]
money = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2)
cost_amount = st.decimals(min_value=D("0"), max_value=D("500"), places=3)


@st.composite
def scenario(draw):
    costs = {sku: UnitCost(draw(cost_amount), "EUR", draw(st.decimals(min_value=D(0), max_value=D(50), places=2)))
             for sku in SKUS}
    currency = draw(st.sampled_from(["EUR", "USD", "JPY"]))
    orders = []
    for number in range(draw(st.integers(1, 4))):
        lines = {str(i): OrderLine(str(i), draw(st.sampled_from(SKUS)), draw(st.integers(1, 5)),
                                   to_minor_unit(draw(money), currency)) for i in range(draw(st.integers(1, 3)))}
        orders.append(SaleOrder(f"O-{number}", draw(st.sampled_from(["web", "amazon"])), "C-1", currency,
                                draw(st.sampled_from(["card", "invoice", "exchange"])), lines,
                                to_minor_unit(draw(st.decimals(min_value=0, max_value=20, places=2)), currency),
                                to_minor_unit(draw(st.decimals(min_value=0, max_value=50, places=2)), currency)))
    steps = draw(st.lists(st.tuples(st.sampled_from(["ship", "refund", "dispose", "count"]), st.integers(0, 99),
                                    st.integers(0, 99)), max_size=25))
    return costs, orders, steps


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_the_journal_balances_and_its_totals_are_the_sum_of_the_postings(case):
    costs, orders, steps = case
    entries, expected = [], defaultdict(lambda: D(0))
    returnable: list[tuple[SaleOrder, str, int]] = []  # (order, sku, units) shipped and not yet returned
    for number, (action, a, b) in enumerate(steps):
        event_id = f"e{number}"
        if action == "ship":
            order = orders[a % len(orders)]
            open_lines = [line for line in order.lines.values() if order.shipped.get(line.line_id, 0) < line.quantity]
            if not open_lines:
                continue
            line = open_lines[b % len(open_lines)]
            units = 1 + b % (line.quantity - order.shipped.get(line.line_id, 0))
            entries.append(order.ship(Shipment(event_id, order.order_id, (ShippedUnits(line.line_id, line.sku, units),),
                                               AT, D(b) / 10, "EUR"), costs))
            expected[("cost shipped", "EUR")] += to_minor_unit(costs[line.sku].amount * units, "EUR")
            if order.payment_method != "exchange":
                expected[("revenue", order.currency)] += to_minor_unit(line.unit_price * units, order.currency)
            returnable.append((order, line.sku, units))
        elif action == "refund" and returnable:
            order, sku, units = returnable[a % len(returnable)]
            line_id = next(line.line_id for line in order.lines.values() if line.sku == sku)
            goods = to_minor_unit(order.lines[line_id].unit_price * units, order.currency)
            fee = to_minor_unit(goods * (b % 30) / 100, order.currency)
            breakdown = [RefundComponent(line_id, "goods", goods), RefundComponent(line_id, "restocking_fee_B", -fee)]
            approved = post_refund_approved(event_id, order.order_id, "R", order.channel, "size_fit",
                                            order.currency, {line_id: sku}, breakdown, goods - fee, AT)
            entries.append(approved)
            expected[("approved", order.currency)] += goods - fee
            if b % 2:
                entries.append(post_refund_issued(event_id, order.order_id, "R", order.channel, "size_fit",
                                                  order.currency, goods - fee, "re", AT))
                expected[("paid", order.currency)] += goods - fee
        elif action == "dispose" and returnable:
            order, sku, units = returnable.pop(a % len(returnable))
            kind = ["restock", "scrap", "liquidate", "quarantine"][b % 4]
            entries.append(post_disposition(DispositionApplied(event_id, "R", sku, units, kind, AT), order, None,
                                            costs))
            returned_cost = to_minor_unit(order.unit_costs[sku].amount * units, "EUR")
            expected[("cost returned", "EUR")] += returned_cost
            if kind == "liquidate":
                expected[("recovered", "EUR")] += to_minor_unit(costs[sku].liquidation_value * units, "EUR")
            if kind in ("restock", "quarantine"):
                expected[("inventory", "EUR")] += returned_cost
        elif action == "count":
            sku = SKUS[a % len(SKUS)]
            units = b % 7 - 3 or 1
            entries.append(post_stock_adjustment(StockAdjustment(event_id, sku, "WH1", units, AT), costs))
            expected[("inventory", "EUR")] += to_minor_unit(costs[sku].amount * units, "EUR")

    totals = balances(entries)
    per_event: dict = defaultdict(lambda: D(0))
    for entry in entries:
        for key, amount in balances([entry]).items():
            per_event[key] += amount
        for currency, (debits, credits) in entry.totals().items():
            assert debits == credits, f"{entry.kind} {entry.source_id} unbalanced in {currency}"
    assert totals == dict(per_event)
    for currency in {currency for _, currency in totals}:
        assert sum(amount for (_, c), amount in totals.items() if c == currency) == 0

    def net(account: str, currency: str) -> D:
        return totals.get((account, currency), D(0))

    currency = orders[0].currency
    assert -net(REVENUE, currency) == expected[("revenue", currency)]
    assert -net(REFUNDS_PAYABLE, currency) == expected[("approved", currency)] - expected[("paid", currency)]
    assert net(COGS, "EUR") == expected[("cost shipped", "EUR")] - expected[("cost returned", "EUR")]
    for order in orders:
        if order.payment_method != "exchange" and all(
                order.shipped.get(line_id, 0) == line.quantity for line_id, line in order.lines.items()):
            # a completely shipped order has recognized exactly its shipping fee and tax
            assert order.recognized_shipping == order.shipping_fee and order.recognized_tax == order.tax
    billed = [order for order in orders if order.payment_method != "exchange"]
    assert -net(SHIPPING_REVENUE, currency) == sum((order.recognized_shipping for order in billed), D(0))
    assert -net(TAX_PAYABLE, currency) == sum((order.recognized_tax for order in billed), D(0))
    assert net(INVENTORY, "EUR") == expected[("inventory", "EUR")] - expected[("cost shipped", "EUR")]
    # owed by or collected from customers: what was billed less what was paid back (plus liquidators' dues)
    billed_total = sum((order.recognized_shipping + order.recognized_tax for order in billed), D(0))
    assert net(CLEARING, currency) + net(RECEIVABLE, currency) == (
        expected[("revenue", currency)] + billed_total - expected[("paid", currency)]
        + (expected[("recovered", "EUR")] if currency == "EUR" else 0))
