"""Inbound supply, backorder promises and soft reservations through the service layer, against in-memory fakes:
what each use case stores, announces and commits. No Kafka, no database."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from allocation_service.adapters.fakes import FakeAllocationStore, FakeAllocationUnitOfWork
from allocation_service.domain.soft_reservations import ShortOfStock, SoftReservationStatus
from allocation_service.domain.stock import StockPosition
from allocation_service.service_layer import reconcile, soft_reservations
from allocation_service.service_layer.allocation import take_order_events
from allocation_service.service_layer.supply import take_purchase_orders, take_transfers, wants_purchase_order
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.supply import PurchaseOrderChanged
from ecomops_common.contracts.warehouse import TransferChanged
from ecomops_common.errors import Conflict, Invalid
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
D1, D2 = date(2026, 12, 3), date(2026, 12, 10)


def placed(order_id: str, lines=(("1", "A", 2),), reservation_id: str | None = None, **changes) -> OrderPlaced:
    message = OrderPlaced.model_validate(order_placed(order_id, list(lines), **changes).payload)
    return message.model_copy(update={"reservation_id": reservation_id})


def purchase_order(revision: int, status: str = "sent", quantity: int = 10, received_units: int = 0,
                   expected: date = D1, po_id: str = "po1", sku: str = "A") -> PurchaseOrderChanged:
    return PurchaseOrderChanged.model_validate({
        "po_id": po_id, "revision": revision, "vendor_id": "v1", "node": "WH1", "status": status,
        "currency": "EUR", "total": "100.00", "expected_date": expected, "created_by": "bob", "reason": "sent",
        "changed_by": "bob", "changed_at": NOW + timedelta(minutes=revision),
        "lines": [{"line_id": "1", "sku": sku, "quantity": quantity, "received": received_units,
                   "unit_cost": Decimal("10"), "expected_date": expected}]})


def promise_changes(uow: FakeAllocationUnitOfWork) -> list[tuple]:
    return [(e.aggregate_id, e.payload["line_id"], e.payload["previous_date"], e.payload["promised_date"],
             e.payload["reason"]) for e in uow.events("BackorderPromiseChanged")]


def latest_availability(uow: FakeAllocationUnitOfWork, sku: str) -> dict:
    return [e.payload for e in uow.events("AvailabilityChanged") if e.payload["sku"] == sku][-1]


async def backordered_uow(*orders: OrderPlaced) -> FakeAllocationUnitOfWork:
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=0)]))
    await take_order_events(uow, received(*orders))
    uow.published.clear()
    return uow


def test_draft_purchase_orders_are_skipped_before_any_transaction():
    assert not wants_purchase_order(purchase_order(1, status="draft"))
    assert wants_purchase_order(purchase_order(2, status="approved"))


async def test_inbound_promises_dates_to_waiting_backorders_and_slips_are_announced_with_their_cause():
    uow = await backordered_uow(placed("o1", [("1", "A", 4)]), placed("o2", [("1", "A", 4)],
                                                                      placed_at="2026-11-20T11:00:00Z"))
    await take_purchase_orders(uow, received(purchase_order(1, quantity=6)))
    # o1 is first in the queue and covered by D1; o2 is not covered, but takes the 2 left when they come.
    assert promise_changes(uow) == [("o1", "1", None, "2026-12-03", "supply_earlier")]
    assert latest_availability(uow, "A")["nodes"][0]["inbound"] == []
    await take_purchase_orders(uow, received(purchase_order(1, quantity=5, po_id="po2", expected=D2)))
    assert promise_changes(uow)[-1] == ("o2", "1", None, "2026-12-10", "supply_earlier")
    assert latest_availability(uow, "A")["nodes"][0]["inbound"] == [{"expected_date": "2026-12-10", "quantity": 3}]
    await take_purchase_orders(uow, received(purchase_order(2, status="cancelled", quantity=5, po_id="po2",
                                                            expected=D2)))
    assert promise_changes(uow)[-1] == ("o2", "1", "2026-12-10", None, "supply_cancelled")

    uow.published.clear()
    await take_purchase_orders(uow, received(purchase_order(2, quantity=6, expected=D2)))
    assert promise_changes(uow) == [("o1", "1", "2026-12-03", "2026-12-10", "supply_delayed")]

    uow.published.clear()
    await take_purchase_orders(uow, received(purchase_order(3, status="cancelled", quantity=6, expected=D2)))
    assert promise_changes(uow) == [("o1", "1", "2026-12-10", None, "supply_cancelled")]
    assert latest_availability(uow, "A")["nodes"][0]["inbound"] == []
    assert uow.commits == 6


async def test_an_older_revision_is_ignored_and_a_receipt_moves_no_promise():
    uow = await backordered_uow(placed("o1", [("1", "A", 4)]))
    await take_purchase_orders(uow, received(purchase_order(2, quantity=10)))
    uow.published.clear()
    await take_purchase_orders(uow, received(purchase_order(1, quantity=10, expected=D2)))
    assert uow.events() == [] and uow.commits == 3
    await take_purchase_orders(uow, received(purchase_order(3, status="partially_received", received_units=7)))
    assert promise_changes(uow) == []  # the stock arrives as a stock level and fills the backorder
    assert latest_availability(uow, "A")["nodes"][0]["inbound"] == []  # o1 takes the 3 still to come


async def test_a_closed_short_purchase_order_announces_supply_short():
    uow = await backordered_uow(placed("o1", [("1", "A", 4)]))
    await take_purchase_orders(uow, received(purchase_order(1, quantity=10)))
    uow.published.clear()
    await take_purchase_orders(uow, received(purchase_order(2, status="closed", received_units=2)))
    assert promise_changes(uow) == [("o1", "1", "2026-12-03", None, "supply_short")]


async def test_a_transfer_brings_its_unreceived_units_to_the_destination_node():
    uow = await backordered_uow(placed("o1", [("1", "A", 2)]))
    transfer = TransferChanged(reference="t-1", from_node="WH2", to_node="WH1", status="dispatched",
                               expected_date=D1, lines=[{"sku": "A", "quantity": 5, "received": 0}], at=NOW)
    await take_transfers(uow, received(transfer))
    assert promise_changes(uow) == [("o1", "1", None, "2026-12-03", "supply_earlier")]
    assert latest_availability(uow, "A")["nodes"][0]["inbound"] == [{"expected_date": "2026-12-03", "quantity": 3}]
    stale = transfer.model_copy(update={"expected_date": D2, "at": NOW - timedelta(seconds=1)})
    uow.published.clear()
    await take_transfers(uow, received(stale))
    assert uow.events() == []


async def test_a_new_backorder_carries_its_promise_and_one_that_jumps_the_queue_moves_the_others():
    uow = await backordered_uow(placed("o1", [("1", "A", 4)]))
    await take_purchase_orders(uow, received(purchase_order(1, quantity=4), purchase_order(
        1, quantity=4, expected=D2, po_id="po2")))
    uow.published.clear()
    await take_order_events(uow, received(placed("o-express", [("1", "A", 3)], service_level="express")))
    (backordered,) = uow.events("OrderBackordered")
    assert backordered.payload["backordered"] == [{"line_id": "1", "sku": "A", "quantity": 3,
                                                   "promised_date": "2026-12-03"}]
    assert promise_changes(uow) == [("o1", "1", "2026-12-03", "2026-12-10", "queue_changed")]


async def hold(uow, reservation_id="r1", lines=(("A", 3),), node=None, expires_in_s=900, channel="web-eu"):
    return await soft_reservations.hold(uow, reservation_id, channel, node, list(lines), expires_in_s, "cs-ana")


async def test_a_soft_reservation_takes_atp_and_is_resent_safely():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=5)]))
    reservation = await hold(uow)
    assert reservation.status is SoftReservationStatus.active and reservation.created_by == "cs-ana"
    node = latest_availability(uow, "A")["nodes"][0]
    assert (node["soft_reserved"], node["atp"]) == (3, 2)
    again = await hold(uow)
    assert again.expires_at == reservation.expires_at and uow.commits == 1
    with pytest.raises(Conflict):
        await hold(uow, lines=(("A", 1),))
    # An order cannot take the held units.
    await take_order_events(uow, received(placed("o1", [("1", "A", 3)])))
    assert uow.events("OrderAllocated")[-1].payload["status"] == "partially_allocated"


async def test_a_short_sku_holds_nothing_and_bad_fields_are_named():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=5),
                                                        StockPosition("B", "WH1", on_hand=1)]))
    with pytest.raises(ShortOfStock) as short:
        await hold(uow, lines=(("A", 2), ("B", 2)))
    assert short.value.skus == ("B",) and uow.commits == 0
    assert uow.allocation.positions["A", "WH1"].soft_reserved == 0
    with pytest.raises(Invalid) as invalid:
        await hold(uow, lines=(("A", 1), ("A", 1)), node="WH9")
    assert [p.field for p in invalid.value.problems] == ["lines.1.sku", "node"]


async def test_expired_soft_reservations_are_released_to_backorders_first():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=5)]))
    await hold(uow, lines=(("A", 5),), expires_in_s=1)
    await take_order_events(uow, received(placed("o1", [("1", "A", 2)])))
    assert uow.events("OrderBackordered")[-1].payload["order_id"] == "o1"
    assert await soft_reservations.expire_due(uow) == 0  # not due yet
    uow.allocation.soft["r1"].expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert await soft_reservations.expire_due(uow) == 1
    assert uow.allocation.soft["r1"].status is SoftReservationStatus.expired
    assert uow.allocation.soft["r1"].ended_by == "system:soft-reservation-expiry"
    assert uow.events("OrderAllocated")[-1].payload["reason"] == "backorder_filled"
    node = latest_availability(uow, "A")["nodes"][0]
    assert (node["soft_reserved"], node["reserved"], node["atp"]) == (0, 2, 3)


async def test_reconciliation_checks_the_soft_reserved_counters_against_the_active_holds():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=5)]))
    await hold(uow)
    await hold(uow, reservation_id="r2", lines=(("A", 1),))
    await soft_reservations.release(uow, uow.allocation.soft["r2"], "sup-jane")  # ended: holds nothing any more
    assert await reconcile.reconcile(uow) == []
    uow.allocation.positions["A", "WH1"].soft_reserved = 4  # a counter gone wrong
    assert await reconcile.reconcile(uow) == [reconcile.Drift("A", "WH1", 4, 3, counter="soft_reserved")]


async def test_releasing_by_a_caller_records_them_and_a_second_release_changes_nothing():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=5)]))
    reservation = await hold(uow)
    released = await soft_reservations.release(uow, reservation, "sup-jane")
    assert (released.status, released.ended_by) == (SoftReservationStatus.released, "sup-jane")
    assert uow.allocation.positions["A", "WH1"].soft_reserved == 0
    again = await soft_reservations.release(uow, reservation, "sup-other")
    assert again.ended_by == "sup-jane"


async def test_an_order_converts_its_soft_reservation_and_takes_its_units_in_one_transaction():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=3)]))
    await hold(uow, channel="web-eu")
    commits = uow.commits
    await take_order_events(uow, received(placed("o1", [("1", "A", 3)], reservation_id="r1")))
    assert uow.commits == commits + 1
    assert uow.events("OrderAllocated")[-1].payload["status"] == "allocated"
    converted = uow.allocation.soft["r1"]
    assert (converted.status, converted.order_id) == (SoftReservationStatus.converted, "o1")
    assert (uow.allocation.positions["A", "WH1"].soft_reserved, uow.allocation.positions["A", "WH1"].reserved) == (0, 3)


async def test_an_expired_or_foreign_soft_reservation_converts_nothing():
    uow = FakeAllocationUnitOfWork(FakeAllocationStore([StockPosition("A", "WH1", on_hand=3)]))
    await hold(uow, channel="marketplace")
    await take_order_events(uow, received(placed("o1", [("1", "A", 3)], reservation_id="r1")))
    assert uow.events("OrderBackordered")[-1].payload["order_id"] == "o1"
    assert uow.allocation.soft["r1"].status is SoftReservationStatus.active
