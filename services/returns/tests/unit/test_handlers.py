"""The service layer on in-memory fakes (no Kafka, no PostgreSQL): what each handler and command stores, publishes
and commits, and what it refuses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest

from ecomops_common.auth import CONNECTOR, CUSTOMER_SERVICE, Principal
from ecomops_common.contracts import CHANNEL_ORDERS, RETURNS_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.finance import RefundIssued, UnitCostChanged
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import ReturnRequest
from ecomops_common.contracts.shipping import ReturnLabelIssued
from ecomops_common.contracts.warehouse import (
    FulfilmentStage,
    OrderFulfilmentChanged,
    ReturnDispositionApplied,
    ReturnInspected,
    ReturnReceived,
    ShipmentDispatched,
    ShippedLine,
)
from ecomops_common.errors import Conflict, Forbidden, Invalid, NotFound
from ecomops_common.testing.fakes import FakeDelivery, received
from ecomops_common.testing.samples import order_placed
from returns_service.adapters.fakes import FakeReturnsUnitOfWork
from returns_service.adapters.repository import RMA_DOCUMENT
from returns_service.domain.rma import RmaStatus, SettlementStatus, WriteOff
from returns_service.domain.vendor_claims import ClaimRule
from returns_service.service_layer import rules, vendor_claims
from returns_service.service_layer.catalog import follow_catalog
from returns_service.service_layer.handling import (
    decide,
    decide_write_off,
    follow_finance,
    follow_shipping,
    inspect_at_bench,
)
from returns_service.service_layer.handling import follow_warehouse as follow_warehouse_with
from returns_service.service_layer.intake import follow_orders, request_returns, take_channel_returns

D = Decimal
NOW = datetime.now(UTC)
DELIVERED = NOW - timedelta(days=3)
WRITE_OFF_APPROVAL_VALUE = Decimal(15)  # a shirt is 10.00: two scrapped at once wait for a supervisor
follow_warehouse = partial(follow_warehouse_with, write_off_approval_value=WRITE_OFF_APPROVAL_VALUE)


def caller(subject: str, *roles: str, **claims) -> Principal:
    """Who calls over HTTP, as the issuer's token names them."""
    return Principal(subject, subject, frozenset(roles), claims.get("client"), claims)


async def sold_and_delivered(uow: FakeReturnsUnitOfWork, order_id: str = "o-1", lines=(("1", "SHIRT", 2),)) -> None:
    """What the order service and the warehouse would have published: placed, shipped from BER1, delivered."""
    await follow_orders(uow, received(OrderPlaced.model_validate(order_placed(order_id, list(lines)).payload)))
    shipped = ShipmentDispatched(order_id=order_id, node="BER1", tracking_number="TRK1", shipped_at=DELIVERED,
                                 lines=[ShippedLine(line_id=line_id, sku=sku, quantity=qty)
                                        for line_id, sku, qty in lines])
    delivered = OrderFulfilmentChanged(order_id=order_id, stage=FulfilmentStage.delivered, units=1, picked=1,
                                       packed=1, shipped=1)
    await follow_warehouse(uow, [FakeDelivery(shipped), FakeDelivery(delivered, occurred_at=DELIVERED)])


def request(request_id: str = "req-1", lines=(("SHIRT", 1),), order_id: str = "o-1", channel: str = "web-eu",
            **more) -> ReturnRequest:
    return ReturnRequest(channel=channel, request_id=request_id, order_id=order_id, reason="changed_mind",
                         lines=[{"sku": sku, "quantity": qty} for sku, qty in lines], **more)


async def authorized(uow: FakeReturnsUnitOfWork, **more) -> str:
    [outcome] = await request_returns(uow, [request(**more)], "WH1")
    assert outcome.created, outcome.refusals
    return outcome.rma_id


def warehouse(rma_id: str, kind: str, quantity: int = 1, **more):
    common = {"rma_id": rma_id, "node": "BER1", "sku": "SHIRT", "quantity": quantity}
    if kind == "received":
        return ReturnReceived(**common, condition=more.get("condition", "new"), received_at=NOW)
    if kind == "inspected":
        return ReturnInspected(**common, condition=more.get("condition", "new"), inspected_at=NOW,
                               inspector=more.get("inspector"))
    return ReturnDispositionApplied(**common, disposition=more["disposition"], applied_at=NOW)


