"""The warehouse's progress in a batch: the statuses, stages and events one update at a time would give."""

from collections import Counter

import pytest

from ecomops_common.contracts.orders import OrderStatus
from ecomops_common.contracts.warehouse import OrderFulfilmentChanged
from ecomops_common.testing.fakes import FakeDelivery
from order_service.adapters.fakes import FakeOrders, FakeOrderUnitOfWork, order_row
from order_service.service_layer.fulfilment import record_warehouse_events
from order_service.service_layer.lifecycle import OrderNotFound

S = OrderStatus


def progress(order_id: str, stage: str, shipped: int = 0) -> FakeDelivery[OrderFulfilmentChanged]:
    event = OrderFulfilmentChanged(order_id=order_id, stage=stage, units=3, picked=3, packed=3, shipped=shipped)
    return FakeDelivery(event, f"e-{order_id}-{stage}", f"corr-{order_id}", f"00-{order_id}-01")


def stored_orders() -> FakeOrders:
    return FakeOrders([order_row("o1", S.allocated), order_row("o2", S.partially_allocated),
                       order_row("o3", S.released_to_warehouse), order_row("o4", S.awaiting_allocation),
                       order_row("o5", S.cancelled), order_row("o6", S.packed)], stages={"o3": "released_to_warehouse"})


BATCH = [
    progress("o1", "released_to_warehouse"), progress("o2", "picking"), progress("o1", "picking"),
    progress("o3", "packed"), progress("o4", "released_to_warehouse"), progress("o3", "picking"),  # late news
    progress("o5", "picking"), progress("o1", "packed"), progress("o6", "shipped", shipped=3),
    progress("o4", "picking"), progress("o6", "delivered", shipped=3),
]


def outcome(uow: FakeOrderUnitOfWork) -> tuple:
    """What the updates left: statuses, stages, the audit trail and the events, without their instants."""
    orders = uow.orders
    return ({order_id: row["status"] for order_id, row in orders.rows.items()}, orders.stages,
            # The fake's trail does not name the order: the events below show each order's moves in turn.
            Counter((t.from_status, t.to_status, t.actor, t.reason) for t in orders.transitions),
            [(topic, e.aggregate_id, e.payload, e.causation_id, e.correlation_id, e.traceparent)
             for topic, e in uow.published])


async def test_a_batch_gives_what_one_update_at_a_time_gives():
    batched = FakeOrderUnitOfWork(stored_orders())
    await record_warehouse_events(batched, BATCH)
    one_by_one = FakeOrderUnitOfWork(stored_orders())
    for update in BATCH:
        await record_warehouse_events(one_by_one, [update])
    assert batched.commits == 1 and one_by_one.commits == len(BATCH)
    assert outcome(batched) == outcome(one_by_one)

    statuses, stages, transitions, events = outcome(batched)
    assert statuses == {"o1": "packed", "o2": "picking", "o3": "packed", "o4": "awaiting_allocation",
                        "o5": "cancelled", "o6": "delivered"}
    # The stage as last reported, also where the order cannot follow it yet (o4: the allocation follower catches
    # up with it) or any more (o5).
    assert stages == {"o1": "packed", "o2": "picking", "o3": "picking", "o4": "picking", "o5": "picking",
                      "o6": "delivered"}
    assert transitions == Counter({
        (S.allocated, S.released_to_warehouse, "warehouse", None): 1,
        (S.partially_allocated, S.released_to_warehouse, "warehouse", None): 1,
        (S.released_to_warehouse, S.picking, "warehouse", None): 3,
        (S.picking, S.packed, "warehouse", None): 2,
        (S.packed, S.shipped, "warehouse", "3/3 units shipped"): 1,
        (S.shipped, S.delivered, "warehouse", None): 1,
    })
    announced = [(order_id, payload["from_status"], payload["to_status"], causation) for
                 _, order_id, payload, causation, _, _ in events]
    assert announced == [
        ("o1", "allocated", "released_to_warehouse", "e-o1-released_to_warehouse"),
        ("o2", "partially_allocated", "released_to_warehouse", "e-o2-picking"),
        ("o2", "released_to_warehouse", "picking", "e-o2-picking"),
        ("o1", "released_to_warehouse", "picking", "e-o1-picking"),
        ("o3", "released_to_warehouse", "picking", "e-o3-packed"),
        ("o3", "picking", "packed", "e-o3-packed"),
        ("o1", "picking", "packed", "e-o1-packed"),
        ("o6", "packed", "shipped", "e-o6-shipped"),
        ("o6", "shipped", "delivered", "e-o6-delivered"),
    ]
    assert {(topic, correlation, traceparent) for topic, order_id, _, _, correlation, traceparent in events
            if order_id == "o6"} == {("order.events.v1", "corr-o6", "00-o6-01")}


async def test_an_unknown_order_fails_the_batch():
    uow = FakeOrderUnitOfWork(stored_orders())
    with pytest.raises(OrderNotFound, match="no order nope"):
        await record_warehouse_events(uow, [progress("o1", "picking"), progress("nope", "picking")])
    assert not uow.commits and not uow.published
