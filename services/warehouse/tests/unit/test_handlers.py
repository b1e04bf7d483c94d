"""The service layer's handlers and commands on in-memory fakes: what is stored, published and committed, and
what is refused (no Kafka, no PostgreSQL)."""

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from ecomops_common.auth import CARRIER, DEVICE, SUPERVISOR, WAREHOUSE_OPERATOR, Principal
from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided, ReturnLine
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.errors import Conflict, Forbidden, Invalid, NotFound
from ecomops_common.testing.fakes import received
from warehouse_service.adapters.fakes import FakeWarehouse, FakeWarehouseUnitOfWork
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Place, StockStatus
from warehouse_service.domain.scans import CountVariance
from warehouse_service.domain.tasks import PickTask
from warehouse_service.domain.waves import Wave, WaveAlreadyReleased, WaveRules, WaveStatus
from warehouse_service.service_layer import admin, counting, progress, tasks, transfers
from warehouse_service.service_layer.callers import node_filter
from warehouse_service.service_layer.returns import follow_returns
from warehouse_service.service_layer.scanning import (
    approve_scan_exception,
    resolve_scan_exception,
    take_scan_by,
    take_scans,
)

NOW = datetime.now(UTC)
BIN = Place("BER1", "A-01-03", StockStatus.sellable)
LAYOUT = [Location("BER1", "DOCK-IN", LocationKind.receiving), Location("BER1", "A-01-03", LocationKind.storage),
          Location("BER1", "Q-1", LocationKind.quarantine)]


def caller(subject: str, *roles: str, **claims) -> Principal:
    return Principal(subject, subject, frozenset(roles), None, claims)


PICKER = caller("op-15", WAREHOUSE_OPERATOR)
SCANNER = caller("scanner-ber1", DEVICE, node="BER1")


def stocked(units: int = 10) -> FakeWarehouse:
    warehouse = FakeWarehouse()
    warehouse.locations = {(loc.node, loc.code): loc for loc in LAYOUT}
    warehouse.balances[("SKU", BIN)] = units
    return warehouse


def scan(scan_id: str, kind: str, quantity: int, location: str = "DOCK-IN", **changes) -> Scan:
    return Scan(**{"scan_id": scan_id, "device_id": "dev7", "operator_id": "op-15", "warehouse_id": "BER1",
                   "scanned_at": NOW, "kind": kind, "sku": "SKU", "quantity": quantity, "location": location,
                   **changes})


def allocated(order_id: str, revision: int, quantity: int = 1) -> OrderAllocated:
    return OrderAllocated(order_id=order_id, channel="web-eu", status="allocated", revision=revision,
                          reason="placed", lines=[AllocatedLine(line_id="1", sku="SKU", node="BER1",
                                                                quantity=quantity)])


async def test_scans_apply_once_and_a_refused_one_waits_in_the_exception_queue():
    uow = FakeWarehouseUnitOfWork(stocked())
    await admin.expect_receipt(uow, "PO-1", "BER1", [("SKU", 5)], "sup-jane")
    receive = scan("s1", "receive", 3, reference="PO-1")
    await take_scans(uow, received(receive, receive, scan("s2", "receive", 1, location="NOWHERE")), 2)
    assert uow.commits == 2  # the receipt, then the batch
    assert [(m.sku, m.quantity, m.target.location) for m in uow.warehouse.movements] == [("SKU", 3, "DOCK-IN")]
    assert uow.warehouse.expected_receipts["PO-1"].received == {"SKU": 3}
    (level,) = uow.events("StockLevelChanged")
    assert level.payload["on_hand_by_status"] == {"sellable": 10, "received_pending_putaway": 3}
    refused = uow.warehouse.exceptions["s2"]
    assert (refused["reason"], Scan.model_validate_json(refused["scan"]).location) == ("unknown_location", "NOWHERE")
    assert refused["scanned_by"] == "op-15"

    await take_scans(uow, received(receive), 2)  # redelivered: a duplicate
    assert len(uow.warehouse.movements) == 1 and len(uow.events("StockLevelChanged")) == 1


