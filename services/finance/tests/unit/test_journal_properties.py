"""Properties: for any sequence of operational events, every entry balances per currency, the account totals are
the sum of the per-event postings, and the totals say what the events say (revenue = goods shipped, the
liabilities = refunds approved − paid, sales tax = tax billed − tax refunded, fees = commission − commission given
back, cost of goods sold = cost shipped − cost returned, the vendor receivable = accepted − settled, goods received
not invoiced = what is open per PO line, never negative, nothing once fully invoiced; purchase price variance =
billed − received cost invoiced). And store credit and refunds happen exactly once, however often their facts are
delivered."""

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.contracts.returns import RefundApproved, RefundedLine, ReturnAuthorized, ReturnLine
from ecomops_common.contracts.returns import RefundComponent as ApprovedComponent
from ecomops_common.money import to_minor_unit
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed
from finance_service.adapters.fakes import FakeFinanceUnitOfWork
from finance_service.domain.accounts import (
    CLEARING,
    COGS,
    FEES_PAYABLE,
    GOODS_RECEIVED_NOT_INVOICED,
    INVENTORY,
    MARKETPLACE_FEES,
    PURCHASE_PRICE_VARIANCE,
    RECEIVABLE,
    REFUNDS_PAYABLE,
    RETURN_FREIGHT,
    REVENUE,
    SHIPPING_REVENUE,
    STORE_CREDIT,
    SUPPLIER_RECOVERIES,
    TAX_PAYABLE,
    VENDOR_PAYABLES,
    VENDOR_RECEIVABLE,
)
from finance_service.domain.journal import balances
from finance_service.domain.payouts import RefundStatus
from finance_service.domain.postings import (
    ChannelFees,
    DispositionApplied,
    OrderLine,
    RecoveryMove,
    RefundComponent,
    SaleOrder,
    Shipment,
    ShippedUnits,
    StockAdjustment,
    UnitCost,
    VendorClaim,
    post_disposition,
    post_recovery_write_off,
    post_refund_approved,
    post_refund_issued,
    post_return_freight,
    post_stock_adjustment,
    post_vendor_claim,
)
from finance_service.domain.purchasing import (
    GrniBalance,
    InvoiceLine,
    VendorInvoice,
    goods_receipt,
    match_invoice,
    post_goods_received,
    post_vendor_invoice,
)
from finance_service.service_layer.posting import record_facts

AT = datetime(2026, 11, 1, tzinfo=UTC)
SKUS = ["SKU-A", "SKU-B", "SKU-C"]
CHANNELS = ["web", "amazon"]
money = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2)
cost_amount = st.decimals(min_value=D("0"), max_value=D("500"), places=3)
rate = st.decimals(min_value=D("0"), max_value=D("1"), places=4)


