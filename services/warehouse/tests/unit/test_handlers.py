"""The service layer's handlers and commands on in-memory fakes: what is stored, published and committed, and
what is refused (no Kafka, no PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided, ReturnLine
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.errors import Conflict, Invalid, NotFound
from ecomops_common.testing.fakes import received
from warehouse_service.adapters.fakes import FakeWarehouse, FakeWarehouseUnitOfWork
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Place, StockStatus
from warehouse_service.domain.scans import CountVariance
from warehouse_service.domain.tasks import PickTask
from warehouse_service.domain.waves import Wave, WaveAlreadyReleased, WaveRules, WaveStatus
from warehouse_service.service_layer import admin, counting, progress, tasks, transfers
from warehouse_service.service_layer.returns import follow_returns
from warehouse_service.service_layer.scanning import resolve_scan_exception, take_scans

NOW = datetime.now(UTC)
BIN = Place("BER1", "A-01-03", StockStatus.sellable)
LAYOUT = [Location("BER1", "DOCK-IN", LocationKind.receiving), Location("BER1", "A-01-03", LocationKind.storage),
          Location("BER1", "Q-1", LocationKind.quarantine)]


def stocked(units: int = 10) -> FakeWarehouse:
    warehouse = FakeWarehouse()
    warehouse.locations = {(loc.node, loc.code): loc for loc in LAYOUT}
    warehouse.balances[("SKU", BIN)] = units
    return warehouse


def scan(scan_id: str, kind: str, quantity: int, location: str = "DOCK-IN", **changes) -> Scan:
    return Scan(scan_id=scan_id, device_id="dev7", operator_id="op-15", warehouse_id="BER1", scanned_at=NOW,
                kind=kind, sku="SKU", quantity=quantity, location=location, **changes)


def allocated(order_id: str, revision: int, quantity: int = 1) -> OrderAllocated:
    return OrderAllocated(order_id=order_id, channel="web-eu", status="allocated", revision=revision,
                          reason="placed", lines=[AllocatedLine(line_id="1", sku="SKU", node="BER1",
                                                                quantity=quantity)])


async def test_scans_apply_once_and_a_refused_one_waits_in_the_exception_queue():
    uow = FakeWarehouseUnitOfWork(stocked())
    await admin.expect_receipt(uow, "PO-1", "BER1", [("SKU", 5)])
    receive = scan("s1", "receive", 3, reference="PO-1")
    await take_scans(uow, received(receive, receive, scan("s2", "receive", 1, location="NOWHERE")), 2)
    assert uow.commits == 2  # the receipt, then the batch
    assert [(m.sku, m.quantity, m.target.location) for m in uow.warehouse.movements] == [("SKU", 3, "DOCK-IN")]
    assert uow.warehouse.expected_receipts["PO-1"].received == {"SKU": 3}
    (level,) = uow.events("StockLevelChanged")
    assert level.payload["on_hand_by_status"] == {"sellable": 10, "received_pending_putaway": 3}
    refused = uow.warehouse.exceptions["s2"]
    assert (refused["reason"], Scan.model_validate_json(refused["scan"]).location) == ("unknown_location", "NOWHERE")

    await take_scans(uow, received(receive), 2)  # redelivered: a duplicate
    assert len(uow.warehouse.movements) == 1 and len(uow.events("StockLevelChanged")) == 1


async def test_a_scan_exception_is_resolved_once():
    uow = FakeWarehouseUnitOfWork(stocked())
    await take_scans(uow, received(scan("s1", "receive", 1, location="NOWHERE")), 2)
    await resolve_scan_exception(uow, "s1", "supervisor:jane", "rescanned")
    assert uow.warehouse.exceptions["s1"]["resolved_by"] == "supervisor:jane"
    with pytest.raises(NotFound, match="no open exception for scan s1"):
        await resolve_scan_exception(uow, "s1", "supervisor:jane", "again")


async def test_allocations_make_pick_tasks_in_released_waves_and_announce_the_order():
    uow = FakeWarehouseUnitOfWork(stocked())
    await tasks.follow_allocations(uow, received(allocated("o1", 2, 3), allocated("o1", 1, 1)), WaveRules())
    (task,) = uow.warehouse.pick_tasks.values()
    assert (task.order_id, task.quantity, task.suggested_bin) == ("o1", 3, "A-01-03")
    assert uow.warehouse.waves[task.wave_id].status is WaveStatus.released  # size 1: released at once
    assert uow.warehouse.orders["o1"]["revision"] == 2
    (progressed,) = uow.events("OrderFulfilmentChanged")
    assert (progressed.payload["stage"], progressed.payload["units"]) == ("released_to_warehouse", 3)
    assert uow.commits == 1

    await tasks.follow_allocations(uow, received(allocated("o1", 2, 5)), WaveRules())  # not newer: nothing
    assert next(iter(uow.warehouse.pick_tasks.values())).quantity == 3 and len(uow.published) == 1


async def test_a_return_authorization_is_expected_and_its_disposition_applied():
    uow = FakeWarehouseUnitOfWork(stocked())
    authorized = ReturnAuthorized(rma_id="R1", order_id="o1", channel="web-eu", node="BER1", authorized_at=NOW,
                                  lines=[ReturnLine(line_id="1", sku="SKU", quantity=1)])
    await follow_returns(uow, received(authorized))
    rma = uow.warehouse.expected_receipts["R1"]
    assert rma.is_return and rma.expected == {"SKU": 1}
    unknown = ReturnDispositionDecided(rma_id="R9", sku="SKU", quantity=1, disposition="restock", decided_at=NOW)
    with pytest.raises(ValueError, match="unknown return authorization R9"):
        await follow_returns(uow, received(unknown))
    assert uow.commits == 1


async def test_a_receipt_reference_is_taken_once():
    uow = FakeWarehouseUnitOfWork()
    receipt = await admin.expect_receipt(uow, "PO-1", "BER1", [("SKU", 2), ("SKU", 3), ("OTHER", 1)])
    assert receipt.expected == {"SKU": 5, "OTHER": 1} and uow.commits == 1
    with pytest.raises(Conflict, match="receipt PO-1 exists"):
        await admin.expect_receipt(uow, "PO-1", "BER1", [("SKU", 1)])


async def test_a_transfer_moves_units_in_transit_or_is_refused_whole():
    uow = FakeWarehouseUnitOfWork(stocked(4))
    with pytest.raises(Conflict, match="two different nodes"):
        await transfers.dispatch_transfer(uow, "T-1", "BER1", "BER1", [("SKU", "A-01-03", 1)], "op")
    with pytest.raises(Conflict, match="asked for 5, only 4 there"):
        await transfers.dispatch_transfer(uow, "T-1", "BER1", "HAM1", [("SKU", "A-01-03", 5)], "op")
    assert not uow.commits and not uow.warehouse.movements
    receipt = await transfers.dispatch_transfer(uow, "T-1", "BER1", "HAM1", [("SKU", "A-01-03", 3)], "op")
    assert (receipt.node, receipt.transfer_from, receipt.expected) == ("HAM1", "BER1", {"SKU": 3})
    assert uow.warehouse.balances[("SKU", BIN)] == 1
    assert {e.payload["node"]: e.payload["sellable_on_hand"] for e in uow.events("StockLevelChanged")} == {
        "BER1": 1, "HAM1": 0}
    with pytest.raises(Conflict, match="a receipt or transfer T-1 exists"):
        await transfers.dispatch_transfer(uow, "T-1", "BER1", "HAM1", [("SKU", "A-01-03", 1)], "op")


async def test_a_count_task_names_a_location_or_a_sku_and_closes_once():
    uow = FakeWarehouseUnitOfWork()
    with pytest.raises(Invalid) as invalid:
        await counting.create_count_task(uow, "BER1", None, None, "sup")
    assert [(p.field, p.message) for p in invalid.value.problems] == [("location", "give a location, a sku or both")]
    task = await counting.create_count_task(uow, "BER1", "A-01-03", None, "sup")
    await counting.close_count_task(uow, task.id)
    assert uow.warehouse.count_tasks_by_id[task.id].status == "done"
    with pytest.raises(Conflict, match="is done"):
        await counting.close_count_task(uow, task.id)
    with pytest.raises(NotFound, match="no count task nope"):
        await counting.close_count_task(uow, "nope")


async def test_a_count_variance_is_decided_by_another_supervisor_and_approval_adjusts_the_books():
    warehouse = stocked(10)
    warehouse.variances["c1"] = CountVariance("c1", "SKU", BIN, expected=10, counted=4, counted_by="op-15")
    uow = FakeWarehouseUnitOfWork(warehouse)
    with pytest.raises(Conflict, match="another supervisor must decide"):
        await counting.decide_count_variance(uow, "c1", "op-15", approve=True)
    await counting.decide_count_variance(uow, "c1", "supervisor:jane", approve=True)
    assert warehouse.balances[("SKU", BIN)] == 4 and warehouse.decisions["c1"] == ("approved", "supervisor:jane")
    (adjusted,) = uow.events("StockAdjusted")
    assert (adjusted.payload["adjustment_id"], adjusted.payload["quantity"]) == ("variance:c1", -6)
    with pytest.raises(NotFound, match="no undecided count variance for scan c1"):
        await counting.decide_count_variance(uow, "c1", "supervisor:kim", approve=False)


async def test_waves_are_released_once_by_a_supervisor_or_when_due():
    warehouse = FakeWarehouse()
    warehouse.waves = {"w1": Wave("w1", "BER1", "standard", NOW + timedelta(hours=5)),
                       "w2": Wave("w2", "BER1", "express", NOW + timedelta(minutes=30))}
    uow = FakeWarehouseUnitOfWork(warehouse)
    await tasks.release_due_waves(uow, WaveRules(size=10))
    assert [w.id for w in warehouse.waves.values() if w.status is WaveStatus.released] == ["w2"]
    await tasks.release_wave(uow, "w1", "supervisor:jane")
    assert warehouse.waves["w1"].released_by == "supervisor:jane"
    with pytest.raises(WaveAlreadyReleased, match="wave w1 was released by supervisor:jane"):
        await tasks.release_wave(uow, "w1", "supervisor:kim")
    with pytest.raises(NotFound, match="no wave nope"):
        await tasks.release_wave(uow, "nope", "supervisor:kim")
    assert uow.commits == 2


async def test_a_short_pick_corrects_the_bin_and_tells_allocation_the_line():
    warehouse = stocked(5)
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 3)
    uow = FakeWarehouseUnitOfWork(warehouse)
    with pytest.raises(Conflict, match="nothing is missing there"):
        await tasks.report_short_pick(uow, "t1", "A-01-03", 5, "picker")
    assert await tasks.report_short_pick(uow, "t1", "A-01-03", 1, "picker") == 3
    assert warehouse.balances[("SKU", BIN)] == 1
    (level,) = uow.events("StockLevelChanged")
    assert [(s["order_id"], s["line_id"], s["quantity"]) for s in level.payload["short_picked"]] == [("o1", "1", 3)]
    with pytest.raises(Conflict, match="no pick task nope"):
        await tasks.report_short_pick(uow, "nope", "A-01-03", 0, "picker")


async def test_only_a_shipped_order_is_confirmed_delivered():
    warehouse = FakeWarehouse()
    warehouse.orders = {"o1": {"revision": 1, "backordered": 0, "stage": "shipped"},
                        "o2": {"revision": 1, "backordered": 0, "stage": "picking"}}
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 2, picked=2, packed=2, shipped=2)
    uow = FakeWarehouseUnitOfWork(warehouse)
    await progress.confirm_delivery(uow, "o1")
    (delivered,) = uow.events("OrderFulfilmentChanged")
    assert (delivered.payload["stage"], delivered.payload["shipped"]) == ("delivered", 2)
    assert warehouse.orders["o1"]["stage"] == "delivered"
    for order_id, detail in (("o2", "order o2 is picking, not shipped"),
                             ("o3", "order o3 is unknown to the warehouse, not shipped")):
        with pytest.raises(Conflict, match=detail):
            await progress.confirm_delivery(uow, order_id)
