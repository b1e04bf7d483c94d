"""The service layer on in-memory fakes: what each handler and staff command stores, posts, publishes and
refuses, and that it commits; no Kafka, no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from ecomops_common.contracts import FINANCE_EVENTS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import RefundApproved, RefundComponent, RefundedLine, ReturnAuthorized, ReturnLine
from ecomops_common.contracts.warehouse import ReturnReceived, ShipmentDispatched, ShippedLine
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed
from finance_service.adapters.fakes import FakeFinanceUnitOfWork
from finance_service.domain.journal import IrreversibleEntry
from finance_service.domain.payouts import ProviderOutcome, ProviderResult, RefundInstruction, RefundStatus
from finance_service.domain.postings import UnitCost
from finance_service.service_layer.handlers import handlers
from finance_service.service_layer.journal import AlreadyReversed, EntryNotFound, reverse_entry, set_unit_cost
from finance_service.service_layer.payouts import (
    RefundNotFailed,
    RefundNotFound,
    pay_out_due_refunds,
    retry_refund,
    settle_refund_manually,
)
from finance_service.service_layer.posting import post_parked, record_facts
from finance_service.settings import FinanceSettings

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
COST = UnitCost(D("4.10"), "EUR")


def placed(order_id: str = "o-1") -> OrderPlaced:
    return OrderPlaced.model_validate(order_placed(order_id, [("1", "SKU-RED-M", 2)]).payload)


def shipped(order_id: str = "o-1") -> ShipmentDispatched:
    return ShipmentDispatched(order_id=order_id, node="BER1", tracking_number="T1", shipped_at=NOW,
                              lines=[ShippedLine(line_id="1", sku="SKU-RED-M", quantity=2)])


def approval(refund_id: str = "rf-1") -> RefundApproved:
    return RefundApproved(
        refund_id=refund_id, rma_id="r-1", order_id="o-1", channel="web-eu", customer_id="c-42", amount=D("10.00"),
        currency="EUR", reason="changed_mind", timing="instant",
        lines=[RefundedLine(line_id="1", sku="SKU-RED-M", quantity=1)],
        breakdown=[RefundComponent(line_id="1", kind="goods", amount=D("10.00"))], approved_by="policy",
        approved_at=NOW)


def test_each_topic_has_its_consumer_group_and_message_types():
    registry = {s.topic: (s.consumer, {m.__name__ for m in s.messages}, s.once) for s in handlers(FinanceSettings())}
    assert registry == {
        ORDER_EVENTS: ("finance-service.order-events", {"OrderPlaced"}, True),
        WAREHOUSE_EVENTS: ("finance-service.warehouse-events", {
            "ShipmentDispatched", "ReturnReceived", "ReturnInspected", "ReturnDispositionApplied", "StockAdjusted"},
            True),
        RETURNS_EVENTS: ("finance-service.returns-events", {"ReturnAuthorized", "RefundApproved"}, True),
    }
    for subscription in handlers(FinanceSettings()):
        subscription.decoder()  # every message type is a contract on its topic


async def test_a_known_order_shipped_at_a_known_cost_posts_the_shipment_and_commits():
    uow = FakeFinanceUnitOfWork()
    uow.finance.costs["SKU-RED-M"] = COST
    await record_facts(uow, received(placed(), shipped()))
    [entry] = uow.finance.entries("shipment")
    assert entry.dims.order_id == "o-1" and uow.finance.sale_orders["o-1"].shipped == {"1": 2}
    assert uow.commits == 1 and not uow.finance.parked and not uow.published


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
    rma = ReturnAuthorized(rma_id="r-1", order_id="o-1", channel="web-eu", node="BER1", authorized_at=NOW,
                           reason="changed_mind", lines=[ReturnLine(line_id="1", sku="SKU-RED-M", quantity=2)])
    receipt = ReturnReceived(rma_id="r-1", node="BER1", sku="SKU-RED-M", quantity=1, condition="damaged",
                             received_at=NOW)
    await record_facts(uow, received(rma, receipt))
    assert uow.finance.cases["r-1"]["authorized_units"] == 2
    assert uow.finance.receipts == [("r-1", "SKU-RED-M", 1)] and uow.commits == 1


async def test_an_approval_sent_twice_is_one_refund_and_one_liability_entry():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(approval(), approval()))
    assert uow.finance.refunds["rf-1"].status is RefundStatus.pending
    assert uow.finance.refunds["rf-1"].duplicate_requests == 1
    assert [entry.kind for entry in uow.finance.entries()] == ["refund_approved"] and uow.commits == 1


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
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(approval("rf-1")))
    provider = await pay_out(uow, ProviderOutcome.paid)
    assert provider.keys == ["refund:r-1:rf-1"] and uow.finance.refunds["rf-1"].status is RefundStatus.issued
    [issued] = uow.events("RefundIssued")
    assert issued.payload["refund_id"] == "rf-1" and {topic for topic, _ in uow.published} == {FINANCE_EVENTS}
    assert [entry.kind for entry in uow.finance.entries()] == ["refund_approved", "refund_issued"]

    await record_facts(uow, received(approval("rf-2")))
    await pay_out(uow, ProviderOutcome.declined)
    assert uow.finance.refunds["rf-2"].status is RefundStatus.failed and len(uow.events("RefundIssued")) == 1


async def test_staff_retry_a_declined_refund_with_a_new_key_and_nothing_else():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(approval()))
    await pay_out(uow, ProviderOutcome.declined)
    refund = await retry_refund(uow, "rf-1", "fin:maria")
    assert refund.status is RefundStatus.pending and refund.idempotency_key == "refund:r-1:rf-1:1"
    assert uow.finance.refunds["rf-1"].last_error.startswith("retried by fin:maria")
    commits = uow.commits
    with pytest.raises(RefundNotFailed, match="refund rf-1 is pending; only a failed refund can be acted on"):
        await retry_refund(uow, "rf-1", "fin:maria")
    with pytest.raises(RefundNotFound, match="no refund nope"):
        await retry_refund(uow, "nope", "fin:maria")
    assert uow.commits == commits


async def test_a_refund_settled_by_hand_is_posted_by_the_person_and_announced():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(approval()))
    await pay_out(uow, ProviderOutcome.declined)
    refund = await settle_refund_manually(uow, "rf-1", "SEPA-77", "fin:maria")
    assert refund.status is RefundStatus.issued and refund.provider_reference == "manual:SEPA-77"
    assert [(entry.kind, by) for entry, by in uow.finance.journal][-1] == ("refund_issued", "fin:maria")
    assert [event.payload["provider_reference"] for event in uow.events("RefundIssued")] == ["manual:SEPA-77"]
    with pytest.raises(RefundNotFailed):
        await settle_refund_manually(uow, "rf-1", "again", "fin:maria")


async def test_an_entry_is_reversed_once_and_a_reversal_never():
    uow = FakeFinanceUnitOfWork()
    await record_facts(uow, received(approval()))
    reversal_id = await reverse_entry(uow, 1, "approved twice", "fin:maria")
    reversal, posted_by = uow.finance.journal[reversal_id - 1]
    assert (reversal.kind, reversal.reverses, posted_by) == ("reversal", "refund_approved:rf-1", "fin:maria")
    assert reversal.description.endswith("approved twice (fin:maria)") and uow.commits == 2
    with pytest.raises(AlreadyReversed, match="journal entry 1 is already reversed"):
        await reverse_entry(uow, 1, "approved twice", "fin:maria")
    with pytest.raises(IrreversibleEntry):
        await reverse_entry(uow, reversal_id, "undo", "fin:maria")
    with pytest.raises(EntryNotFound, match="no journal entry 99"):
        await reverse_entry(uow, 99, "nope", "fin:maria")
    assert uow.commits == 2


async def test_a_unit_cost_is_stored_and_committed():
    uow = FakeFinanceUnitOfWork()
    await set_unit_cost(uow, "SKU-RED-M", COST, "fin:maria")
    assert uow.finance.costs == {"SKU-RED-M": COST} and uow.commits == 1