@st.composite
def scenario(draw):
    costs = {sku: UnitCost(draw(cost_amount), "EUR") for sku in SKUS}
    fees = {channel: ChannelFees(draw(rate), draw(rate)) for channel in CHANNELS if draw(st.booleans())}
    currency = draw(st.sampled_from(["EUR", "USD", "JPY"]))
    orders = []
    for number in range(draw(st.integers(1, 4))):
        lines = {str(i): OrderLine(str(i), draw(st.sampled_from(SKUS)), draw(st.integers(1, 5)),
                                   to_minor_unit(draw(money), currency)) for i in range(draw(st.integers(1, 3)))}
        orders.append(SaleOrder(f"O-{number}", draw(st.sampled_from(CHANNELS)), "C-1", currency,
                                draw(st.sampled_from(["card", "invoice", "exchange", "store_credit"])), lines,
                                to_minor_unit(draw(st.decimals(min_value=0, max_value=20, places=2)), currency),
                                to_minor_unit(draw(st.decimals(min_value=0, max_value=50, places=2)), currency)))
    steps = draw(st.lists(st.tuples(
        st.sampled_from(["ship", "refund", "dispose", "count", "recover", "claim", "freight", "receive", "invoice"]),
        st.integers(0, 99), st.integers(0, 99)), max_size=30))
    return costs, fees, orders, steps


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_the_journal_balances_and_its_totals_are_the_sum_of_the_postings(case):
    costs, fees, orders, steps = case
    entries, expected = [], defaultdict(lambda: D(0))
    returnable: list[tuple[SaleOrder, str, int]] = []  # (order, sku, units) shipped and not yet returned
    grni: dict[tuple[str, str, str], GrniBalance] = {}  # per (PO, SKU, currency)
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
                                               AT, D(b) / 10, "EUR"), costs, fees.get(order.channel)))
            expected[("cost shipped", "EUR")] += to_minor_unit(costs[line.sku].amount * units, "EUR")
            if order.payment_method != "exchange":
                goods = to_minor_unit(line.unit_price * units, order.currency)
                expected[("revenue", order.currency)] += goods
                if order.channel in fees:
                    expected[("commission", order.currency)] += fees[order.channel].commission(goods, order.currency)
            returnable.append((order, line.sku, units))
        elif action == "refund" and returnable:
            order, sku, units = returnable[a % len(returnable)]
            line_id = next(line.line_id for line in order.lines.values() if line.sku == sku)
            goods = to_minor_unit(order.lines[line_id].unit_price * units, order.currency)
            fee = to_minor_unit(goods * (b % 30) / 100, order.currency)
            tax = to_minor_unit(goods * (a % 20) / 100, order.currency)
            method = "store_credit" if b % 3 == 0 else "original_payment"
            breakdown = [RefundComponent(line_id, "goods", goods), RefundComponent(line_id, "restocking_fee_B", -fee),
                         RefundComponent(line_id, "tax", tax)]
            approved = post_refund_approved(event_id, order.order_id, "R", order.channel, "size_fit",
                                            order.currency, {line_id: sku}, breakdown, goods - fee + tax, AT,
                                            method=method, fees=fees.get(order.channel))
            entries.append(approved)
            expected[("tax refunded", order.currency)] += tax
            if order.channel in fees:
                expected[("commission reversed", order.currency)] += fees[order.channel].reversed_commission(
                    goods, order.currency)
            if method == "store_credit":
                expected[("store credit", order.currency)] += goods - fee + tax
            else:
                expected[("approved", order.currency)] += goods - fee + tax
                if b % 2:
                    entries.append(post_refund_issued(event_id, order.order_id, "R", order.channel, "size_fit",
                                                      order.currency, goods - fee + tax, "re", AT))
                    expected[("paid", order.currency)] += goods - fee + tax
        elif action == "dispose" and returnable:
            order, sku, units = returnable.pop(a % len(returnable))
            kind = ["restock", "scrap", "liquidate", "quarantine"][b % 4]
            entries.append(post_disposition(DispositionApplied(event_id, "R", sku, units, kind, AT), order, None,
                                            costs))
            returned_cost = to_minor_unit(order.unit_costs[sku].amount * units, "EUR")
            expected[("cost returned", "EUR")] += returned_cost
            if kind != "scrap":
                expected[("inventory", "EUR")] += returned_cost
        elif action == "count":
            sku = SKUS[a % len(SKUS)]
            units = b % 7 - 3 or 1
            entries.append(post_stock_adjustment(StockAdjustment(event_id, sku, "WH1", units, AT), costs))
            expected[("inventory", "EUR")] += to_minor_unit(costs[sku].amount * units, "EUR")
        elif action == "recover":
            sku, units = SKUS[a % len(SKUS)], 1 + b % 4
            proceeds_currency = ["EUR", "USD", None][a % 3]
            proceeds = to_minor_unit(D(b) / 3, proceeds_currency or "EUR") if b % 2 else None
            to_status = None if b % 5 else "sellable"
            entry = post_recovery_write_off(RecoveryMove(event_id, "liquidated", sku, units, to_status, AT,
                                                         proceeds=proceeds, proceeds_currency=proceeds_currency),
                                            costs)
            if to_status is not None:
                assert entry is None  # units that stay post nothing
                continue
            entries.append(entry)
            expected[("inventory", "EUR")] -= to_minor_unit(costs[sku].amount * units, "EUR")
            expected[("recovered", proceeds_currency or "EUR")] += proceeds or D(0)
        elif action == "claim":  # a claim's steps, each snapshot delivered again as the next one arrives
            for status in ("submitted", "accepted", "partially_accepted", "credited")[:1 + b % 4]:
                entries += post_vendor_claim(VendorClaim(f"VC-{a}", "V-1", status, "EUR", claim_accepted(a),
                                                         D(b) if status == "credited" else None, None, AT))
        elif action == "freight" and returnable:
            order, sku, _ = returnable[a % len(returnable)]
            entries.append(post_return_freight(event_id, "R", order.order_id, order.channel, None, sku, D(b) / 7,
                                               "EUR", AT))
            expected[("return freight", "EUR")] += to_minor_unit(D(b) / 7, "EUR")
        elif action == "receive":  # at the receipt's own cost, or finance's
            sku, own_cost = SKUS[a % len(SKUS)], D(b) / 8 if a % 2 else None
            receipt = goods_receipt(event_id, f"PO-{b % 3}", "ASN-1", "WH1", sku, 1 + b % 9, own_cost,
                                    None if own_cost is None else "EUR", "op-1", AT, costs)
            entries.append(post_goods_received(receipt))
            grni.setdefault((receipt.po_id, sku, "EUR"), GrniBalance(receipt.po_id, sku, "EUR")).receive(receipt)
            expected[("inventory", "EUR")] += receipt.amount
        elif action == "invoice":
            open_lines = [balance for balance in grni.values() if balance.open_quantity]
            if not open_lines:
                continue
            balance = open_lines[a % len(open_lines)]
            billed = VendorInvoice(event_id, balance.po_id, "V-1", "EUR", (
                InvoiceLine(balance.sku, 1 + b % balance.open_quantity, D(b) / 7),))
            matched = match_invoice(billed, {(balance.sku, "EUR"): balance}, None)
            entries.append(post_vendor_invoice(billed, matched, AT))
            expected[("billed", "EUR")] += sum((line.amount for line in matched), D(0))

    # each fact once: a vendor claim's steps repeated post nothing more (the journal keeps one entry per fact)
    entries = list({(entry.kind, entry.source_id): entry for entry in reversed(entries)}.values())
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
    assert -net(STORE_CREDIT, currency) == expected[("store credit", currency)]
    assert net(COGS, "EUR") == expected[("cost shipped", "EUR")] - expected[("cost returned", "EUR")]
    assert net(MARKETPLACE_FEES, currency) == -net(FEES_PAYABLE, currency) == (
        expected[("commission", currency)] - expected[("commission reversed", currency)])
    assert net(RETURN_FREIGHT, "EUR") == expected[("return freight", "EUR")]
    for order in orders:
        if order.payment_method != "exchange" and all(
                order.shipped.get(line_id, 0) == line.quantity for line_id, line in order.lines.items()):
            # a completely shipped order has recognized exactly its shipping fee and tax
            assert order.recognized_shipping == order.shipping_fee and order.recognized_tax == order.tax
    billed = [order for order in orders if order.payment_method != "exchange"]
    assert -net(SHIPPING_REVENUE, currency) == sum((order.recognized_shipping for order in billed), D(0))
    assert -net(TAX_PAYABLE, currency) == sum((order.recognized_tax for order in billed), D(0)) - expected[
        ("tax refunded", currency)]
    assert net(INVENTORY, "EUR") == expected[("inventory", "EUR")] - expected[("cost shipped", "EUR")]
    # the vendor receivable is what was accepted and not yet settled by a credit note; never negative
    claims = {entry.source_id for entry in entries if entry.kind == "vendor_claim_accepted"}
    credited = {entry.source_id for entry in entries if entry.kind == "vendor_claim_credited"}
    assert net(VENDOR_RECEIVABLE, "EUR") == sum((claim_accepted(int(claim.removeprefix("VC-")))
                                                 for claim in claims - credited), D(0)) >= 0
    assert net(VENDOR_PAYABLES, "EUR") + net(SUPPLIER_RECOVERIES, "EUR") + net(VENDOR_RECEIVABLE, "EUR") == -expected[
        ("billed", "EUR")]
    # goods received not invoiced: exactly what is open per PO line, never negative, nothing once all invoiced
    assert -net(GOODS_RECEIVED_NOT_INVOICED, "EUR") == sum((b.open_value for b in grni.values()), D(0))
    assert all(b.open_value >= 0 and (b.open_quantity or b.open_value == 0) for b in grni.values())
    assert net(PURCHASE_PRICE_VARIANCE, "EUR") == sum((b.billed_value - b.invoiced_value for b in grni.values()), D(0))
    # owed by or collected from customers: what was billed less what was paid back (plus liquidators' dues)
    billed_total = sum((order.recognized_shipping + order.recognized_tax for order in billed), D(0))
    assert net(CLEARING, currency) + net(RECEIVABLE, currency) == (
        expected[("revenue", currency)] + billed_total - expected[("paid", currency)]
        + expected[("recovered", currency)])


