"""The service layer on in-memory fakes: what each handler and staff command stores, posts, publishes and
refuses, and that it commits; no Kafka, no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from ecomops_common.contracts import CATALOG_SKUS, FINANCE_EVENTS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.orders import OrderPlaced, OrderStatus, OrderStatusChanged
from ecomops_common.contracts.returns import RefundApproved, RefundComponent, RefundedLine, ReturnAuthorized, ReturnLine
from ecomops_common.contracts.warehouse import ReturnReceived, ShipmentDispatched, ShippedLine, StockAdjusted
from ecomops_common.errors import Forbidden
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed
from finance_service.adapters.fakes import FakeFinanceUnitOfWork
from finance_service.domain.accounts import CLEARING, REVENUE
from finance_service.domain.approvals import RequestDecided, RequestStatus
from finance_service.domain.journal import Dimensions, IrreversibleEntry, JournalLine, build_entry
from finance_service.domain.payouts import ProviderOutcome, ProviderResult, RefundInstruction, RefundStatus
from finance_service.domain.postings import UnitCost
from finance_service.service_layer.approvals import (
    AlreadyRequested,
    RequestNotFound,
    approve,
    deny,
    request_manual_settlement,
    request_retry,
    request_reversal,
)
from finance_service.service_layer.handlers import handlers
from finance_service.service_layer.journal import AlreadyReversed, EntryNotFound, entry_posted, set_unit_cost
from finance_service.service_layer.payouts import RefundNotFailed, RefundNotFound, pay_out_due_refunds
from finance_service.service_layer.posting import check_held_refunds, post_parked, record_facts
from finance_service.settings import FinanceSettings

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
COST = UnitCost(D("4.10"), "EUR")


def placed(order_id: str = "o-1") -> OrderPlaced:
    return OrderPlaced.model_validate(order_placed(order_id, [("1", "SKU-RED-M", 2)]).payload)


def shipped(order_id: str = "o-1") -> ShipmentDispatched:
    return ShipmentDispatched(order_id=order_id, node="BER1", tracking_number="T1", shipped_at=NOW,
                              lines=[ShippedLine(line_id="1", sku="SKU-RED-M", quantity=2)])


def approval(refund_id: str = "rf-1", rma_id: str = "r-1", amount: str = "10.00") -> RefundApproved:
    return RefundApproved(
        refund_id=refund_id, rma_id=rma_id, order_id="o-1", channel="web-eu", customer_id="c-42", amount=D(amount),
        currency="EUR", reason="changed_mind", timing="instant",
        lines=[RefundedLine(line_id="1", sku="SKU-RED-M", quantity=1)],
        breakdown=[RefundComponent(line_id="1", kind="goods", amount=D(amount))], approved_by="policy",
        approved_at=NOW)


def authorized(rma_id: str = "r-1") -> ReturnAuthorized:
    return ReturnAuthorized(rma_id=rma_id, order_id="o-1", channel="web-eu", node="BER1", authorized_at=NOW,
                            reason="changed_mind", lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=2)])


async def known_return() -> FakeFinanceUnitOfWork:
    """Finance knows order o-1 (2 × 10.00 + 4.99 shipping paid) and its return r-1."""
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(placed(), authorized()))
    return uow


def test_each_topic_has_its_consumer_group_and_message_types():
    registry = {s.topic: (s.consumer, {m.__name__ for m in s.messages}, s.once) for s in handlers(FinanceSettings())}
    assert registry == {
        ORDER_EVENTS: ("finance-service.order-events", {"OrderPlaced", "OrderStatusChanged"}, True),
        WAREHOUSE_EVENTS: ("finance-service.warehouse-events", {
            "ShipmentDispatched", "ReturnReceived", "ReturnInspected", "ReturnDispositionApplied", "StockAdjusted",
            "RecoveryStockMoved", "GoodsReceived"}, True),
        RETURNS_EVENTS: ("finance-service.returns-events", {"ReturnAuthorized", "RefundApproved",
                                                            "VendorClaimChanged"}, True),
        CATALOG_SKUS: ("finance-service.catalog-skus", {"SkuChanged"}, False),  # idempotent by revision
    }
    for subscription in handlers(FinanceSettings()):
        subscription.decoder()  # every message type is a contract on its topic


def test_of_an_orders_status_changes_only_a_cancellation_reaches_the_books():
    [orders] = [s for s in handlers(FinanceSettings()) if s.topic == ORDER_EVENTS]

    def change(to_status: OrderStatus) -> OrderStatusChanged:
        return OrderStatusChanged(order_id="o-1", channel="web-eu", external_order_id="1", actor="test",
                                  from_status=OrderStatus.awaiting_allocation, to_status=to_status)

    assert orders.wants(placed()) and orders.wants(change(OrderStatus.cancelled))
    assert not any(orders.wants(change(status)) for status in OrderStatus if status is not OrderStatus.cancelled)


async def test_a_known_order_shipped_at_a_known_cost_posts_the_shipment_and_commits():
    uow = FakeFinanceUnitOfWork()
    uow.finance.costs["SKU-RED-M"] = COST
    await record_facts(uow, received(placed(), shipped()))
    [entry] = uow.finance.entries("shipment")
    assert entry.dims.order_id == "o-1" and uow.finance.sale_orders["o-1"].shipped == {"1": 2}
    assert uow.commits == 1 and not uow.finance.parked
    [posted] = uow.events("JournalEntryPosted")  # for the order's timeline, in the posting's transaction
    assert (posted.aggregate_id, {topic for topic, _ in uow.published}) == ("o-1", {FINANCE_EVENTS})
    assert {name: value for name, value in posted.payload.items() if name != "posted_at"} == {
        "entry_id": "1", "order_id": "o-1", "rma_id": None, "kind": "shipment", "currency": "EUR", "amount": "33.19",
        "lines": [{"account": account, "debit": debit, "credit": credit} for account, debit, credit in (
            ("1100", "24.99", "0"), ("4000", "0", "20.00"), ("4100", "0", "4.99"),  # owed: goods, shipping fee
            ("5000", "8.20", "0"), ("1400", "0", "8.20"))]}  # the units' cost


async def test_a_fact_waits_for_what_it_lacks_and_the_job_posts_it_once_that_arrives():
    uow = FakeFinanceUnitOfWork()
    [fact] = received(shipped())
    await record_facts(uow, [fact])
    assert [p["waiting_for"] for p in uow.finance.parked.values()] == ["order:o-1"] and not uow.finance.journal
    assert await post_parked(uow) == 0  # nothing arrived yet

    await record_facts(uow, received(placed()))
    assert await post_parked(uow) == 0  # the order came, so it waits again, now for its cost
    assert [p["waiting_for"] for p in uow.finance.parked.values()] == ["cost:SKU-RED-M"]
    await set_unit_cost(uow, "SKU-RED-M", COST, "fin:maria")
    assert await post_parked(uow) == 1
    assert [entry.source_id for entry in uow.finance.entries()] == [fact.event_id] and not uow.finance.parked


async def test_a_return_is_recorded_with_its_receipt():
    uow = FakeFinanceUnitOfWork()
    rma = authorized()
    receipt = ReturnReceived(rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1, condition="damaged",
                             received_at=NOW)
    await record_facts(uow, received(rma, receipt))
    assert uow.finance.cases["r-1"]["authorized_units"] == 2
    assert uow.finance.receipts == [("r-1", "SKU-RED-M", 1)] and uow.commits == 1


async def test_an_approval_sent_twice_is_one_refund_and_one_liability_entry():
    uow = await known_return()
    await record_facts(uow, received(approval(), approval()))
    assert uow.finance.refunds["rf-1"].status is RefundStatus.pending
    assert uow.finance.refunds["rf-1"].duplicate_requests == 1
    assert [entry.kind for entry in uow.finance.entries()] == ["refund_approved"] and uow.commits == 2


async def test_an_approval_of_no_known_return_or_beyond_the_payment_is_refused_and_never_paid():
    uow = await known_return()
    # 24.99 was paid for o-1: 10.00 and 14.99 fit, a cent more does not, whichever refund it comes in
    await record_facts(uow, received(approval("rf-1"), approval("rf-2", amount="14.99"),
                                     approval("rf-3", amount="0.01"), approval("rf-forged", rma_id="r-404")))
    statuses = {refund_id: (r.status, r.hold_reason) for refund_id, r in uow.finance.refunds.items()}
    assert statuses == {
        "rf-1": (RefundStatus.pending, None), "rf-2": (RefundStatus.pending, None),
        "rf-3": (RefundStatus.refused, "exceeds_payment: 0.01 EUR is more than the 0.00 left of the 24.99 paid for "
                                       "order o-1"),
        "rf-forged": (RefundStatus.refused, "unknown_return: finance knows no return r-404")}
    assert failures(uow) == [
        ("r-1", "rf-3", "r-1", "o-1", "0.01", "EUR", "refused",
         "exceeds_payment: 0.01 EUR is more than the 0.00 left of the 24.99 paid for order o-1"),
        ("r-404", "rf-forged", "r-404", "o-1", "10.00", "EUR", "refused",
         "unknown_return: finance knows no return r-404")]
    assert [entry.source_id for entry in uow.finance.entries("refund_approved")] == ["rf-1", "rf-2"]
    provider = await pay_out(uow, ProviderOutcome.paid)
    assert provider.keys == ["refund:r-1:rf-1", "refund:r-1:rf-2"]
    with pytest.raises(RefundNotFailed, match="refund rf-forged is refused"):
        await request_manual_settlement(uow, "rf-forged", "SEPA-1", "fin:maria")


async def test_an_approval_for_an_order_not_known_yet_is_held_until_it_arrives():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(authorized(), approval()))
    held = uow.finance.refunds["rf-1"]
    assert (held.status, held.hold_reason) == (RefundStatus.held, "order_unknown: waiting for order o-1")
    assert not uow.finance.entries() and await check_held_refunds(uow) == 0
    assert not (await pay_out(uow, ProviderOutcome.paid)).keys
    assert failures(uow) == [("r-1", "rf-1", "r-1", "o-1", "10.00", "EUR", "held",
                              "order_unknown: waiting for order o-1")]

    await record_facts(uow, received(placed()))
    assert await check_held_refunds(uow) == 1
    assert uow.finance.refunds["rf-1"].status is RefundStatus.pending
    assert [entry.source_id for entry in uow.finance.entries("refund_approved")] == ["rf-1"]
    assert await check_held_refunds(uow) == 0
    assert len(failures(uow)) == 1  # checked and payable now: nothing failed


def failures(uow: FakeFinanceUnitOfWork) -> list[tuple]:
    """The RefundFailed published: (key, refund, RMA, order, amount, currency, outcome, reason)."""
    return [(event.aggregate_id, *(event.payload[name] for name in (
        "refund_id", "rma_id", "order_id", "amount", "currency", "outcome", "reason")))
        for event in uow.events("RefundFailed") if event.payload["at"]]


class Provider:
    def __init__(self, outcome: ProviderOutcome) -> None:
        self.outcome, self.keys = outcome, []

    async def refund(self, instruction: RefundInstruction) -> ProviderResult:
        self.keys.append(instruction.idempotency_key)
        return ProviderResult(self.outcome, reference="re_1", code="card_closed")


async def pay_out(uow: FakeFinanceUnitOfWork, outcome: ProviderOutcome) -> Provider:
    provider = Provider(outcome)
    await pay_out_due_refunds(lambda: uow, provider, batch_size=10, concurrency=2, retry_after=timedelta(seconds=1))
    return provider


async def test_a_paid_refund_is_posted_and_announced_and_a_declined_one_waits_for_staff():
    uow = await known_return()
    await record_facts(uow, received(approval("rf-1")))
    provider = await pay_out(uow, ProviderOutcome.paid)
    assert provider.keys == ["refund:r-1:rf-1"] and uow.finance.refunds["rf-1"].status is RefundStatus.issued
    [issued] = uow.events("RefundIssued")
    assert issued.payload["refund_id"] == "rf-1" and {topic for topic, _ in uow.published} == {FINANCE_EVENTS}
    assert [entry.kind for entry in uow.finance.entries()] == ["refund_approved", "refund_issued"]

    assert not failures(uow)

    await record_facts(uow, received(approval("rf-2")))
    await pay_out(uow, ProviderOutcome.declined)
    assert uow.finance.refunds["rf-2"].status is RefundStatus.failed and len(uow.events("RefundIssued")) == 1
    assert failures(uow) == [("r-1", "rf-2", "r-1", "o-1", "10.00", "EUR", "declined", "card_closed")]


async def declined() -> FakeFinanceUnitOfWork:
    uow = await known_return()
    await record_facts(uow, received(approval()))
    await pay_out(uow, ProviderOutcome.declined)
    return uow


async def test_a_retry_is_requested_by_one_clerk_and_takes_effect_when_another_approves():
    uow = await declined()
    request = await request_retry(uow, "rf-1", "fin:maria")
    assert (request.id, request.status, request.requested_by) == (1, RequestStatus.requested, "fin:maria")
    assert uow.finance.refunds["rf-1"].status is RefundStatus.failed  # nothing happens on the request
    with pytest.raises(AlreadyRequested, match="refund:rf-1 already waits for approval: request 1"):
        await request_manual_settlement(uow, "rf-1", "SEPA-77", "fin:omar")

    with pytest.raises(Forbidden, match="fin:maria requested refund_retry 1 and may not approve it") as refused:
        await approve(uow, 1, "fin:maria")
    assert refused.value.reason == "segregation_of_duties"
    assert uow.finance.refunds["rf-1"].status is RefundStatus.failed

    approved = await approve(uow, 1, "sup:li")
    assert (approved.status, approved.decided_by, approved.outcome) == (
        RequestStatus.approved, "sup:li", "refund:r-1:rf-1:1")
    refund = uow.finance.refunds["rf-1"]
    assert refund.status is RefundStatus.pending and refund.idempotency_key == "refund:r-1:rf-1:1"
    assert refund.last_error.startswith("retry requested by fin:maria, approved by sup:li, after: card_closed")
    assert uow.finance.approval_requests[1].status is RequestStatus.approved
    commits = uow.commits
    with pytest.raises(RequestDecided, match="request 1 was already approved by sup:li"):
        await approve(uow, 1, "fin:omar")  # once
    with pytest.raises(RefundNotFailed, match="refund rf-1 is pending; only a failed refund can be acted on"):
        await request_retry(uow, "rf-1", "fin:maria")
    with pytest.raises(RefundNotFound, match="no refund nope"):
        await request_retry(uow, "nope", "fin:maria")
    with pytest.raises(RequestNotFound, match="no approval request 9"):
        await approve(uow, 9, "sup:li")
    assert uow.commits == commits


async def test_a_manual_settlement_is_posted_by_its_approver_and_announced():
    uow = await declined()
    request = await request_manual_settlement(uow, "rf-1", "SEPA-77", "fin:maria")
    assert not uow.events("RefundIssued")
    settled = await approve(uow, request.id, "fin:omar")
    assert settled.outcome == "manual:SEPA-77"
    refund = uow.finance.refunds["rf-1"]
    assert refund.status is RefundStatus.issued and refund.provider_reference == "manual:SEPA-77"
    assert [(entry.kind, by) for entry, by in uow.finance.journal][-1] == ("refund_issued", "fin:omar")
    assert [event.payload["provider_reference"] for event in uow.events("RefundIssued")] == ["manual:SEPA-77"]
    with pytest.raises(RefundNotFailed):
        await request_manual_settlement(uow, "rf-1", "again", "fin:maria")


async def test_a_denied_request_changes_nothing_and_the_requester_may_withdraw_theirs():
    uow = await declined()
    request = await request_manual_settlement(uow, "rf-1", "SEPA-77", "fin:maria")
    denied = await deny(uow, request.id, "no transfer found", "fin:maria")
    assert (denied.status, denied.decided_by, denied.decision_note) == (
        RequestStatus.denied, "fin:maria", "no transfer found")
    assert uow.finance.refunds["rf-1"].status is RefundStatus.failed and not uow.events("RefundIssued")
    with pytest.raises(RequestDecided):
        await approve(uow, request.id, "sup:li")
    assert (await request_retry(uow, "rf-1", "fin:maria")).id == 2  # no longer open: a new request may be made


async def test_an_entry_is_reversed_once_on_approval_and_a_reversal_never():
    uow = await known_return()
    await record_facts(uow, received(approval()))
    request = await request_reversal(uow, 1, "approved twice", "fin:maria")
    assert len(uow.finance.journal) == 1  # posted only on approval
    approved = await approve(uow, request.id, "sup:li")
    reversal_id = int(approved.outcome.removeprefix("entry:"))
    reversal, posted_by = uow.finance.journal[reversal_id - 1]
    assert (reversal.kind, reversal.reverses, posted_by) == ("reversal", "refund_approved:rf-1", "sup:li")
    assert reversal.description.endswith("approved twice (requested by fin:maria, approved by sup:li)")
    commits = uow.commits
    with pytest.raises(AlreadyReversed, match="journal entry 1 is already reversed"):
        await request_reversal(uow, 1, "approved twice", "fin:omar")
    with pytest.raises(IrreversibleEntry):
        await request_reversal(uow, reversal_id, "undo", "fin:maria")
    with pytest.raises(EntryNotFound, match="no journal entry 99"):
        await request_reversal(uow, 99, "nope", "fin:maria")
    assert uow.commits == commits and len(uow.finance.approval_requests) == 1


async def test_a_unit_cost_is_stored_announced_and_committed():
    uow = FakeFinanceUnitOfWork()
    await set_unit_cost(uow, "SKU-RED-M", COST, "fin:maria")
    assert uow.finance.costs == {"SKU-RED-M": COST} and uow.commits == 1
    [changed] = uow.events("UnitCostChanged")
    assert (changed.aggregate_id, changed.payload["sku"], changed.payload["amount"], changed.payload["currency"]) == (
        "SKU-RED-M", "SKU-RED-M", "4.10", "EUR")


async def test_each_entry_a_batch_posts_is_announced_once_keyed_by_its_order_else_its_rma_else_itself():
    uow = await known_return()
    uow.finance.costs["SKU-RED-M"] = COST
    counted = StockAdjusted(adjustment_id="c1", sku="SKU-RED-M", node="BER1", location="A-01", quantity=-1,
                            actor="op-15", adjusted_at=NOW)
    facts = received(shipped(), counted, approval())
    await record_facts(uow, facts)
    await record_facts(uow, facts[:2])  # posted already: no entry, no announcement
    request = await request_reversal(uow, 3, "counted twice", "fin:maria")
    await approve(uow, request.id, "sup:li")
    announced = [(event.aggregate_type, event.aggregate_id, event.payload["entry_id"], event.payload["kind"],
                  event.payload["order_id"], event.payload["rma_id"], event.payload["amount"])
                 for event in uow.events("JournalEntryPosted")]
    assert [entry.kind for entry in uow.finance.entries()] == [
        "refund_approved", "shipment", "stock_adjustment", "reversal"]  # the approval is recorded first
    assert announced == [("order", "o-1", "1", "refund_approved", "o-1", "r-1", "10.00"),
                         ("order", "o-1", "2", "shipment", "o-1", None, "33.19"),
                         ("journal_entry", "3", "3", "stock_adjustment", None, None, "4.10"),
                         ("journal_entry", "4", "4", "reversal", None, None, "4.10")]


def test_an_entry_of_more_lines_than_the_contract_carries_is_announced_per_account():
    lines = [JournalLine(REVENUE, D(0), D("1.00"), "EUR", Dimensions("o-1", sku=f"SKU-{n}")) for n in range(1200)]
    entry = build_entry("shipment", "e-1", NOW, [JournalLine(CLEARING, D("1200.00"), D(0), "EUR"), *lines],
                        dims=Dimensions("o-1"))
    posted = entry_posted(7, entry, NOW).payload
    assert (posted["amount"], posted["lines"]) == ("1200.00", [{"account": CLEARING, "debit": "1200.00", "credit": "0"},
                                                               {"account": REVENUE, "debit": "0", "credit": "1200.00"}])