def sku_changed(sku: str = "SHIRT", revision: int = 1, **fields) -> SkuChanged:
    """The catalog's record of a SKU, as the catalog service publishes it."""
    return SkuChanged(sku=sku, revision=revision, status="active", name=sku.title(), changed_by="merch:mia",
                      changed_at=NOW, **fields)


def statuses(uow: FakeReturnsUnitOfWork) -> list[str]:
    return [event.payload["status"] for event in uow.events("ReturnStatusChanged")]


async def test_placed_orders_are_kept_with_what_their_lines_cost():
    uow = FakeReturnsUnitOfWork()
    placed = OrderPlaced.model_validate(order_placed("o-1", [("1", "SHIRT", 2), ("2", "HAT", 1)]).payload)
    await follow_orders(uow, received(placed, placed))  # redelivered: an upsert, the same row
    order = uow.returns.orders["o-1"]
    assert (order["channel"], order["customer_id"], str(order["goods"])) == ("web-eu", "c-42", "30.00")
    assert sorted(uow.returns.lines) == [("o-1", "1"), ("o-1", "2")]
    assert uow.commits == 1 and not uow.published


async def test_shipments_and_deliveries_are_kept_delivery_at_the_time_the_event_happened():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow, lines=[("1", "SHIRT", 2)])
    [(line, row)] = (await uow.returns.order_lines("o-1")).values()
    assert (line.shipped, line.node) == (2, "BER1")
    assert uow.returns.orders["o-1"]["delivered_at"] == DELIVERED  # the envelope's occurred_at, not now
    assert uow.commits == 2


async def test_a_channel_request_becomes_an_rma_sent_to_the_node_that_shipped():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    await take_channel_returns(uow, received(request()), default_node="WH1")
    [rma] = uow.returns.saved.values()
    assert (rma.status, rma.node, [(line.sku, line.quantity) for line in rma.lines]) == (
        RmaStatus.authorized, "BER1", [("SHIRT", 1)])
    [authorized_event] = uow.events("ReturnAuthorized")
    assert (authorized_event.payload["rma_id"], authorized_event.payload["node"]) == (rma.id, "BER1")
    assert all(topic == RETURNS_EVENTS for topic, _ in uow.published)
    assert uow.returns.lines[("o-1", "1")]["requested"] == 1
    assert uow.commits == 3

    [again] = await request_returns(uow, [request()], "WH1")  # a resend answers with the RMA it made
    assert (again.rma_id, again.created) == (rma.id, False)
    assert len(uow.events("ReturnAuthorized")) == 1


async def test_the_channel_return_node_comes_before_the_shipping_node():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    await rules.put_rule(uow, rules.RETURN_POLICY, "web-eu", {"return_node": "RET1"}, "admin")
    rma_id = await authorized(uow)
    assert uow.returns.saved[rma_id].node == "RET1"


async def test_a_refused_channel_request_is_published_and_not_kept():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    await take_channel_returns(uow, received(request(lines=[("SHIRT", 5)]), request("req-2", order_id="o-404")),
                               default_node="WH1")
    assert not uow.returns.saved and not uow.returns.requests
    assert [[r["rule"] for r in e.payload["refusals"]] for e in uow.events("ReturnRefused")] == [
        ["quantity_exceeds_returnable"], ["unknown_order"]]


async def test_a_request_naming_a_line_twice_is_refused():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    [outcome] = await request_returns(uow, [request(lines=[("SHIRT", 1), ("SHIRT", 1)])], "WH1")
    assert [(r.rule, r.field) for r in outcome.refusals] == [("duplicate_line", "lines")]
    assert not uow.returns.saved