def claim_accepted(number: int) -> D:
    """What vendor claim VC-<number> was accepted for: the same in each of its snapshots."""
    return D(number) + D(number) / 100


# --- exactly once under redelivery (the service layer on the in-memory fakes) -------------------------------------

def store_credit_approval(refund_id: str, amount: str) -> RefundApproved:
    return RefundApproved(
        refund_id=refund_id, rma_id="r-1", order_id="o-1", channel="web-eu", customer_id="c-42", amount=D(amount),
        currency="EUR", reason="changed_mind", timing="instant", method="store_credit",
        lines=[RefundedLine(line_id="1", sku="SKU-RED-M", quantity=1)],
        breakdown=[ApprovedComponent(line_id="1", kind="goods", amount=D(amount))], approved_by="policy",
        approved_at=AT)


def paid_with_credit(order_id: str, amount: str) -> OrderPlaced:
    placed = OrderPlaced.model_validate(order_placed(order_id).payload)
    return placed.model_copy(update={"payment": placed.payment.model_copy(update={
        "method": "store_credit", "amount": D(amount)})})


def delivered(kind: str, number: int):
    if kind == "refund":
        return store_credit_approval(f"rf-{number}", f"{number + 1}.00")
    if kind == "order":
        return paid_with_credit(f"o-c{number}", f"{number + 2}.50")
    return cancelled(f"o-c{number}")