async def test_a_scan_exception_is_resolved_once():
    uow = FakeWarehouseUnitOfWork(stocked())
    await take_scans(uow, received(scan("s1", "receive", 1, location="NOWHERE")), 2)
    await resolve_scan_exception(uow, "s1", "supervisor:jane", "rescanned")
    assert (uow.warehouse.exceptions["s1"]["resolved_by"], uow.warehouse.exceptions["s1"]["decision"]) == (
        "supervisor:jane", "resolved")
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
    receipt = await admin.expect_receipt(uow, "PO-1", "BER1", [("SKU", 2), ("SKU", 3), ("OTHER", 1)], "sup-jane")
    assert receipt.expected == {"SKU": 5, "OTHER": 1} and uow.commits == 1
    assert uow.warehouse.expected_receipts["PO-1"].created_by == "sup-jane"
    with pytest.raises(Conflict, match="receipt PO-1 exists"):
        await admin.expect_receipt(uow, "PO-1", "BER1", [("SKU", 1)], "sup-jane")


async def test_a_transfer_moves_units_in_transit_or_is_refused_whole():
    uow = FakeWarehouseUnitOfWork(stocked(4))
    dispatch = partial(transfers.dispatch_transfer, uow, "T-1", "BER1", expected_date=None, transfer_days=2)
    with pytest.raises(Conflict, match="two different nodes"):
        await dispatch("BER1", [("SKU", "A-01-03", 1)], "op")
    with pytest.raises(Conflict, match="asked for 5, only 4 there"):
        await dispatch("HAM1", [("SKU", "A-01-03", 5)], "op")
    with pytest.raises(Invalid) as invalid:
        await transfers.dispatch_transfer(uow, "T-1", "BER1", "HAM1", [("SKU", "A-01-03", 1)], "op",
                                          expected_date=NOW.date() - timedelta(days=1), transfer_days=2)
    assert [problem.field for problem in invalid.value.problems] == ["expected_date"]
    assert not uow.commits and not uow.warehouse.movements
    receipt = await dispatch("HAM1", [("SKU", "A-01-03", 3)], "op")
    assert (receipt.node, receipt.transfer_from, receipt.expected) == ("HAM1", "BER1", {"SKU": 3})
    assert uow.warehouse.balances[("SKU", BIN)] == 1
    assert {e.payload["node"]: e.payload["sellable_on_hand"] for e in uow.events("StockLevelChanged")} == {
        "BER1": 1, "HAM1": 0}
    (changed,) = uow.events("TransferChanged")  # due two days after dispatch, as none was asked for
    assert changed.payload["status"] == "dispatched" and changed.payload["lines"] == [
        {"sku": "SKU", "quantity": 3, "received": 0}]
    assert changed.payload["expected_date"] == (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    with pytest.raises(Conflict, match="a receipt or transfer T-1 exists"):
        await dispatch("HAM1", [("SKU", "A-01-03", 1)], "op")


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
    for approve in (True, False):  # the counter decides neither way
        with pytest.raises(Forbidden, match="op-15 counted c1: another supervisor decides") as refused:
            await counting.decide_count_variance(uow, "c1", "op-15", approve=approve)
        assert refused.value.reason == "segregation_of_duties"
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
        await tasks.report_short_pick(uow, "t1", "A-01-03", 5, PICKER, 5)
    assert await tasks.report_short_pick(uow, "t1", "A-01-03", 1, PICKER, 5) == tasks.ShortPickOutcome(3)
    assert warehouse.balances[("SKU", BIN)] == 1 and warehouse.movements[-1].actor == "op-15"
    (level,) = uow.events("StockLevelChanged")
    assert [(s["order_id"], s["line_id"], s["quantity"]) for s in level.payload["short_picked"]] == [("o1", "1", 3)]
    with pytest.raises(Conflict, match="no pick task nope"):
        await tasks.report_short_pick(uow, "nope", "A-01-03", 0, PICKER, 5)


async def test_a_large_short_pick_waits_for_another_supervisor_to_write_it_off():
    warehouse = stocked(10)
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 3)
    uow = FakeWarehouseUnitOfWork(warehouse)
    waiting = await tasks.report_short_pick(uow, "t1", "A-01-03", 2, PICKER, 5)  # 8 missing: more than 5
    assert waiting.short == 0 and waiting.waiting
    assert warehouse.balances[("SKU", BIN)] == 10 and not uow.events("StockLevelChanged")
    with pytest.raises(Conflict, match="waits for a supervisor already"):
        await tasks.report_short_pick(uow, "t1", "A-01-03", 2, caller("op-16", WAREHOUSE_OPERATOR), 5)

    with pytest.raises(Forbidden, match="op-15 reported short pick") as refused:
        await tasks.decide_short_pick(uow, waiting.waiting, "op-15", approve=True)
    assert refused.value.reason == "segregation_of_duties"
    assert await tasks.decide_short_pick(uow, waiting.waiting, "sup-kim", approve=True) == 3
    assert warehouse.balances[("SKU", BIN)] == 2 and warehouse.movements[-1].actor == "sup-kim"
    (level,) = uow.events("StockLevelChanged")
    assert [s["quantity"] for s in level.payload["short_picked"]] == [3]
    assert warehouse.short_pick_decisions[waiting.waiting] == ("approved", "sup-kim")
    with pytest.raises(NotFound, match="no undecided short pick"):
        await tasks.decide_short_pick(uow, waiting.waiting, "sup-kim", approve=False)