async def test_receipt_inspection_payout_and_disposition_settle_and_close_the_rma():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    rma_id = await authorized(uow)
    await follow_warehouse(uow, received(warehouse(rma_id, "received"), warehouse(rma_id, "inspected")))
    rma = uow.returns.saved[rma_id]
    assert rma.status is RmaStatus.inspected
    [decided] = uow.events("ReturnDispositionDecided")
    assert (decided.payload["grade"], decided.payload["disposition"]) == ("A", rma.inspections[0].disposition)
    [settlement] = rma.settlements  # 10.00 after inspection: below the approval threshold, approved by policy
    assert (settlement.status, settlement.decided_by, str(settlement.amount)) == (
        SettlementStatus.approved, "policy", "10.00")
    [refund] = uow.events("RefundApproved")
    assert (refund.payload["refund_id"], refund.payload["amount"]) == (settlement.id, "10.00")

    issued = RefundIssued(refund_id=settlement.id, rma_id=rma_id, order_id="o-1", amount="10.00", currency="EUR",
                          issued_at=NOW)
    await follow_finance(uow, received(issued, issued))  # paid out twice: refunded once
    disposition = rma.inspections[0].disposition
    await follow_warehouse(uow, received(warehouse(rma_id, "dispositioned", disposition=disposition)))
    assert uow.returns.saved[rma_id].status is RmaStatus.closed
    assert statuses(uow) == ["received", "inspected", "refund_approved", "refunded", "closed"]
    assert [stage.stage for stage in uow.returns.audit] == [
        "authorized", "received", "inspected", "refund_approved", "refunded", "dispositioned", "closed"]


async def test_warehouse_events_for_unknown_rmas_are_ignored_and_refused_ones_flagged():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    rma_id = await authorized(uow)
    await follow_warehouse(uow, received(warehouse("RMA-unknown", "received"), warehouse(rma_id, "inspected")))
    rma = uow.returns.saved[rma_id]
    assert rma.status is RmaStatus.authorized and rma.flags[0].startswith("ReturnInspected not applied")
    unknown = RefundIssued(refund_id="x", rma_id="RMA-unknown", order_id="o-1", amount="1.00", currency="EUR",
                           issued_at=NOW)
    await follow_finance(uow, received(unknown))
    assert not uow.events("ReturnStatusChanged")


async def test_an_exchange_released_at_once_becomes_a_replacement_order():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    await rules.put_rule(uow, rules.REFUND_POLICY, "web-eu", {"timing": "instant", "instant_max_amount": "50"},
                         "admin")
    rma_id = await authorized(uow, resolution="exchange")
    [(topic, replacement)] = [(t, m) for t, m in uow.published if t == CHANNEL_ORDERS]
    assert (replacement.external_order_id, replacement.lines[0].sku, replacement.payment.method) == (
        f"exchange-{rma_id}-S1", "SHIRT", "exchange")
    assert statuses(uow) == ["refund_approved", "exchange_ordered"]


async def waiting_for_approval(uow: FakeReturnsUnitOfWork) -> tuple[str, str]:
    """An RMA inspected by op-3 whose refund waits for a supervisor (above the approval threshold)."""
    await sold_and_delivered(uow)
    await rules.put_rule(uow, rules.REFUND_POLICY, "web-eu", {"approval_threshold": "5"}, "admin")
    rma_id = await authorized(uow)
    await follow_warehouse(uow, received(warehouse(rma_id, "received")))
    rma = await inspect_at_bench(uow, rma_id, "SHIRT", 1, "A", "op-3", None, (), WRITE_OFF_APPROVAL_VALUE)
    [settlement] = rma.settlements
    assert settlement.status is SettlementStatus.pending_approval
    return rma_id, settlement.id


async def test_a_refund_approver_approves_a_waiting_refund():
    uow = FakeReturnsUnitOfWork()
    rma_id, settlement_id = await waiting_for_approval(uow)
    commits = uow.commits
    rma = await decide(uow, rma_id, settlement_id, "sup:ana", True, "photos checked")
    assert (rma.settlements[0].status, rma.settlements[0].decided_by) == (SettlementStatus.approved, "sup:ana")
    assert uow.events("RefundApproved")[0].payload["approved_by"] == "sup:ana"
    assert uow.commits == commits + 1
    with pytest.raises(Conflict, match="only a waiting one can be decided"):
        await decide(uow, rma_id, settlement_id, "sup:ana", True, None)


