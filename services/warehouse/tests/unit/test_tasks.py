"""Pick tasks follow the order's allocation; picked units stay picked."""

from datetime import date

from warehouse_service.domain.ledger import Place, StockStatus
from warehouse_service.domain.tasks import PickTask, TaskStatus, pick_order, sync_tasks


def new_task(line_id, node, sku, units):
    return PickTask(f"t-{line_id}-{node}", "o1", line_id, node, sku, units)


def test_tasks_are_created_resized_and_cancelled_with_the_allocation():
    created = sync_tasks([], {("1", "BER1"): ("A", 3), ("2", "HAM1"): ("B", 1)}, new_task)
    assert [(t.id, t.quantity) for t in created] == [("t-1-BER1", 3), ("t-2-HAM1", 1)]
    first, second = created
    first.pick(1)
    # Re-sourced: line 1 now 1 unit at BER1 (the one picked), line 2 moved from HAM1 to BER1.
    touched = sync_tasks(created, {("1", "BER1"): ("A", 1), ("2", "BER1"): ("B", 1)}, new_task)
    assert [(t.id, t.quantity, t.status) for t in touched] == [
        ("t-1-BER1", 1, TaskStatus.done), ("t-2-HAM1", 1, TaskStatus.cancelled), ("t-2-BER1", 1, TaskStatus.open)]
    assert second.quantity == 1  # a cancelled task keeps what it was for


def test_released_orders_keep_what_was_picked():
    task = new_task("1", "BER1", "A", 3)
    task.pick(2)
    sync_tasks([task], {}, new_task)
    assert (task.quantity, task.picked, task.status) == (2, 2, TaskStatus.done)


def test_expiry_controlled_units_are_picked_first_expiry_first_out_and_never_expired():
    today = date(2026, 12, 1)
    held = [(Place("BER1", "A-01", StockStatus.sellable, "L3", None, date(2027, 2, 1)), 9),
            (Place("BER1", "A-02", StockStatus.sellable, "L1", None, date(2026, 11, 30)), 5),  # expired
            (Place("BER1", "A-03", StockStatus.sellable, "L2", None, date(2026, 12, 1)), 1),
            (Place("BER1", "A-04", StockStatus.sellable, "L4", None, date(2026, 12, 1)), 3)]
    assert [place.lot for place in pick_order(held, True, today)] == ["L4", "L2", "L3"]
    # Without expiry control: the fullest place first, expired units still never.
    assert [place.lot for place in pick_order(held, False, today)] == ["L3", "L4", "L2"]
    assert pick_order([], True, today) == []