def cancelled(order_id: str) -> OrderStatusChanged:
    return OrderStatusChanged(order_id=order_id, channel="web-eu", external_order_id=order_id,
                              from_status="on_hold", to_status="cancelled", actor="supervisor:li")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["refund", "order", "cancel"]), st.integers(0, 3),
                          st.integers(1, 3)), max_size=25))
def test_store_credit_and_refunds_happen_once_whatever_is_delivered_again(deliveries):
    """Approvals, orders paid with credit and cancellations, each delivered up to three times in any order:
    one credit per refund, one decision per order, one restoration per redeemed order, the balance always the
    movements' sum and never negative, and the ledger's store credit liability equal to the balance."""
    async def run() -> FakeFinanceUnitOfWork:
        uow = FakeFinanceUnitOfWork()
        await record_facts(uow, received(OrderPlaced.model_validate(order_placed("o-1", [("1", "SKU-RED-M", 9)])
                                                                    .payload),
                                         ReturnAuthorized(rma_id="r-1", order_id="o-1", channel="web-eu",
                                                          node="BER1", authorized_at=AT, reason="changed_mind",
                                                          lines=[ReturnLine(line_id="1", sku="SKU-RED-M",
                                                                            quantity=9)])))
        for kind, number, times in deliveries:
            message = delivered(kind, number)
            for _ in range(times):  # each delivery a new event id: the inbox cannot tell them apart
                await record_facts(uow, received(message))
        return uow

    uow = asyncio.run(run())
    movements = list(uow.finance.movements.values())
    issued = [m for m in movements if m.kind == "issued"]
    assert sorted(m.refund_id for m in issued) == sorted({f"rf-{n}" for kind, n, _ in deliveries if kind == "refund"})
    refunds = [r for r in uow.finance.refunds.values()]
    assert all(r.status is RefundStatus.issued and r.provider_reference == f"store-credit:issued:{r.refund_id}"
               for r in refunds)
    assert sorted(e.payload["refund_id"] for e in uow.events("RefundIssued")) == sorted(r.refund_id for r in refunds)
    assert sorted(e.source_id for e in uow.finance.entries("refund_approved")) == sorted(r.refund_id for r in refunds)
    assert len(uow.events("StoreCreditChanged")) == len(movements)
    decisions = [m.order_id for m in movements if m.kind in ("redeemed", "declined")]
    assert len(decisions) == len(set(decisions))
    redeemed = {m.order_id for m in movements if m.kind == "redeemed"}
    restored = [m.order_id for m in movements if m.kind == "restored"]
    assert len(restored) == len(set(restored)) and set(restored) <= redeemed
    signed = {"issued": 1, "redeemed": -1, "declined": 0, "restored": 1}
    balance = sum((signed[m.kind] * m.amount for m in movements), D(0))
    assert uow.finance.credit.get(("c-42", "EUR"), D(0)) == balance >= 0
    assert all(m.balance >= 0 for m in movements)
    ledger = balances(uow.finance.entries())
    assert -ledger.get((STORE_CREDIT, "EUR"), D(0)) == balance