async def test_decisions_are_refused_to_who_inspected_or_requested_and_for_unknown_rmas():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    await rules.put_rule(uow, rules.REFUND_POLICY, "web-eu", {"approval_threshold": "5"}, "admin")
    [outcome] = await request_returns(uow, [request()], "WH1", caller("cs-1", CUSTOMER_SERVICE))
    rma_id = outcome.rma_id
    await follow_warehouse(uow, received(warehouse(rma_id, "received")))
    [settlement] = (await inspect_at_bench(uow, rma_id, "SHIRT", 1, "A", "op-3", None, (),
                                           WRITE_OFF_APPROVAL_VALUE)).settlements
    settlement_id = settlement.id
    commits = uow.commits
    with pytest.raises(Forbidden, match="op-3 inspected these items") as inspector:
        await decide(uow, rma_id, settlement_id, "op-3", True, None)
    with pytest.raises(Forbidden, match="cs-1 requested this return") as requester:
        await decide(uow, rma_id, settlement_id, "cs-1", False, "no")
    assert inspector.value.reason == requester.value.reason == "segregation_of_duties"
    with pytest.raises(NotFound, match="RMA RMA-404 not found"):
        await decide(uow, "RMA-404", settlement_id, "sup:ana", True, None)
    assert uow.commits == commits and uow.returns.saved[rma_id].settlements[0].decided_by is None


async def test_an_inspection_at_the_bench_is_refused_for_units_not_received():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    rma_id = await authorized(uow)
    with pytest.raises(Conflict, match="0 received units of SHIRT wait for inspection"):
        await inspect_at_bench(uow, rma_id, "SHIRT", 1, "B", "op-3", None, (), WRITE_OFF_APPROVAL_VALUE)
    assert not uow.events("ReturnDispositionDecided")


async def test_rules_are_stored_when_valid_and_refused_field_by_field():
    uow = FakeReturnsUnitOfWork()
    with pytest.raises(Invalid) as invalid:
        await rules.put_rule(uow, rules.DISPOSITIONS, rules.TABLE_KEY,
                             {"rules": [{"id": "a", "disposition": "burn"}, {"id": "a", "disposition": "scrap"}]},
                             "admin")
    assert invalid.value.code == "invalid_rule"
    assert [p.field for p in invalid.value.problems] == ["rules.0.disposition", "rules.1.id"]
    assert uow.commits == 0 and not uow.returns.stored_rules

    await rules.put_rule(uow, rules.RETURN_POLICY, "web-eu", {"return_window_days": 14}, "admin")
    policy, row = await rules.stored_rule(uow, rules.RETURN_POLICY, "web-eu")
    assert (policy.return_window_days, row["updated_by"], uow.commits) == (14, "admin", 1)