async def test_a_rejected_short_pick_leaves_the_books_and_an_approval_after_stock_moved_is_refused():
    warehouse = stocked(10)
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 3)
    uow = FakeWarehouseUnitOfWork(warehouse)
    first = await tasks.report_short_pick(uow, "t1", "A-01-03", 0, PICKER, 5)
    assert await tasks.decide_short_pick(uow, first.waiting, "sup-kim", approve=False) == 0
    assert warehouse.balances[("SKU", BIN)] == 10
    second = await tasks.report_short_pick(uow, "t1", "A-01-03", 0, PICKER, 5)
    warehouse.balances[("SKU", BIN)] = 4  # picked or moved meanwhile: 10 can no longer leave the bin
    with pytest.raises(Conflict, match="stock moved since the short pick"):
        await tasks.decide_short_pick(uow, second.waiting, "sup-kim", approve=True)


async def test_a_scanner_reports_short_picks_of_its_own_node_only():
    warehouse = stocked(5)
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 3)
    uow = FakeWarehouseUnitOfWork(warehouse)
    with pytest.raises(Forbidden, match="scanner of node HAM1, not BER1") as refused:
        await tasks.report_short_pick(uow, "t1", "A-01-03", 4, caller("scanner-ham1", DEVICE, node="HAM1"), 5)
    assert refused.value.reason == "node" and warehouse.balances[("SKU", BIN)] == 5
    assert (await tasks.report_short_pick(uow, "t1", "A-01-03", 4, SCANNER, 5)).short == 1


async def test_a_scanner_scans_at_its_own_node_only_and_the_caller_is_the_operator():
    uow = FakeWarehouseUnitOfWork(stocked())
    counted = scan("c1", "count", 9, location="A-01-03")  # operator_id op-15: not who is recorded
    for stranger in (caller("scanner-ham1", DEVICE, node="HAM1"), caller("scanner-none", DEVICE)):
        with pytest.raises(Forbidden) as refused:
            await take_scan_by(uow, counted, stranger, 0)
        assert refused.value.reason == "node"
    assert not uow.claimed  # a refused caller does not use the scan id up
    assert (await take_scan_by(uow, counted, SCANNER, 0)).outcome == "applied"
    assert uow.warehouse.variances["c1"].counted_by == "scanner-ber1"
    # Staff are not bound to a node: the scan is checked against that node's layout like any other.
    elsewhere = scan("h1", "count", 1, location="B-01", warehouse_id="HAM1")
    assert (await take_scan_by(uow, elsewhere, caller("sup-jane", SUPERVISOR), 0)).reason == "unknown_location"


def test_a_scanner_lists_its_own_nodes_tasks_only():
    assert node_filter(SCANNER, None) == node_filter(SCANNER, "BER1") == "BER1"
    with pytest.raises(Forbidden, match="not HAM1"):
        node_filter(SCANNER, "HAM1")
    assert node_filter(PICKER, "HAM1") == "HAM1" and node_filter(PICKER, None) is None


async def test_a_receive_without_an_expected_receipt_books_only_once_another_supervisor_approves():
    uow = FakeWarehouseUnitOfWork(stocked())
    result = await take_scan_by(uow, scan("u1", "receive", 100_000), PICKER, 0)
    assert (result.outcome, result.reason) == ("refused", "no_receipt")
    await take_scans(uow, received(scan("u2", "receive", 2, reference="PO-9")), 0)  # over Kafka: unknown receipt
    assert not uow.warehouse.movements

    with pytest.raises(Forbidden, match="op-15 scanned u1") as refused:
        await approve_scan_exception(uow, "u1", "op-15", "it is here")
    assert refused.value.reason == "segregation_of_duties"
    await approve_scan_exception(uow, "u2", "sup-kim", "delivery note 4711 checked")
    booked, = uow.warehouse.movements
    assert (booked.quantity, booked.target.location, booked.actor, booked.scan_id) == (2, "DOCK-IN", "sup-kim", "u2")
    assert uow.warehouse.exceptions["u2"]["decision"] == "approved"
    assert uow.events("StockLevelChanged")[-1].payload["on_hand_by_status"]["received_pending_putaway"] == 2
    with pytest.raises(NotFound, match="no open exception for scan u2"):
        await approve_scan_exception(uow, "u2", "sup-kim", "again")

    await resolve_scan_exception(uow, "u1", "sup-kim", "nothing arrived: rejected")
    assert uow.warehouse.exceptions["u1"]["decision"] == "resolved" and len(uow.warehouse.movements) == 1


