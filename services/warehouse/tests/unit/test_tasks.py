"""Pick tasks follow the order's allocation; picked units stay picked."""

from warehouse_service.domain.tasks import PickTask, TaskStatus, sync_tasks


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