async def test_a_connector_requests_returns_for_its_own_channels_orders_only():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    web = caller("svc-connector-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])
    marketplace = caller("svc-connector-mp", CONNECTOR, client="connector-marketplace", channels=["marketplace-de"])
    with pytest.raises(Forbidden, match="connector-marketplace may not request returns for channel web-eu") as other:
        await request_returns(uow, [request()], "WH1", marketplace)
    assert other.value.reason == "channel"
    # Its own channel in the request, another channel's order: unknown to that channel.
    [foreign] = await request_returns(uow, [request(channel="marketplace-de")], "WH1", marketplace)
    assert [r.rule for r in foreign.refusals] == ["unknown_order"]
    assert not uow.returns.saved

    [outcome] = await request_returns(uow, [request()], "WH1", web)
    rma = uow.returns.saved[outcome.rma_id]
    assert (rma.timeline[0].stage, rma.timeline[0].actor) == ("authorized", "svc-connector-web")
    await take_channel_returns(uow, received(request("req-2")), default_node="WH1")
    [from_topic] = [r for r in uow.returns.saved.values() if r.id != rma.id]
    assert from_topic.timeline[0].actor == "channel:web-eu"


async def test_no_return_for_an_order_only_the_warehouse_has_told_of():
    """A shipment or delivery may be heard of before OrderPlaced (or without it): no channel, no return, so
    nobody is paid an instant refund for an order this service never saw sold."""
    uow = FakeReturnsUnitOfWork()
    await rules.put_rule(uow, rules.REFUND_POLICY, "web-eu", {"timing": "instant", "instant_max_amount": "50"},
                         "admin")
    shipped = ShipmentDispatched(order_id="o-9", node="BER1", tracking_number="TRK9", shipped_at=DELIVERED,
                                 lines=[ShippedLine(line_id="1", sku="SHIRT", quantity=1)])
    await follow_warehouse(uow, received(shipped))
    [outcome] = await request_returns(uow, [request(order_id="o-9")], "WH1", caller("cs-1", CUSTOMER_SERVICE))
    assert [(r.rule, r.field) for r in outcome.refusals] == [("unknown_order", "order_id")]
    assert not uow.returns.saved and not uow.events("RefundApproved")


async def scrapped_at_the_bench(uow: FakeReturnsUnitOfWork, units: int) -> str:
    """An RMA whose units were graded D (scrap) at the bench by op-3."""
    await sold_and_delivered(uow)
    rma_id = await authorized(uow, lines=[("SHIRT", units)])
    await follow_warehouse(uow, received(warehouse(rma_id, "received", units, condition="damaged")))
    await inspect_at_bench(uow, rma_id, "SHIRT", units, "D", "op-3", None, (), WRITE_OFF_APPROVAL_VALUE)
    return rma_id


async def test_a_write_off_within_the_value_goes_to_the_warehouse_at_once():
    uow = FakeReturnsUnitOfWork()
    rma_id = await scrapped_at_the_bench(uow, 1)
    [decided] = uow.events("ReturnDispositionDecided")
    assert (decided.payload["disposition"], decided.payload["quantity"]) == ("scrap", 1)
    assert uow.returns.saved[rma_id].inspections[0].write_off is None


async def test_a_write_off_above_the_value_waits_for_a_supervisor_who_did_not_grade_it():
    uow = FakeReturnsUnitOfWork()
    rma_id = await scrapped_at_the_bench(uow, 2)
    rma = uow.returns.saved[rma_id]
    [inspection] = rma.inspections
    assert (inspection.disposition, inspection.write_off) == ("scrap", WriteOff.pending_approval)
    assert not uow.events("ReturnDispositionDecided") and rma.waiting_write_off
    assert [(s.stage, s.actor) for s in uow.returns.audit if s.stage.startswith(("inspected", "write_off"))] == [
        ("inspected", "op-3"), ("write_off_pending_approval", "policy")]

    commits = uow.commits
    with pytest.raises(Forbidden) as refused:
        await decide_write_off(uow, rma_id, inspection.id, "op-3", None)
    assert refused.value.reason == "segregation_of_duties" and uow.commits == commits
    await decide_write_off(uow, rma_id, inspection.id, "sup:ana", "photos checked")
    [decided] = uow.events("ReturnDispositionDecided")
    assert (decided.payload["disposition"], decided.payload["quantity"], decided.payload["grade"]) == ("scrap", 2, "D")
    assert (uow.returns.audit[-1].stage, uow.returns.audit[-1].actor) == ("write_off_approved", "sup:ana")
    with pytest.raises(Conflict, match="no write-off waiting"):
        await decide_write_off(uow, rma_id, inspection.id, "sup:ana", None)


async def test_a_refused_write_off_sends_the_units_where_the_supervisor_says():
    uow = FakeReturnsUnitOfWork()
    rma_id = await scrapped_at_the_bench(uow, 2)
    [inspection] = uow.returns.saved[rma_id].inspections
    await decide_write_off(uow, rma_id, inspection.id, "sup:ana", "repairable", instead="refurbish")
    [decided] = uow.events("ReturnDispositionDecided")
    assert decided.payload["disposition"] == "refurbish"
    rma = uow.returns.saved[rma_id]
    assert (rma.inspections[0].write_off, rma.lines[0].dispositions) == (WriteOff.rejected, {"refurbish": 2})


def test_an_rma_stored_before_write_off_approvals_still_loads():
    stored = {"id": "RMA-1", "order_id": "o-1", "channel": "web-eu", "customer_id": "c-42", "reason": "other",
              "node": "BER1", "lines": [], "inspections": [
                  {"sku": "SHIRT", "quantity": 1, "grade": "A", "disposition": "restock", "rule_id": "r",
                   "serial_mismatch": False, "missing_accessories": [], "inspector": "op-3"}]}
    [inspection] = RMA_DOCUMENT.validate_python(stored).inspections
    assert (inspection.id, inspection.write_off, inspection.inspector) == ("", None, "op-3")


async def sold_with_tax(uow: FakeReturnsUnitOfWork, category: str = "apparel", tax: str = "2.00") -> None:
    """Two shirts at 10.00 with shipping 4.99 and tax `tax`, paid by card, shipped and delivered."""
    placed = order_placed("o-1", [("1", "SHIRT", 2)]).payload
    placed["lines"][0]["category"] = category
    await follow_orders(uow, received(OrderPlaced.model_validate({**placed, "tax": tax})))
    await follow_warehouse(uow, [FakeDelivery(ShipmentDispatched(
        order_id="o-1", node="BER1", tracking_number="TRK1", shipped_at=DELIVERED,
        lines=[ShippedLine(line_id="1", sku="SHIRT", quantity=2)]))])


def asked(reason: str = "changed_mind", quantity: int = 1, **more) -> ReturnRequest:
    return ReturnRequest(channel="web-eu", request_id=more.pop("request_id", "req-1"), order_id="o-1", reason=reason,
                         lines=[{"sku": "SHIRT", "quantity": quantity}], **more)


async def received_and_inspected(uow: FakeReturnsUnitOfWork, request: ReturnRequest, condition: str = "new") -> str:
    [outcome] = await request_returns(uow, [request], "WH1")
    assert outcome.created, outcome.refusals
    units = request.lines[0].quantity
    await follow_warehouse(uow, received(warehouse(outcome.rma_id, "received", units, condition=condition),
                                         warehouse(outcome.rma_id, "inspected", units, condition=condition,
                                                   inspector="op-3")))
    return outcome.rma_id


async def test_a_refund_gives_back_the_orders_tax_pro_rata_and_is_paid_the_original_way():
    uow = FakeReturnsUnitOfWork()
    await sold_with_tax(uow)
    await received_and_inspected(uow, asked())
    [refund] = uow.events("RefundApproved")
    # 10.00 of 20.00 goods and 4.99 shipping: 2.00 × 10 / 24.99 = 0.80 (the shipping share stays: changed mind)
    assert (refund.payload["amount"], refund.payload["tax"], refund.payload["method"]) == (
        "10.80", "0.80", "original_payment")
    assert [(c["kind"], c["amount"]) for c in refund.payload["breakdown"]] == [("goods", "10.00"), ("tax", "0.80")]


async def test_store_credit_is_refused_where_the_channel_policy_does_not_offer_it():
    uow = FakeReturnsUnitOfWork()
    await sold_with_tax(uow)
    await rules.put_rule(uow, rules.REFUND_POLICY, "web-eu", {"store_credit_reasons": ["defective"]}, "admin")
    [outcome] = await request_returns(uow, [asked(resolution="store_credit")], "WH1")
    assert [(r.rule, r.field) for r in outcome.refusals] == [("store_credit_not_offered", "resolution")]
    [outcome] = await request_returns(uow, [asked(resolution="exchange", refund_method="bank_transfer")], "WH1")
    assert [(r.rule, r.field) for r in outcome.refusals] == [("refund_method_not_applicable", "refund_method")]
    assert not uow.returns.saved

    rma_id = await received_and_inspected(uow, asked("defective", resolution="store_credit"), "damaged")
    [refund] = uow.events("RefundApproved")
    assert (refund.payload["method"], refund.payload["approved_by"]) == ("store_credit", "policy")
    issued = RefundIssued(refund_id=refund.payload["refund_id"], rma_id=rma_id, order_id="o-1",
                          amount=refund.payload["amount"], currency="EUR", issued_at=NOW)
    await follow_finance(uow, received(issued, issued))  # finance issues the credit once: refunded once
    assert statuses(uow).count("refunded") == 1


async def test_a_refund_to_another_method_waits_for_a_refund_approver():
    uow = FakeReturnsUnitOfWork()
    await sold_with_tax(uow, tax="0.00")
    rma_id = await received_and_inspected(uow, asked(refund_method="bank_transfer"))
    [settlement] = uow.returns.saved[rma_id].settlements
    assert (settlement.status, settlement.risk_signals) == (SettlementStatus.pending_approval,
                                                            ["different_refund_method"])
    assert not uow.events("RefundApproved")
    await decide(uow, rma_id, settlement.id, "sup:ana", True, "customer's card expired")
    [refund] = uow.events("RefundApproved")
    assert (refund.payload["method"], refund.payload["approved_by"], refund.payload["tax"]) == (
        "bank_transfer", "sup:ana", "0")
    # The order's own method is no other method.
    own = await received_and_inspected(uow, asked(refund_method="card", request_id="req-2"))
    assert uow.returns.saved[own].settlements[0].method == "original_payment"


async def test_a_hazardous_category_is_quarantined_and_said_so():
    uow = FakeReturnsUnitOfWork()
    await sold_with_tax(uow, category="batteries")
    await received_and_inspected(uow, asked())  # grade A: the table would restock it
    [decided] = uow.events("ReturnDispositionDecided")
    assert (decided.payload["disposition"], decided.payload["rule_id"], decided.payload["hazardous"],
            decided.payload["category"]) == ("quarantine", "hazardous-category", True, "batteries")
    await rules.put_rule(uow, rules.HAZARDOUS, rules.TABLE_KEY, {"categories": []}, "admin")
    await received_and_inspected(uow, asked(request_id="req-2"))
    assert [e.payload["disposition"] for e in uow.events("ReturnDispositionDecided")] == ["quarantine", "restock"]


async def test_defective_units_accumulate_into_the_vendors_one_draft_and_the_claim_goes_to_credit():
    uow = FakeReturnsUnitOfWork()
    await sold_with_tax(uow)
    await follow_catalog(uow, received(sku_changed(vendor_id="acme", vendor_sku="AC-1")))
    [assigned] = uow.events("SkuVendorAssigned")
    assert (assigned.payload["vendor_id"], assigned.payload["assigned_by"]) == ("acme", "merch:mia")
    cost = UnitCostChanged(sku="SHIRT", amount="4.00", currency="EUR", at=NOW)
    await vendor_claims.record_unit_costs(uow, received(cost, cost.model_copy(update={"amount": D("3"),
                                                                                     "at": DELIVERED})))
    first = await received_and_inspected(uow, asked("defective", photos=["ph-1"]), "damaged")  # grade C
    await received_and_inspected(uow, asked("changed_mind", request_id="req-2"), "damaged")  # not claimed
    [(claim_id, claim)] = uow.returns.saved_claims.items()
    assert [(line.rma_id, line.grade, line.unit_cost, line.photos) for line in claim.lines] == [
        (first, "C", D("4.00"), ("ph-1",))]  # the newer cost, not the late older one
    [rma] = [r for r in uow.returns.saved.values() if r.id == first]
    await vendor_claims.claim_defects(uow, [(rma, rma.inspections[0])], ClaimRule(), NOW)  # the same inspection
    assert len(uow.returns.saved_claims[claim_id].lines) == 1

    await vendor_claims.submit(uow, claim_id, "sup:sam", None)
    await vendor_claims.record_vendor_response(uow, claim_id, "accepted", None, None, "clerk:bo")
    await vendor_claims.record_credit(uow, claim_id, D("4.00"), "CN-1", "clerk:bo")
    changes = uow.events("VendorClaimChanged")
    assert [(e.payload["status"], e.payload["actor"]) for e in changes] == [
        ("draft", "op-3"), ("submitted", "sup:sam"), ("accepted", "clerk:bo"), ("credited", "clerk:bo")]
    assert (changes[-1].payload["claimed_amount"], changes[-1].payload["credited_amount"]) == ("4.00", "4.00")
    with pytest.raises(NotFound):
        await vendor_claims.submit(uow, "VC-404", "sup:sam", None)


async def test_the_catalog_newest_revision_of_a_sku_is_kept_and_its_vendor_published_when_it_changes():
    uow = FakeReturnsUnitOfWork()
    first = sku_changed(revision=1, category="apparel", vendor_id="acme", vendor_sku="AC-1")
    await follow_catalog(uow, received(first, first))  # redelivered in the batch: one assignment
    assert [(e.payload["sku"], e.payload["vendor_id"], e.payload["vendor_sku"], e.payload["assigned_by"])
            for e in uow.events("SkuVendorAssigned")] == [("SHIRT", "acme", "AC-1", "merch:mia")]
    assert (uow.returns.vendors["SHIRT"]["assigned_by"], uow.returns.skus["SHIRT"]["revision"]) == ("merch:mia", 1)

    renamed = sku_changed(revision=2, category="apparel", vendor_id="acme", vendor_sku="AC-1", returnable=False)
    await follow_catalog(uow, received(renamed, first))  # same vendor: nothing published; the older one ignored
    assert len(uow.events("SkuVendorAssigned")) == 1
    assert (uow.returns.skus["SHIRT"]["revision"], uow.returns.skus["SHIRT"]["returnable"]) == (2, False)
    await follow_catalog(uow, received(sku_changed(revision=1, vendor_id="other")))  # late: changes nothing
    assert (len(uow.events("SkuVendorAssigned")), uow.returns.vendors["SHIRT"]["vendor_id"]) == (1, "acme")

    await follow_catalog(uow, received(sku_changed(revision=3, vendor_id="bolt"), sku_changed(revision=4)))
    assert "SHIRT" not in uow.returns.vendors  # the newest names no vendor: claims go to nobody
    await follow_catalog(uow, received(sku_changed(revision=5, vendor_id="bolt")))
    assert [e.payload["vendor_id"] for e in uow.events("SkuVendorAssigned")] == ["acme", "bolt"]
    assert uow.commits == 5


async def test_the_catalog_rules_of_a_sku_win_over_the_order_lines_flags():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow, lines=[("1", "SHIRT", 2), ("2", "MUG", 1), ("3", "CAP", 1)])
    await follow_catalog(uow, received(sku_changed(returnable=False), sku_changed("MUG", final_sale=True),
                                       sku_changed("CAP", category="hygiene")))
    [outcome] = await request_returns(uow, [request(lines=[("SHIRT", 1), ("MUG", 1), ("CAP", 1)])], "WH1")
    assert [(r.rule, r.field) for r in outcome.refusals] == [
        ("not_returnable", "lines.0.line_id"), ("final_sale", "lines.1.line_id"),
        ("non_returnable_category", "lines.2.line_id")]
    # delivered 3 days ago: the SKU's own 2-day window closes it, whatever the channel's 30 days
    await follow_catalog(uow, received(sku_changed(revision=2, return_window_days=2),
                                       sku_changed("MUG", revision=2), sku_changed("CAP", revision=2)))
    [outcome] = await request_returns(uow, [request(lines=[("SHIRT", 1)])], "WH1")
    assert [r.rule for r in outcome.refusals] == ["outside_return_window"]
    await authorized(uow, lines=[("MUG", 1)])  # no final sale in the catalog's newest revision: returnable again