async def test_only_a_receive_that_matched_no_receipt_is_approved():
    uow = FakeWarehouseUnitOfWork(stocked())
    await take_scans(uow, received(scan("s1", "receive", 1, location="NOWHERE", reference="PO-9")), 0)
    with pytest.raises(Conflict, match="a unknown_location exception has no units to book"):
        await approve_scan_exception(uow, "s1", "sup-kim", "booked")


async def test_only_a_shipped_order_is_confirmed_delivered():
    warehouse = FakeWarehouse()
    warehouse.orders = {"o1": {"revision": 1, "backordered": 0, "stage": "shipped"},
                        "o2": {"revision": 1, "backordered": 0, "stage": "picking"}}
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 2, picked=2, packed=2, shipped=2)
    uow = FakeWarehouseUnitOfWork(warehouse)
    await progress.confirm_delivery(uow, "o1", caller("sup-jane", SUPERVISOR))
    (delivered,) = uow.events("OrderFulfilmentChanged")
    assert (delivered.payload["stage"], delivered.payload["shipped"]) == ("delivered", 2)
    assert warehouse.orders["o1"]["stage"] == "delivered"
    for order_id, detail in (("o2", "order o2 is picking, not shipped"),
                             ("o3", "order o3 is unknown to the warehouse, not shipped")):
        with pytest.raises(Conflict, match=detail):
            await progress.confirm_delivery(uow, order_id, caller("sup-jane", SUPERVISOR))


async def test_a_carrier_confirms_the_delivery_of_parcels_it_took_only():
    warehouse = FakeWarehouse()
    warehouse.orders = {"o1": {"revision": 1, "backordered": 0, "stage": "shipped"}}
    warehouse.shipments[("o1", "1Z-7")] = {"order_id": "o1", "tracking_number": "1Z-7", "carrier": "dhl",
                                           "node": "BER1", "shipped_at": NOW}
    uow = FakeWarehouseUnitOfWork(warehouse)
    for stranger in (caller("carrier-ups", CARRIER, carrier="ups"), caller("carrier-none", CARRIER)):
        with pytest.raises(Forbidden, match="this order left with dhl") as refused:
            await progress.confirm_delivery(uow, "o1", stranger)
        assert refused.value.reason == "carrier"
    await progress.confirm_delivery(uow, "o1", caller("carrier-dhl", CARRIER, carrier="DHL"))
    assert warehouse.orders["o1"]["stage"] == "delivered"


# What the control service learns: every item a supervisor must decide (WarehouseExceptionChanged) when raised and
# when decided, and every count (CountRecorded).
EXCEPTION_FIELDS = ("exception_id", "kind", "status", "node", "sku", "location", "quantity", "reason", "actor")


def exceptions(uow: FakeWarehouseUnitOfWork) -> list[tuple[Any, ...]]:
    """The WarehouseExceptionChanged published, as (aggregate_id, *EXCEPTION_FIELDS); each with its time."""
    events = uow.events("WarehouseExceptionChanged")
    assert all(event.payload["at"] for event in events)
    assert {topic for topic, envelope in uow.published if envelope in events} <= {WAREHOUSE_EVENTS}
    return [(event.aggregate_id, *(event.payload[name] for name in EXCEPTION_FIELDS)) for event in events]


async def test_a_refused_scan_is_announced_open_and_then_resolved_by_the_supervisor():
    uow = FakeWarehouseUnitOfWork(stocked())
    await take_scans(uow, received(scan("s1", "putaway", 2, location="NOWHERE")), 0)
    assert exceptions(uow) == [
        ("s1", "s1", "scan_exception", "open", "BER1", "SKU", "NOWHERE", 2, "unknown_location", "op-15")]

    await resolve_scan_exception(uow, "s1", "sup-jane", "rescanned as s2")
    assert exceptions(uow)[1] == (
        "s1", "s1", "scan_exception", "resolved", "BER1", "SKU", "NOWHERE", 2, "unknown_location", "sup-jane")
    await take_scans(uow, received(scan("s1", "putaway", 2, location="NOWHERE")), 0)  # a resend: nothing new
    assert len(exceptions(uow)) == 2


