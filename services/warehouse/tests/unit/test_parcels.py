"""Parcels: packed once every allocated unit of the order at the node is, shipped under their label."""

from datetime import UTC, datetime
from decimal import Decimal

from warehouse_service.domain.parcels import Label, labelled, packed_lines, parcel_id
from warehouse_service.domain.scans import ScanCommand
from warehouse_service.domain.tasks import PickTask, TaskStatus

LABEL = Label("o1@BER1", "dhl", "TRK-1", Decimal("6.90"), "EUR")


def task(task_id, sku, quantity, packed, status=TaskStatus.open) -> PickTask:
    return PickTask(task_id, "o1", task_id, "BER1", sku, quantity, picked=packed, packed=packed, status=status)


def ship(**changes) -> ScanCommand:
    return ScanCommand(**{"scan_id": "s1", "device_id": "dev7", "operator_id": "op", "node": "BER1",
                          "scanned_at": datetime(2026, 12, 1, tzinfo=UTC), "kind": "ship", "sku": "A", "quantity": 1,
                          "location": "SHIP-1", "reference": "t1", **changes})


def test_a_parcel_is_packed_when_every_allocated_unit_of_the_order_at_the_node_is():
    assert parcel_id("o1", "BER1") == "o1@BER1"
    assert packed_lines([task("t1", "A", 2, 2), task("t2", "B", 1, 0)]) is None
    assert packed_lines([task("t1", "A", 2, 2), task("t2", "A", 1, 1), task("t3", "B", 1, 1),
                         task("t4", "C", 4, 0, TaskStatus.cancelled)]) == {"A": 3, "B": 1}
    assert packed_lines([task("t4", "C", 4, 0, TaskStatus.cancelled)]) is None  # nothing allocated there


def test_a_ship_scan_takes_what_it_does_not_say_from_the_label_and_the_cost_once():
    taken = labelled(ship(), LABEL)
    assert (taken.tracking_number, taken.carrier, taken.shipping_cost, taken.currency) == (
        "TRK-1", "dhl", Decimal("6.90"), "EUR")
    again = labelled(ship(scan_id="s2"), Label(**{**vars(LABEL), "cost_charged": True}))
    assert (again.tracking_number, again.shipping_cost) == ("TRK-1", None)
    own_cost = labelled(ship(shipping_cost=Decimal("5"), currency="USD", carrier="ups"), LABEL)
    assert (own_cost.carrier, own_cost.shipping_cost, own_cost.currency) == ("ups", Decimal("5"), "USD")
    assert labelled(ship(tracking_number="OTHER"), LABEL) == ship(tracking_number="OTHER")  # another label
    assert labelled(ship(), None) == ship()
