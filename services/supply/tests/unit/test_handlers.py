"""The service layer on in-memory fakes (no Kafka, no PostgreSQL): what each handler and command stores,
publishes and commits, and what it refuses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ecomops_common.contracts import SUPPLY_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.inventory import AvailabilityChanged, NodeAvailability
from ecomops_common.contracts.warehouse import GoodsReceived, ReturnDispositionApplied, ShipmentDispatched, ShippedLine
from ecomops_common.errors import Conflict, Forbidden, Invalid
from ecomops_common.testing.fakes import received
from supply_service.adapters.fakes import FakeSupplyUnitOfWork
from supply_service.domain.purchase_orders import AnnouncedUnits
from supply_service.domain.replenishment import ServiceTargets
from supply_service.service_layer import purchase_orders, replenishment
from supply_service.service_layer.handlers import handlers
from supply_service.service_layer.observations import (
    counts_for_supply,
    follow_warehouse,
    record_availability,
    record_skus,
)
from supply_service.service_layer.purchase_orders import LineRequest
from supply_service.service_layer.replenishment import HistoryDay, Planning
from supply_service.settings import SupplySettings

NOW = datetime.now(UTC)
TODAY = NOW.date()
DUE = TODAY + timedelta(days=10)
PLANNING = Planning(ServiceTargets(0.95, 7, 14), history_days=182)


def sku(name: str, revision: int = 1, **terms) -> SkuChanged:
    return SkuChanged.model_validate({"sku": name, "revision": revision, "status": "active", "name": name,
                                      "vendor_id": "acme", "vendor_sku": f"AC-{name}", "lead_time_days": 5,
                                      "unit_cost": "2.50", "currency": "EUR", "changed_by": "mia",
                                      "changed_at": NOW, **terms})


async def catalog(uow, *changes: SkuChanged) -> None:
    await record_skus(uow, received(*changes))


def shipped(sku_: str, quantity: int, at: datetime, node: str = "BER1") -> ShipmentDispatched:
    return ShipmentDispatched(order_id=f"o-{sku_}-{at.isoformat()}", node=node, tracking_number="T",
                              shipped_at=at, lines=[ShippedLine(line_id="1", sku=sku_, quantity=quantity)])


def restocked(sku_: str, quantity: int, at: datetime, disposition: str = "restock") -> ReturnDispositionApplied:
    return ReturnDispositionApplied(rma_id="r-1", node="BER1", sku=sku_, quantity=quantity, disposition=disposition,
                                    applied_at=at)


def published(uow, event_type: str) -> list[dict]:
    assert all(topic == SUPPLY_EVENTS for topic, _ in uow.published)
    return [envelope.payload for envelope in uow.events(event_type)]


async def test_the_catalog_keeps_each_skus_newest_revision():
    uow = FakeSupplyUnitOfWork()
    await catalog(uow, sku("MUG", 2, case_pack=6), sku("MUG", 1, case_pack=1))
    await catalog(uow, sku("MUG", 1, case_pack=12))  # late and older: ignored
    assert uow.supply.catalog["MUG"]["case_pack"] == 6 and uow.commits == 2


async def test_availability_keeps_the_newest_per_node():
    uow = FakeSupplyUnitOfWork()
    newer = AvailabilityChanged(sku="MUG", atp=3, as_of=NOW, nodes=[NodeAvailability(
        node="BER1", on_hand=10, reserved=7, safety_stock=0, atp=3)])
    older = newer.model_copy(update={"as_of": NOW - timedelta(minutes=1), "nodes": [NodeAvailability(
        node="BER1", on_hand=99, reserved=0, safety_stock=0, atp=99)]})
    await record_availability(uow, received(newer))
    await record_availability(uow, received(older))
    assert await uow.supply.stock("BER1") == {("MUG", "BER1"): (10, 7)}


async def test_net_demand_is_shipped_minus_returns_restocked_per_day():
    uow = FakeSupplyUnitOfWork()
    yesterday = NOW - timedelta(days=1)
    await follow_warehouse(uow, received(shipped("MUG", 5, yesterday), shipped("MUG", 3, yesterday),
                                         shipped("MUG", 4, NOW), restocked("MUG", 2, NOW)))
    demand = await uow.supply.demand(TODAY - timedelta(days=7))
    assert demand == {("MUG", "BER1"): {yesterday.date(): (8, 0), TODAY: (4, 2)}}


def test_returns_not_restocked_are_skipped_before_any_transaction():
    assert counts_for_supply(restocked("MUG", 1, NOW))
    assert not counts_for_supply(restocked("MUG", 1, NOW, disposition="scrap"))
    assert counts_for_supply(shipped("MUG", 1, NOW))


async def test_history_loaded_replaces_its_days_and_refuses_the_future():
    uow = FakeSupplyUnitOfWork()
    day = TODAY - timedelta(days=3)
    for _ in range(2):
        assert await replenishment.load_history(uow, "BER1", [HistoryDay("MUG", day, 9, 1)]) == 1
    assert (await uow.supply.demand(day))[("MUG", "BER1")] == {day: (9, 1)}
    with pytest.raises(Invalid) as refused:
        await replenishment.load_history(uow, "BER1", [HistoryDay("MUG", TODAY + timedelta(days=1), 1),
                                                       HistoryDay("TEE", day, 1), HistoryDay("TEE", day, 2)])
    assert [problem.field for problem in refused.value.problems] == ["days.0.date", "days.2"]


async def test_a_purchase_order_takes_the_catalogs_terms_and_refuses_what_it_cannot_buy():
    uow = FakeSupplyUnitOfWork()
    await catalog(uow, sku("MUG"), sku("SET", components=[{"sku": "MUG", "quantity": 2}]),
                  sku("OLD", status="discontinued"), sku("FREE", unit_cost=None, currency=None))
    with pytest.raises(Invalid) as refused:
        await purchase_orders.create(uow, "acme", "BER1", "EUR", DUE, [
            LineRequest("MUG", 1), LineRequest("SET", 1), LineRequest("OLD", 1), LineRequest("GHOST", 1),
            LineRequest("FREE", 1)], "bob")
    assert [problem.field for problem in refused.value.problems] == [
        "lines.1.sku", "lines.2.sku", "lines.3.sku", "lines.4.unit_cost"]
    po = await purchase_orders.create(uow, "acme", "BER1", "EUR", DUE, [LineRequest("MUG", 4)], "bob")
    assert (po.lines[0].unit_cost, po.lines[0].vendor_sku, po.created_by) == (Decimal("2.50"), "AC-MUG", "bob")
    [event] = published(uow, "PurchaseOrderChanged")
    assert (event["revision"], event["status"], event["reason"], event["total"]) == (1, "draft", "created", "10.00")
    with pytest.raises(Conflict):
        await purchase_orders.create(uow, "acme", "BER1", "EUR", DUE, [LineRequest("MUG", 4)], "bob",
                                     po_id=po.po_id)


async def sent_order(uow, quantity: int = 10) -> str:
    await catalog(uow, sku("MUG"))
    po = await purchase_orders.create(uow, "acme", "BER1", "EUR", DUE, [LineRequest("MUG", quantity)], "bob")
    await purchase_orders.approve(uow, po.po_id, "bob", Decimal(1000))
    await purchase_orders.send(uow, po.po_id, "bob")
    return po.po_id


async def test_four_eyes_above_the_threshold():
    uow = FakeSupplyUnitOfWork()
    await catalog(uow, sku("MUG"))
    po = await purchase_orders.create(uow, "acme", "BER1", "EUR", DUE, [LineRequest("MUG", 500)], "bob")
    with pytest.raises(Forbidden):
        await purchase_orders.approve(uow, po.po_id, "bob", Decimal(1000))
    approved = await purchase_orders.approve(uow, po.po_id, "bea", Decimal(1000))
    assert approved.approved_by == "bea"
    assert [e["revision"] for e in published(uow, "PurchaseOrderChanged")] == [1, 2]


async def test_a_notice_is_published_with_the_lines_costs_and_its_id_is_unique():
    uow = FakeSupplyUnitOfWork()
    po_id = await sent_order(uow)
    await purchase_orders.issue_asn(uow, po_id, "ASN-1", DUE, [AnnouncedUnits("1", 4, "L1")], "bea")
    [notice] = published(uow, "AdvanceShipNoticeIssued")
    assert (notice["asn_id"], notice["node"], notice["issued_by"], notice["lines"][0]["unit_cost"],
            notice["lines"][0]["sku"], notice["lines"][0]["lot"]) == ("ASN-1", "BER1", "bea", "2.50", "MUG", "L1")
    assert published(uow, "PurchaseOrderChanged")[-1]["reason"] == "asn"
    with pytest.raises(Conflict):
        await purchase_orders.issue_asn(uow, po_id, "ASN-1", DUE, [AnnouncedUnits("1", 1)], "bea")
    with pytest.raises(Invalid) as refused:
        await purchase_orders.issue_asn(uow, po_id, "ASN-2", TODAY - timedelta(days=1), [AnnouncedUnits("1", 1)],
                                        "bea")
    assert refused.value.problems[0].field == "expected_date"


async def test_goods_received_close_the_order_as_received_by_the_warehouse():
    uow = FakeSupplyUnitOfWork()
    po_id = await sent_order(uow)
    await purchase_orders.issue_asn(uow, po_id, "ASN-1", DUE, [AnnouncedUnits("1", 10)], "bea")

    def receipt(receipt_id: str, quantity: int, po: str = po_id) -> GoodsReceived:
        return GoodsReceived(receipt_id=receipt_id, po_id=po, asn_id="ASN-1", node="BER1", sku="MUG",
                             quantity=quantity, received_by="op-7", received_at=NOW)

    await follow_warehouse(uow, received(receipt("r1", 4), receipt("r2", 5), receipt("r3", 1, po="PO-UNKNOWN")))
    po = uow.supply.orders[po_id]
    assert (po.status, po.lines[0].received) == ("partially_received", 9)
    assert await uow.supply.on_order("BER1") == {("MUG", "BER1"): 1}
    await follow_warehouse(uow, received(receipt("r4", 1)))
    changes = published(uow, "PurchaseOrderChanged")
    assert [(c["revision"], c["status"], c["changed_by"]) for c in changes[-3:]] == [
        (5, "partially_received", "op-7"), (6, "partially_received", "op-7"), (7, "closed", "op-7")]
    assert await uow.supply.on_order("BER1") == {}


async def test_suggestions_net_returns_and_count_what_is_on_order():
    uow = FakeSupplyUnitOfWork()
    await catalog(uow, sku("MUG", case_pack=6, min_order_quantity=12))
    await replenishment.load_history(uow, "BER1", [HistoryDay("MUG", TODAY - timedelta(days=d), 12, 2)
                                                   for d in range(1, 15)])
    [found] = await replenishment.suggestions(uow, PLANNING, node="BER1")
    assert found.suggestion.explanation["forecast"]["level"] == pytest.approx(10, abs=0.5)
    assert found.suggestion.explanation["lead_time_from"] == "catalog"
    assert found.suggestion.quantity % 6 == 0 and found.suggestion.quantity >= found.suggestion.order_up_to
    orders, skipped = await replenishment.draft_purchase_orders(uow, PLANNING, "BER1", "bob")
    assert (len(orders), skipped) == (1, [])
    assert (orders[0].vendor_id, orders[0].lines[0].quantity, orders[0].created_by) == \
        ("acme", found.suggestion.quantity, "bob")
    assert orders[0].expected_date == TODAY + timedelta(days=5)
    [again] = await replenishment.suggestions(uow, PLANNING, node="BER1")
    assert again.suggestion.quantity == 0  # the draft is on order


async def test_drafts_are_one_per_vendor_and_skus_without_a_vendor_are_skipped():
    uow = FakeSupplyUnitOfWork()
    await catalog(uow, sku("MUG"), sku("TEE", vendor_id="tees"), sku("CUP", vendor_id="acme"),
                  sku("LOOSE", vendor_id=None), sku("LAMP"))
    await follow_warehouse(uow, received(*(shipped(name, 3, NOW) for name in ("MUG", "TEE", "CUP", "LOOSE"))))
    orders, skipped = await replenishment.draft_purchase_orders(uow, PLANNING, "BER1", "bob",
                                                                skus=["MUG", "TEE", "CUP", "LOOSE", "LAMP"])
    assert sorted((o.vendor_id, tuple(line.sku for line in o.lines)) for o in orders) == [
        ("acme", ("CUP", "MUG")), ("tees", ("TEE",))]
    assert skipped == [{"sku": "LOOSE", "reason": "no vendor in the catalog"},
                       {"sku": "LAMP", "reason": "no demand, stock or units on order at BER1"}]


async def test_a_suggestion_beyond_what_a_line_carries_is_left_to_a_buyer():
    uow = FakeSupplyUnitOfWork()
    await catalog(uow, sku("SAND"))
    await replenishment.load_history(uow, "BER1", [HistoryDay("SAND", TODAY - timedelta(days=1), 2_000_000)])
    orders, [skipped] = await replenishment.draft_purchase_orders(uow, PLANNING, "BER1", "bob")
    assert orders == [] and "more than a line carries (1000000)" in skipped["reason"]


def test_the_registry_takes_the_warehouse_events_once_and_skips_returns_not_restocked():
    subscriptions = {s.consumer: s for s in handlers(SupplySettings())}
    warehouse = subscriptions["supply-service.warehouse-events"]
    assert warehouse.once and warehouse.wants is counts_for_supply
    assert set(warehouse.messages) == {ShipmentDispatched, ReturnDispositionApplied, GoodsReceived}
    assert not subscriptions["supply-service.catalog-skus"].once  # the highest revision wins anyway
