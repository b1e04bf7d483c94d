"""The recovery exits on in-memory fakes: what moves, what is published and who is recorded, the write-off
threshold with its second supervisor, the QA queue, hazardous units and return-to-vendor scans."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ecomops_common.auth import WAREHOUSE_OPERATOR, Principal
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided, ReturnLine
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.errors import Conflict, Forbidden, Invalid
from ecomops_common.testing.fakes import received
from warehouse_service.adapters.fakes import FakeWarehouse, FakeWarehouseUnitOfWork
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Place, StockStatus
from warehouse_service.domain.recovery import GradedVariant
from warehouse_service.service_layer import recovery
from warehouse_service.service_layer.returns import follow_returns
from warehouse_service.service_layer.scanning import take_scan_by

NOW = datetime.now(UTC)
THRESHOLD = Decimal("250.00")
DISPOSAL = {"method": "recycling", "facility": "EcoCycle GmbH", "certificate": "C-1", "hazard_class": "UN3480"}
LAYOUT = [Location("BER1", "RET-1", LocationKind.returns), Location("BER1", "Q-1", LocationKind.quarantine),
          Location("BER1", "A-01", LocationKind.storage), Location("BER1", "PACK", LocationKind.packing),
          Location("BER1", "SHIP", LocationKind.shipping)]
PENDING = Place("BER1", "RET-1", StockStatus.return_pending_inspection)


def returned(units: int = 4) -> FakeWarehouse:
    warehouse = FakeWarehouse()
    warehouse.locations = {(loc.node, loc.code): loc for loc in LAYOUT}
    warehouse.balances[("SKU", PENDING)] = units
    return warehouse


async def decided(uow, disposition: str, quantity: int, **fields) -> None:
    """RMA-1 authorized (once) and a disposition of its units."""
    if "RMA-1" not in uow.warehouse.expected_receipts:
        await follow_returns(uow, received(ReturnAuthorized(
            rma_id="RMA-1", order_id="o1", channel="web-eu", node="BER1", authorized_at=NOW,
            lines=[ReturnLine(line_id="1", sku="SKU", quantity=9)])))
    await follow_returns(uow, received(ReturnDispositionDecided(
        rma_id="RMA-1", sku="SKU", quantity=quantity, disposition=disposition, decided_at=NOW, **fields)))


async def costs(uow, amount: str, at: datetime = NOW) -> None:
    await recovery.follow_unit_costs(uow, received(UnitCostChanged(sku="SKU", amount=Decimal(amount), currency="EUR",
                                                                   at=at)))


def payloads(uow, event_type: str) -> list[dict]:
    return [event.payload for event in uow.events(event_type)]


async def test_liquidated_units_stay_on_the_books_until_their_lot_is_sold_once():
    uow = FakeWarehouseUnitOfWork(returned())
    await decided(uow, "liquidate", 3)
    assert uow.warehouse.balances[("SKU", Place("BER1", "RET-1", StockStatus.liquidation))] == 3
    await costs(uow, "10.00")
    outcome = await recovery.liquidate(uow, "LOT-1", "BER1", "Outlet Ltd", "EUR",
                                       [("SKU", "RET-1", 3, Decimal("12.00"))], "sup-kim", THRESHOLD)
    sold, = payloads(uow, "RecoveryStockMoved")
    assert (sold["action"], sold["quantity"], sold["to_status"], sold["proceeds"], sold["currency"],
            sold["reference"], sold["requested_by"], sold["decided_by"]) == (
        "liquidated", 3, None, "12.00", "EUR", "LOT-1", "sup-kim", "sup-kim")
    assert outcome.actions[0]["buyer"] == "Outlet Ltd" and ("SKU", PENDING) in uow.warehouse.balances
    with pytest.raises(Conflict, match="LOT-1 was sold"):
        await recovery.liquidate(uow, "LOT-1", "BER1", "Outlet Ltd", "EUR", [("SKU", "RET-1", 1, Decimal("1"))],
                                 "sup-kim", THRESHOLD)


async def test_a_write_off_above_the_threshold_waits_for_another_supervisor():
    uow = FakeWarehouseUnitOfWork(returned())
    await decided(uow, "refurbish", 4)
    await costs(uow, "100.00")
    await costs(uow, "1.00", NOW - timedelta(days=1))  # older: ignored
    small = await recovery.scrap(uow, "BER1", "SKU", "RET-1", StockStatus.refurbish, 2, "broken", None, "sup-kim",
                                 THRESHOLD)
    assert small.actions[0]["decided_by"] == "sup-kim" and small.write_off_id is None  # 200.00 ≤ 250.00
    outcome = await recovery.refurbish(uow, "BER1", "SKU", "RET-1", 2, False, None, None, None, "sup-kim",
                                       Decimal("150"))
    assert outcome.actions == [] and outcome.write_off_id
    waiting = uow.warehouse.write_offs[outcome.write_off_id]
    assert (waiting.value, waiting.status) == ((Decimal("200.00"), "EUR"), "pending_approval")
    raised = payloads(uow, "WarehouseExceptionChanged")[-1]
    assert (raised["kind"], raised["status"], raised["quantity"], raised["reason"]) == (
        "write_off", "open", 2, "refurbish_failed")
    assert uow.warehouse.balances[("SKU", Place("BER1", "RET-1", StockStatus.refurbish))] == 2  # not applied

    with pytest.raises(Forbidden) as refused:
        await recovery.decide_write_off(uow, outcome.write_off_id, "sup-kim", True, None)
    assert refused.value.reason == "segregation_of_duties"
    await recovery.decide_write_off(uow, outcome.write_off_id, "sup-ana", True, None)
    failed = payloads(uow, "RecoveryStockMoved")[-1]
    assert (failed["action"], failed["requested_by"], failed["decided_by"]) == ("refurbish_failed", "sup-kim",
                                                                                "sup-ana")
    assert payloads(uow, "WarehouseExceptionChanged")[-1]["status"] == "approved"
    assert not any(place.status is StockStatus.refurbish for _, place in uow.warehouse.balances)
    with pytest.raises(recovery.WriteOffNotPending):
        await recovery.decide_write_off(uow, outcome.write_off_id, "sup-ana", False, "twice")


async def test_an_approval_after_the_units_moved_is_refused_and_a_rejection_books_nothing():
    uow = FakeWarehouseUnitOfWork(returned())
    await decided(uow, "vendor_return", 4)  # no unit cost known: every scrap waits
    first = await recovery.scrap(uow, "BER1", "SKU", "RET-1", StockStatus.vendor_return, 3, None, None, "sup-kim",
                                 THRESHOLD)
    second = await recovery.scrap(uow, "BER1", "SKU", "RET-1", StockStatus.vendor_return, 3, None, None, "sup-kim",
                                  THRESHOLD)
    await recovery.decide_write_off(uow, first.write_off_id, "sup-ana", True, None)
    with pytest.raises(Conflict, match="moved since .* 2 short"):
        await recovery.decide_write_off(uow, second.write_off_id, "sup-ana", True, None)
    await recovery.decide_write_off(uow, second.write_off_id, "sup-ana", False, "units gone")
    assert uow.warehouse.write_off_decisions[second.write_off_id] == ("rejected", "sup-ana", "units gone")
    assert uow.warehouse.balances[("SKU", Place("BER1", "RET-1", StockStatus.vendor_return))] == 1


async def test_quarantined_units_wait_for_a_qa_decision_and_hazardous_ones_are_scrapped_with_a_disposal_record():
    uow = FakeWarehouseUnitOfWork(returned())
    await costs(uow, "5.00")
    await decided(uow, "quarantine", 4, hazardous=True, category="batteries")
    assert uow.warehouse.hazards == {("SKU", "BER1"): "batteries"}
    raised, = payloads(uow, "WarehouseExceptionChanged")
    assert (raised["exception_id"], raised["kind"], raised["status"], raised["location"], raised["quantity"]) == (
        "RMA-1/SKU", "qa_decision", "open", "Q-1", 4)

    with pytest.raises(Invalid) as refused:
        await recovery.decide_qa(uow, "BER1", "SKU", "Q-1", 1, "scrap", None, None, None, "qa-lee", THRESHOLD)
    assert refused.value.problems[0].field == "disposal"
    with pytest.raises(Invalid) as refused:  # sellable only in a storage bin
        await recovery.decide_qa(uow, "BER1", "SKU", "Q-1", 1, "sellable", None, None, None, "qa-lee", THRESHOLD)
    assert refused.value.problems[0].field == "to_location"
    with pytest.raises(Conflict, match="3 short"):
        await recovery.decide_qa(uow, "BER1", "SKU", "Q-1", 7, "refurbish", None, None, None, "qa-lee", THRESHOLD)

    await recovery.decide_qa(uow, "BER1", "SKU", "Q-1", 1, "scrap", "leaking", None, DISPOSAL, "qa-lee", THRESHOLD)
    await recovery.decide_qa(uow, "BER1", "SKU", "Q-1", 3, "sellable", "fine", "A-01", None, "qa-lee", THRESHOLD)
    scrapped, released = payloads(uow, "RecoveryStockMoved")
    assert (scrapped["action"], scrapped["disposal"]["facility"], scrapped["decided_by"]) == (
        "scrapped", "EcoCycle GmbH", "qa-lee")
    assert (released["action"], released["from_status"], released["to_status"], released["decided_by"]) == (
        "qa_released", "quarantined", "sellable", "qa-lee")
    resolved = payloads(uow, "WarehouseExceptionChanged")[-1]
    assert (resolved["exception_id"], resolved["status"], resolved["actor"], resolved["quantity"]) == (
        "RMA-1/SKU", "resolved", "qa-lee", 3)
    assert uow.warehouse.balances[("SKU", Place("BER1", "A-01", StockStatus.sellable))] == 3
    assert [row["note"] for row in uow.warehouse.actions] == ["leaking", "fine"]


async def test_refurbished_units_become_their_graded_variant():
    uow = FakeWarehouseUnitOfWork(returned())
    await decided(uow, "refurbish", 2)
    with pytest.raises(Invalid) as refused:
        await recovery.refurbish(uow, "BER1", "SKU", "RET-1", 2, True, "SKU-B", "A-01", None, "sup-kim", THRESHOLD)
    assert refused.value.problems[0].field == "variant_sku"
    await recovery.define_graded_variant(uow, GradedVariant("SKU-B", "SKU", "B", Decimal("15.00"), "EUR",
                                                            ["outlet"]), "sup-kim")
    defined, = payloads(uow, "GradedVariantDefined")
    assert (defined["base_sku"], defined["list_price"], defined["channels"], defined["defined_by"]) == (
        "SKU", "15.00", ["outlet"], "sup-kim")
    with pytest.raises(Invalid) as refused:
        await recovery.refurbish(uow, "BER1", "SKU", "NOWHERE", 2, True, None, None, None, "sup-kim", THRESHOLD)
    assert refused.value.problems[0].field == "location"
    await recovery.refurbish(uow, "BER1", "SKU", "RET-1", 2, True, "SKU-B", "A-01", None, "sup-kim", THRESHOLD)
    moved, = payloads(uow, "RecoveryStockMoved")
    assert (moved["sku"], moved["to_sku"], moved["to_status"]) == ("SKU", "SKU-B", "sellable")
    assert uow.warehouse.balances[("SKU-B", Place("BER1", "A-01", StockStatus.sellable))] == 2
    levels = {event["sku"]: event["sellable_on_hand"] for event in payloads(uow, "StockLevelChanged")}
    assert levels["SKU-B"] == 2


async def test_vendor_return_units_leave_by_scans_against_the_authorization():
    uow = FakeWarehouseUnitOfWork(returned())
    await decided(uow, "vendor_return", 3)
    with pytest.raises(Conflict, match="1 short"):
        await recovery.authorize_vendor_return(uow, "RTV-1", "V-9", "BER1", [("SKU", 2), ("SKU", 2)], None,
                                               "sup-kim")
    with pytest.raises(Invalid) as refused:
        await recovery.authorize_vendor_return(uow, "RTV-1", "V-9", "XXX", [("SKU", 1)], None, "sup-kim")
    assert refused.value.problems[0].field == "node"
    await recovery.authorize_vendor_return(uow, "RTV-1", "V-9", "BER1", [("SKU", 2)], "CLM-1", "sup-kim")
    picker = Principal("op-3", "op-3", frozenset({WAREHOUSE_OPERATOR}), None, {})

    def rtv_scan(scan_id, kind, quantity, location, reference="RTV-1"):
        return Scan(scan_id=scan_id, device_id="dev7", warehouse_id="BER1", scanned_at=NOW, kind=kind, sku="SKU",
                    quantity=quantity, location=location, reference=reference)

    for scan, outcome in ((rtv_scan("v1", "pick", 2, "RET-1"), "applied"),
                          (rtv_scan("v2", "pick", 1, "RET-1"), "refused"),  # over the authorization
                          (rtv_scan("v3", "pick", 1, "A-01", "RTV-9"), "refused"),  # unknown authorization
                          (rtv_scan("v4", "pack", 2, "PACK"), "applied"),
                          (rtv_scan("v5", "ship", 2, "SHIP"), "applied")):
        assert (await take_scan_by(uow, scan, picker, 0)).outcome == outcome
    assert [(p["action"], p["to_status"], p["vendor_id"], p["reference"], p["decided_by"])
            for p in payloads(uow, "RecoveryStockMoved")] == [
        ("rtv_picked", "vendor_return", "V-9", "RTV-1", "op-3"),
        ("rtv_packed", "vendor_return", "V-9", "RTV-1", "op-3"), ("rtv_shipped", None, "V-9", "RTV-1", "op-3")]
    line = uow.warehouse.rtvs["RTV-1"].lines["SKU"]
    assert (line.picked, line.packed, line.shipped) == (2, 2, 2)
    assert uow.warehouse.exceptions["v2"]["reason"] == "over_pick"
    assert uow.warehouse.exceptions["v3"]["reason"] == "unknown_task"


async def test_a_return_label_paid_by_the_retailer_reaches_return_received():
    uow = FakeWarehouseUnitOfWork(returned(0))
    await follow_returns(uow, received(ReturnAuthorized(
        rma_id="RMA-1", order_id="o1", channel="web-eu", node="BER1", authorized_at=NOW,
        lines=[ReturnLine(line_id="1", sku="SKU", quantity=1)])))
    operator = Principal("op-3", "op-3", frozenset({WAREHOUSE_OPERATOR}), None, {})
    scan = Scan(scan_id="r1", device_id="dev7", warehouse_id="BER1", scanned_at=NOW, kind="return_receive",
                sku="SKU", quantity=1, location="RET-1", reference="RMA-1", condition="damaged",
                shipping_cost=Decimal("4.95"), currency="EUR")
    assert (await take_scan_by(uow, scan, operator, 0)).outcome == "applied"
    arrived, = payloads(uow, "ReturnReceived")
    assert (arrived["shipping_cost"], arrived["currency"]) == ("4.95", "EUR")
    no_currency = scan.model_copy(update={"scan_id": "r2", "currency": None})
    result = await take_scan_by(uow, no_currency, operator, 0)
    assert (result.outcome, result.reason) == ("refused", "missing_currency")