async def test_a_sku_with_a_hazmat_class_is_quarantined_whatever_its_category():
    uow = FakeReturnsUnitOfWork()
    await sold_with_tax(uow)
    await follow_catalog(uow, received(sku_changed(hazmat_class="UN3480")))
    await received_and_inspected(uow, asked())  # grade A of apparel: the table would restock it
    [decided] = uow.events("ReturnDispositionDecided")
    assert (decided.payload["disposition"], decided.payload["rule_id"], decided.payload["hazardous"]) == (
        "quarantine", "hazmat-class", True)


async def test_the_rma_shows_its_return_label_once():
    uow = FakeReturnsUnitOfWork()
    await sold_and_delivered(uow)
    rma_id = await authorized(uow)
    label = ReturnLabelIssued(rma_id=rma_id, order_id="o-1", carrier="dhl", service="ground", tracking_number="RT-1",
                              label_url="https://labels.example/RT-1.pdf", cost="4.20", currency="EUR",
                              issued_at=NOW)
    unknown = label.model_copy(update={"rma_id": "RMA-404"})
    await follow_shipping(uow, received(label, unknown))
    await follow_shipping(uow, received(label))  # redelivered: nothing changes
    rma = uow.returns.saved[rma_id]
    assert (rma.return_label.carrier, rma.return_label.tracking_number, rma.return_label.cost) == ("dhl", "RT-1",
                                                                                                  D("4.20"))
    assert [(s.stage, s.actor, s.note) for s in rma.timeline][-1] == ("return_label_issued", "shipping",
                                                                      "dhl ground RT-1")
    assert [s.stage for s in uow.returns.audit].count("return_label_issued") == 1
    assert not uow.events("ReturnStatusChanged")  # not a status of the RMA: nothing published
