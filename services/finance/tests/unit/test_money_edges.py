"""The money edges of returns, to the cent: recovery write-offs with liquidation proceeds, graded variants' costs,
vendor claims, tax and marketplace fees on refunds, return freight and store credit; the rules in the domain,
then the handlers on the in-memory fakes."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.contracts.returns import (
    RefundApproved,
    RefundedLine,
    ReturnAuthorized,
    ReturnLine,
    VendorClaimChanged,
)
from ecomops_common.contracts.returns import RefundComponent as ApprovedComponent
from ecomops_common.contracts.warehouse import RecoveryStockMoved, ReturnReceived, ShipmentDispatched, ShippedLine
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed
from finance_service.adapters.fakes import FakeFinanceUnitOfWork
from finance_service.domain.accounts import (
    CARRIER_PAYABLES,
    COGS,
    FEES_PAYABLE,
    INVENTORY,
    INVENTORY_DISPOSITIONS,
    MARKETPLACE_FEES,
    RECEIVABLE,
    RECEIVABLE_BY_PAYMENT_METHOD,
    REFUNDS_PAYABLE,
    RETURN_FREIGHT,
    REVENUE,
    SALES_RETURNS,
    SHIPPING_REVENUE,
    STORE_CREDIT,
    SUPPLIER_RECOVERIES,
    TAX_PAYABLE,
    VENDOR_PAYABLES,
    VENDOR_RECEIVABLE,
    WRITE_OFF,
    WRITE_OFF_DISPOSITIONS,
)
from finance_service.domain.journal import balances
from finance_service.domain.payouts import Refund, RefundStatus
from finance_service.domain.postings import (
    ChannelFees,
    MissingData,
    OrderLine,
    PostingError,
    RecoveryMove,
    RefundComponent,
    SaleOrder,
    Shipment,
    ShippedUnits,
    UnitCost,
    VendorClaim,
    post_recovery_write_off,
    post_refund_approved,
    post_return_freight,
    post_store_credit_payment,
    post_vendor_claim,
    variant_cost,
)
from finance_service.domain.store_credit import INSUFFICIENT, MovementKind, StoreCreditBalance
from finance_service.service_layer.journal import set_unit_cost
from finance_service.service_layer.posting import post_parked, record_facts

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
COSTS = {"SKU-A": UnitCost(D("12.40"), "EUR")}
FEES = ChannelFees(D("0.15"), D("0.5"))


def net(entries, account: str, currency: str = "EUR") -> D:
    entries = entries if isinstance(entries, list) else [entries]
    return balances(entries).get((account, currency), D(0))


def move(to_status: str | None = None, *, proceeds: str | None = None, currency: str | None = None, quantity=2,
         to_sku: str | None = None, action: str = "liquidated") -> RecoveryMove:
    return RecoveryMove("act-1", action, "SKU-A", quantity, to_status, AT, to_sku,
                        D(proceeds) if proceeds else None, currency, "LOT-7")


# --- recovery -------------------------------------------------------------------------------------------------------

def test_liquidation_keeps_units_in_inventory_and_only_scrap_writes_off_at_disposition():
    assert "liquidate" in INVENTORY_DISPOSITIONS and WRITE_OFF_DISPOSITIONS == {"scrap"}


def test_liquidated_units_are_written_off_at_cost_less_what_the_liquidator_owes():
    entry = post_recovery_write_off(move(proceeds="10.00"), COSTS)
    assert (net(entry, INVENTORY), net(entry, WRITE_OFF), net(entry, RECEIVABLE)) == (
        D("-24.80"), D("14.80"), D("10.00"))
    [owed] = [line for line in entry.lines if line.account == RECEIVABLE]
    assert owed.memo == "liquidation" and owed.dims.sku == "SKU-A"
    assert entry.kind == "recovery" and entry.source_id == "act-1" and "LOT-7" in entry.description


def test_proceeds_above_cost_are_a_gain_credited_to_write_off():
    entry = post_recovery_write_off(move(proceeds="30.00"), COSTS)
    assert net(entry, WRITE_OFF) == D("-5.20") and net(entry, RECEIVABLE) == D("30.00")


def test_proceeds_in_another_currency_balance_per_currency():
    entry = post_recovery_write_off(move(proceeds="11.00", currency="USD"), COSTS)
    assert (net(entry, WRITE_OFF), net(entry, INVENTORY)) == (D("24.80"), D("-24.80"))
    assert (net(entry, WRITE_OFF, "USD"), net(entry, RECEIVABLE, "USD")) == (D("-11.00"), D("11.00"))


def test_scrapped_failed_and_vendor_shipped_units_are_written_off_whole():
    for action in ("scrapped", "refurbish_failed", "rtv_shipped"):
        entry = post_recovery_write_off(move(action=action), COSTS)
        assert (net(entry, WRITE_OFF), net(entry, INVENTORY), net(entry, RECEIVABLE)) == (
            D("24.80"), D("-24.80"), D(0))


def test_units_that_stay_post_nothing_and_a_missing_cost_waits():
    assert post_recovery_write_off(move("sellable"), COSTS) is None
    with pytest.raises(MissingData) as missing:
        post_recovery_write_off(move(), {})
    assert missing.value.keys == ["cost:SKU-A"]
    with pytest.raises(PostingError):
        post_recovery_write_off(move(proceeds="-1.00"), COSTS)


def test_a_variant_without_a_cost_takes_the_base_skus():
    assert variant_cost(move("sellable", to_sku="SKU-A-B"), COSTS) == COSTS["SKU-A"]
    assert variant_cost(move("sellable", to_sku="SKU-A-B"), {**COSTS, "SKU-A-B": UnitCost(D(1), "EUR")}) is None
    assert variant_cost(move("sellable"), COSTS) is None
    with pytest.raises(MissingData):
        variant_cost(move("sellable", to_sku="SKU-X-B"), {})


# --- vendor claims --------------------------------------------------------------------------------------------------

def claim(status: str, accepted: str | None = "80.00", credited: str | None = None,
          currency: str | None = "EUR") -> VendorClaim:
    return VendorClaim("VC-1", "V-9", status, currency, D(accepted) if accepted else None,
                       D(credited) if credited else None, "CN-5" if credited else None, AT)


def test_an_accepted_claim_is_a_vendor_receivable_and_a_supplier_recovery():
    for status in ("accepted", "partially_accepted"):
        [entry] = post_vendor_claim(claim(status))
        assert (entry.kind, entry.source_id) == ("vendor_claim_accepted", "VC-1")
        assert (net(entry, VENDOR_RECEIVABLE), net(entry, SUPPLIER_RECOVERIES)) == (D("80.00"), D("-80.00"))
        assert all(line.memo == "vendor V-9 claim VC-1" for line in entry.lines)
    for status in ("draft", "submitted", "rejected"):
        assert post_vendor_claim(claim(status)) == []


def test_a_credit_note_settles_the_receivable_against_vendor_payables_and_reverses_the_rest():
    accepted, credited = post_vendor_claim(claim("credited", credited="70.00"))
    assert accepted.kind == "vendor_claim_accepted"  # if it was posted already, the journal keeps the first
    assert (credited.kind, credited.source_id) == ("vendor_claim_credited", "VC-1")
    assert (net(credited, VENDOR_PAYABLES), net(credited, VENDOR_RECEIVABLE), net(credited, SUPPLIER_RECOVERIES)) == (
        D("70.00"), D("-80.00"), D("10.00"))
    both = [accepted, credited]
    assert (net(both, VENDOR_RECEIVABLE), net(both, SUPPLIER_RECOVERIES)) == (D(0), D("-70.00"))
    _, whole = post_vendor_claim(claim("credited", accepted=None, credited="70.00"))
    assert net(whole, SUPPLIER_RECOVERIES) == 0 and net(whole, VENDOR_RECEIVABLE) == D("-70.00")
    # once the acceptance is posted, the credit settles what it posted, whatever the snapshot says now
    [settles] = post_vendor_claim(claim("credited", accepted=None, credited="70.00"), receivable=D("80.00"))
    assert (net(settles, VENDOR_RECEIVABLE), net(settles, SUPPLIER_RECOVERIES)) == (D("-80.00"), D("10.00"))


def test_a_claim_with_amounts_but_no_currency_is_for_a_person():
    with pytest.raises(PostingError):
        post_vendor_claim(claim("accepted", currency=None))
    assert post_vendor_claim(claim("accepted", accepted="0", currency=None)) == []


# --- refunds: tax, fees, store credit ------------------------------------------------------------------------------

BREAKDOWN = [RefundComponent("1", "goods", D("40.00")), RefundComponent("1", "tax", D("7.60")),
             RefundComponent("1", "shipping", D("2.00")), RefundComponent("1", "restocking_fee_B", D("-4.00"))]


def refund(**options):
    return post_refund_approved("RF-1", "O-1", "R-1", "amazon", "size_fit", "EUR", {"1": "SKU-A"}, BREAKDOWN,
                                D("45.60"), AT, **options)


def test_the_tax_share_of_a_refund_reduces_sales_tax_payable_not_sales_returns():
    entry = refund()
    assert (net(entry, SALES_RETURNS), net(entry, TAX_PAYABLE), net(entry, SHIPPING_REVENUE)) == (
        D("40.00"), D("7.60"), D("2.00"))
    assert net(entry, REFUNDS_PAYABLE) == D("-45.60")
    without_tax = post_refund_approved("RF-2", "O-1", "R-1", "web", "size_fit", "EUR", {}, [
        RefundComponent("1", "goods", D("10.00"))], D("10.00"), AT)
    assert {line.account for line in without_tax.lines} == {SALES_RETURNS, REFUNDS_PAYABLE}


def test_a_refund_gives_back_the_commission_on_the_goods_as_the_channel_rule_says():
    entry = refund(fees=FEES)
    # 0.5 × 0.15 × 40.00 = 3.00: the channel owes it back
    assert (net(entry, FEES_PAYABLE), net(entry, MARKETPLACE_FEES)) == (D("3.00"), D("-3.00"))
    assert {line.account for line in refund().lines}.isdisjoint({FEES_PAYABLE, MARKETPLACE_FEES})


def test_a_refund_paid_as_store_credit_is_owed_on_store_credit():
    entry = refund(method="store_credit")
    assert (net(entry, STORE_CREDIT), net(entry, REFUNDS_PAYABLE)) == (D("-45.60"), D(0))
    assert net(refund(method="bank_transfer"), REFUNDS_PAYABLE) == D("-45.60")  # paid by the provider


def test_back_to_the_original_payment_of_an_order_paid_with_store_credit_is_store_credit():
    def paid_back(method: str, order_paid_with: str) -> str:
        refund = Refund("RF-1", "R-1", "O-1", "web", "C-1", D("10.00"), "EUR", "defective", "instant", AT,
                        method=method)
        refund.pay_back_like(order_paid_with)
        return refund.method

    assert paid_back("original_payment", "store_credit") == "store_credit"
    assert paid_back("original_payment", "card") == "original_payment"
    assert paid_back("bank_transfer", "store_credit") == "bank_transfer"


def test_a_shipment_posts_the_channels_commission_on_the_goods_revenue():
    sale = SaleOrder("O-1", "amazon", "C-1", "JPY", "card", {"1": OrderLine("1", "SKU-A", 3, D("333"))},
                     shipping_fee=D(0), tax=D(0))
    entry = sale.ship(Shipment("e1", "O-1", (ShippedUnits("1", "SKU-A", 3),), AT),
                      {"SKU-A": UnitCost(D("100"), "JPY")}, ChannelFees(D("0.155"), D(1)))
    # 0.155 × 999 = 154.845 → 155 yen (rounded half up to the currency's minor unit)
    assert (net(entry, MARKETPLACE_FEES, "JPY"), net(entry, FEES_PAYABLE, "JPY")) == (D("155"), D("-155"))
    assert net(entry, REVENUE, "JPY") == D("-999")


# --- return freight and store credit ------------------------------------------------------------------------------

def test_a_return_label_paid_by_the_retailer_is_return_freight_owed_to_the_carrier():
    entry = post_return_freight("ev-1", "R-1", "O-1", "web", "defective", "SKU-A", D("5.955"), "EUR", AT)
    assert (net(entry, RETURN_FREIGHT), net(entry, CARRIER_PAYABLES)) == (D("5.96"), D("-5.96"))
    assert all((line.dims.rma_id, line.dims.order_id) == ("R-1", "O-1") for line in entry.lines)
    with pytest.raises(PostingError):
        post_return_freight("ev-1", "R-1", "O-1", "web", None, "SKU-A", D("-1"), "EUR", AT)


def test_store_credit_is_issued_redeemed_only_when_it_covers_the_order_and_restored():
    credit = StoreCreditBalance("C-1", "EUR", D(0))
    issued = credit.issue(D("30.00"), "RF-1", "R-1", "O-1", AT)
    assert (issued.movement_id, issued.kind, issued.balance) == ("issued:RF-1", MovementKind.issued, D("30.00"))
    declined = credit.redeem(D("30.01"), "O-2", AT)
    assert (declined.kind, declined.reason, declined.balance) == (MovementKind.declined, INSUFFICIENT, D("30.00"))
    redeemed = credit.redeem(D("30.00"), "O-3", AT)
    assert (redeemed.movement_id, redeemed.kind, credit.balance) == ("redemption:O-3", MovementKind.redeemed, D(0))
    restored = credit.restore(redeemed, AT)
    assert (restored.movement_id, restored.kind, credit.balance) == ("restored:O-3", MovementKind.restored,
                                                                     D("30.00"))
    assert RECEIVABLE_BY_PAYMENT_METHOD["store_credit"] == RECEIVABLE


def test_a_redemption_pays_the_receivable_from_store_credit_and_a_restoration_undoes_it():
    redeemed = post_store_credit_payment("redeemed", "O-3", "web", D("30.00"), "EUR", AT)
    assert (net(redeemed, STORE_CREDIT), net(redeemed, RECEIVABLE)) == (D("30.00"), D("-30.00"))
    restored = post_store_credit_payment("restored", "O-3", "web", D("30.00"), "EUR", AT)
    assert all(amount == 0 for amount in balances([redeemed, restored]).values())


# --- the handlers -------------------------------------------------------------------------------------------------

def placed(order_id: str = "o-1", *, method: str = "card", amount: str = "24.99", channel="web-eu") -> OrderPlaced:
    order = OrderPlaced.model_validate(order_placed(order_id, [("1", "SKU-RED-M", 2)], channel=channel).payload)
    return order.model_copy(update={"payment": order.payment.model_copy(update={"method": method,
                                                                                 "amount": D(amount)})})


def approval(refund_id: str = "rf-1", method: str = "original_payment", tax: str = "0") -> RefundApproved:
    breakdown = [ApprovedComponent(line_id="1", kind="goods", amount=D("10.00"))]
    if D(tax):
        breakdown.append(ApprovedComponent(line_id="1", kind="tax", amount=D(tax)))
    return RefundApproved(
        refund_id=refund_id, rma_id="r-1", order_id="o-1", channel="web-eu", customer_id="c-42",
        amount=D("10.00") + D(tax), tax=D(tax), currency="EUR", reason="changed_mind", timing="instant",
        method=method, lines=[RefundedLine(line_id="1", sku="SKU-RED-M", quantity=1)], breakdown=breakdown,
        approved_by="policy", approved_at=AT)


async def known_return() -> FakeFinanceUnitOfWork:
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(placed(), ReturnAuthorized(
        rma_id="r-1", order_id="o-1", channel="web-eu", node="BER1", authorized_at=AT, reason="changed_mind",
        lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=2)])))
    return uow


async def test_a_store_credit_refund_is_issued_at_once_and_only_once():
    uow = await known_return()
    await record_facts(uow, received(approval(method="store_credit"), approval(method="store_credit")))
    await record_facts(uow, received(approval(method="store_credit")))
    refund = uow.finance.refunds["rf-1"]
    assert (refund.status, refund.provider_reference) == (RefundStatus.issued, "store-credit:issued:rf-1")
    [issued] = uow.events("RefundIssued")
    assert issued.payload["provider_reference"] == "store-credit:issued:rf-1"
    [changed] = uow.events("StoreCreditChanged")
    payload = changed.payload
    assert (changed.aggregate_id, payload["kind"], payload["balance"], payload["refund_id"]) == (
        "c-42", "issued", "10.00", "rf-1")
    assert uow.finance.credit == {("c-42", "EUR"): D("10.00")}
    [entry] = uow.finance.entries("refund_approved")
    assert net(entry, STORE_CREDIT) == D("-10.00") and not uow.finance.entries("refund_issued")


async def test_another_method_is_paid_through_the_provider_with_its_method():
    uow = await known_return()
    await record_facts(uow, received(approval(method="bank_transfer", tax="1.90")))
    refund = uow.finance.refunds["rf-1"]
    assert refund.status is RefundStatus.pending and refund.instruction().method == "bank_transfer"
    [entry] = uow.finance.entries("refund_approved")
    assert (net(entry, TAX_PAYABLE), net(entry, SALES_RETURNS), net(entry, REFUNDS_PAYABLE)) == (
        D("1.90"), D("10.00"), D("-11.90"))


async def test_an_order_paid_with_store_credit_redeems_it_or_is_declined_and_a_cancellation_restores_it():
    uow = await known_return()
    await record_facts(uow, received(approval(method="store_credit")))
    await record_facts(uow, received(placed("o-2", method="store_credit", amount="10.01")))
    await record_facts(uow, received(placed("o-3", method="store_credit", amount="10.00")))
    await record_facts(uow, received(placed("o-3", method="store_credit", amount="10.00")))  # again: nothing
    kinds = [(e.payload["kind"], e.payload["order_id"], e.payload["balance"], e.payload["reason"])
             for e in uow.events("StoreCreditChanged")]
    assert kinds == [("issued", "o-1", "10.00", None), ("declined", "o-2", "10.00", INSUFFICIENT),
                     ("redeemed", "o-3", "0.00", None)]
    [redeemed] = uow.finance.entries("store_credit_redeemed")
    assert (net(redeemed, STORE_CREDIT), net(redeemed, RECEIVABLE)) == (D("10.00"), D("-10.00"))

    cancelled = [OrderStatusChanged(order_id=order_id, channel="web-eu", external_order_id=order_id,
                                    from_status="on_hold", to_status="cancelled", actor="supervisor:li")
                 for order_id in ("o-2", "o-3", "o-3")]
    await record_facts(uow, received(*cancelled))
    await record_facts(uow, received(cancelled[1]))
    assert [e.payload["kind"] for e in uow.events("StoreCreditChanged")][3:] == ["restored"]
    assert uow.finance.credit[("c-42", "EUR")] == D("10.00")
    assert len(uow.finance.entries("store_credit_restored")) == 1


async def test_channel_fees_are_posted_on_shipments_and_given_back_on_refunds():
    uow = await known_return()
    uow.finance.fees["web-eu"] = FEES
    uow.finance.costs["SKU-RED-M"] = UnitCost(D("4.10"), "EUR")
    await record_facts(uow, received(ShipmentDispatched(
        order_id="o-1", node="BER1", tracking_number="T1", shipped_at=AT,
        lines=[ShippedLine(line_id="1", sku="SKU-RED-M", quantity=2)]), approval()))
    [sale] = uow.finance.entries("shipment")
    assert (net(sale, MARKETPLACE_FEES), net(sale, FEES_PAYABLE)) == (D("3.00"), D("-3.00"))  # 15 % of 20.00
    [refunded] = uow.finance.entries("refund_approved")
    assert (net(refunded, MARKETPLACE_FEES), net(refunded, FEES_PAYABLE)) == (D("-0.75"), D("0.75"))


async def test_a_return_label_is_posted_with_the_receipt():
    uow = await known_return()
    await record_facts(uow, received(ReturnReceived(rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1,
                                                    condition="damaged", received_at=AT, shipping_cost=D("4.50"),
                                                    currency="EUR")))
    [freight] = uow.finance.entries("return_freight")
    assert (net(freight, RETURN_FREIGHT), net(freight, CARRIER_PAYABLES)) == (D("4.50"), D("-4.50"))
    assert uow.finance.receipts == [("r-1", "SKU-RED-M", 1)]
    await record_facts(uow, received(ReturnReceived(rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1,
                                                    condition="damaged", received_at=AT, shipping_cost=D("4.50"),
                                                    currency="ZZZ")))
    [parked] = uow.finance.parked.values()
    assert parked["waiting_for"].startswith("review:") and len(uow.finance.receipts) == 1  # nothing half done


def recovery(action_id: str = "act-1", **changes) -> RecoveryStockMoved:
    fields = {"action_id": action_id, "action": "liquidated", "node": "BER1", "sku": "SKU-RED-M", "quantity": 2,
              "from_status": "liquidation", "to_status": None, "proceeds": D("3.00"), "currency": "EUR",
              "reference": "LOT-1", "requested_by": "op-1", "decided_by": "sup:li", "at": AT}
    return RecoveryStockMoved(**{**fields, **changes})


async def test_a_recovery_move_waits_for_its_cost_and_is_written_off_once():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(recovery()))
    assert [p["waiting_for"] for p in uow.finance.parked.values()] == ["cost:SKU-RED-M"]
    await set_unit_cost(uow, "SKU-RED-M", UnitCost(D("4.10"), "EUR"), "fin:maria")
    assert await post_parked(uow) == 1
    await record_facts(uow, received(recovery()))  # the same action again
    [entry] = uow.finance.entries("recovery")
    assert (net(entry, WRITE_OFF), net(entry, RECEIVABLE), net(entry, INVENTORY)) == (
        D("5.20"), D("3.00"), D("-8.20"))


async def test_a_regrade_gives_the_variant_the_base_cost_and_announces_it():
    uow = FakeFinanceUnitOfWork()
    uow.finance.costs["SKU-RED-M"] = UnitCost(D("4.10"), "EUR")
    regraded = recovery(action="refurbished", from_status="refurbish", to_status="sellable", to_sku="SKU-RED-M-B",
                        proceeds=None, currency=None)
    await record_facts(uow, received(regraded, regraded.model_copy(update={"action_id": "act-2"})))
    assert uow.finance.costs["SKU-RED-M-B"] == UnitCost(D("4.10"), "EUR") and not uow.finance.journal
    [changed] = uow.events("UnitCostChanged")
    assert (changed.aggregate_id, changed.payload["amount"]) == ("SKU-RED-M-B", "4.10")


def claim_changed(status: str, **changes) -> VendorClaimChanged:
    fields = {"claim_id": "VC-1", "vendor_id": "V-9", "status": status, "currency": "EUR",
              "claimed_amount": D("100.00"), "accepted_amount": D("80.00"), "lines": [], "actor": "sup:li", "at": AT}
    return VendorClaimChanged(**{**fields, **changes})


async def test_each_claim_status_posts_once_whatever_is_delivered_again():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(claim_changed("draft", accepted_amount=None),
                                     claim_changed("submitted", accepted_amount=None), claim_changed("accepted"),
                                     claim_changed("accepted")))
    await record_facts(uow, received(claim_changed("accepted")))
    assert [e.kind for e in uow.finance.entries()] == ["vendor_claim_accepted"]
    credited = claim_changed("credited", accepted_amount=None, credited_amount=D("70.00"), credit_reference="CN-5")
    await record_facts(uow, received(credited, credited))
    assert [e.kind for e in uow.finance.entries()] == ["vendor_claim_accepted", "vendor_claim_credited"]
    ledger = balances(uow.finance.entries())
    assert (ledger[(VENDOR_RECEIVABLE, "EUR")], ledger[(VENDOR_PAYABLES, "EUR")],
            ledger[(SUPPLIER_RECOVERIES, "EUR")]) == (D(0), D("70.00"), D("-70.00"))
    assert COGS not in {account for account, _ in ledger}