async def test_a_receive_without_a_receipt_is_announced_open_and_then_approved():
    uow = FakeWarehouseUnitOfWork(stocked())
    await take_scan_by(uow, scan("u1", "receive", 7), PICKER, 0)
    await approve_scan_exception(uow, "u1", "sup-kim", "delivery note 4711 checked")
    assert exceptions(uow) == [
        ("u1", "u1", "scan_exception", "open", "BER1", "SKU", "DOCK-IN", 7, "no_receipt", "op-15"),
        ("u1", "u1", "scan_exception", "approved", "BER1", "SKU", "DOCK-IN", 7, "no_receipt", "sup-kim")]


async def test_every_count_is_recorded_once_and_a_variance_beyond_the_threshold_is_announced_until_decided():
    uow = FakeWarehouseUnitOfWork(stocked(10))
    task = await counting.create_count_task(uow, "BER1", "A-01-03", None, "sup-jane")
    counts = [scan("c1", "count", 10, location="A-01-03"), scan("c2", "count", 9, location="A-01-03"),
              scan("c3", "count", 3, location="A-01-03", reference=task.id)]
    await take_scans(uow, received(*counts, counts[0]), 2)  # as found; 1 short: adjusted; 6 short: a variance
    await take_scans(uow, received(scan("c4", "count", 1, location="NOWHERE")), 2)  # refused: no count
    recorded = [(e.aggregate_id, *(e.payload[name] for name in ("count_id", "node", "sku", "location", "expected",
                                                                 "counted", "task_id")))
                for e in uow.events("CountRecorded")]
    assert recorded == [("SKU@BER1", "c1", "BER1", "SKU", "A-01-03", 10, 10, None),
                        ("SKU@BER1", "c2", "BER1", "SKU", "A-01-03", 10, 9, None),
                        ("SKU@BER1", "c3", "BER1", "SKU", "A-01-03", 9, 3, task.id)]
    assert {datetime.fromisoformat(event.payload["counted_at"]) for event in uow.events("CountRecorded")} == {NOW}
    assert exceptions(uow) == [
        ("c3", "c3", "count_variance", "open", "BER1", "SKU", "A-01-03", -6, "count_variance", "op-15"),
        ("c4", "c4", "scan_exception", "open", "BER1", "SKU", "NOWHERE", 1, "unknown_location", "op-15")]

    await counting.decide_count_variance(uow, "c3", "sup-jane", approve=False)
    assert exceptions(uow)[-1] == (
        "c3", "c3", "count_variance", "rejected", "BER1", "SKU", "A-01-03", -6, "count_variance", "sup-jane")


async def test_an_approved_count_variance_is_announced_approved():
    uow = FakeWarehouseUnitOfWork(stocked(10))
    await take_scans(uow, received(scan("c1", "count", 14, location="A-01-03")), 2)
    await counting.decide_count_variance(uow, "c1", "sup-jane", approve=True)
    assert [(status, quantity, actor) for _, _, _, status, *_, quantity, _, actor in exceptions(uow)] == [
        ("open", 4, "op-15"), ("approved", 4, "sup-jane")]


async def test_a_short_pick_waiting_for_a_supervisor_is_announced_open_and_then_decided():
    warehouse = stocked(10)
    warehouse.pick_tasks["t1"] = PickTask("t1", "o1", "1", "BER1", "SKU", 3)
    uow = FakeWarehouseUnitOfWork(warehouse)
    await tasks.report_short_pick(uow, "t1", "A-01-03", 8, PICKER, 5)  # 2 missing: written off, nothing to decide
    assert not exceptions(uow)

    first = (await tasks.report_short_pick(uow, "t1", "A-01-03", 0, PICKER, 5)).waiting  # 8 missing: waits
    await tasks.decide_short_pick(uow, first, "sup-kim", approve=False)
    second = (await tasks.report_short_pick(uow, "t1", "A-01-03", 1, PICKER, 5)).waiting
    await tasks.decide_short_pick(uow, second, "sup-kim", approve=True)
    assert exceptions(uow) == [
        (first, first, "short_pick", "open", "BER1", "SKU", "A-01-03", 8, "short_pick", "op-15"),
        (first, first, "short_pick", "rejected", "BER1", "SKU", "A-01-03", 8, "short_pick", "sup-kim"),
        (second, second, "short_pick", "open", "BER1", "SKU", "A-01-03", 7, "short_pick", "op-15"),
        (second, second, "short_pick", "approved", "BER1", "SKU", "A-01-03", 7, "short_pick", "sup-kim")]
