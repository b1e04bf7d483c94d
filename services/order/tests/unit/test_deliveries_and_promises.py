"""Carriers' deliveries and backorder promise dates, in the service layer with fakes."""

from datetime import UTC, date, datetime

import pytest

from ecomops_common.contracts.allocation import BackorderPromiseChanged, OrderBackordered
from ecomops_common.contracts.orders import OrderStatus, OrderStatusChanged
from ecomops_common.contracts.shipping import TrackingUpdated
from ecomops_common.errors import NotFound
from ecomops_common.testing.fakes import FakeDelivery, received
from order_service.adapters.fakes import FakeOrders, FakeOrderUnitOfWork, order_row
from order_service.service_layer.allocation import record_allocations
from order_service.service_layer.fulfilment import delivers_an_order, record_deliveries

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
S = OrderStatus


def tracking(order_id: str | None = "o1", status: str = "delivered", order_delivered: bool = True,
             event_id: str = "ev-1") -> TrackingUpdated:
    return TrackingUpdated(event_id=event_id, tracking_number="TRK1", carrier="dhl", service="ground", status=status,
                           order_id=order_id, order_delivered=order_delivered, occurred_at=AT)


def test_only_an_orders_last_parcel_delivered_is_taken():
    assert delivers_an_order(tracking())
    assert not delivers_an_order(tracking(order_delivered=False))  # more parcels on their way
    assert not delivers_an_order(tracking(status="in_transit", order_delivered=False))
    assert not delivers_an_order(tracking(order_id=None))  # a return parcel


async def test_a_shipped_order_delivered_by_the_carrier_once():
    uow = FakeOrderUnitOfWork(FakeOrders([order_row("o1", S.shipped), order_row("o2", S.packed)]))
    await record_deliveries(uow, [FakeDelivery(tracking(), "ev-1", "corr-1"),
                                  FakeDelivery(tracking("o2", event_id="ev-2"), "ev-2")])
    await record_deliveries(uow, received(tracking(event_id="ev-3")))  # the carrier's news again: nothing new
    assert uow.orders.rows["o1"]["status"] == "delivered"
    assert uow.orders.rows["o2"]["status"] == "packed"  # not shipped: the carrier's word alone does not skip
    (event,) = uow.events("OrderStatusChanged")
    change = OrderStatusChanged.model_validate(event.payload)
    assert (change.from_status, change.to_status, change.actor) == (S.shipped, S.delivered, "carrier:dhl")
    assert change.reason == "dhl ground TRK1 delivered"
    assert (event.causation_id, event.correlation_id) == ("ev-1", "corr-1")


async def test_a_delivery_of_an_unknown_order_fails_to_be_dead_lettered():
    with pytest.raises(NotFound):
        await record_deliveries(FakeOrderUnitOfWork(), received(tracking("nope")))


def backordered(promised: date | None) -> OrderBackordered:
    return OrderBackordered(order_id="o1", channel="web-eu", status="backordered", revision=1, reason="placed",
                            lines=[], backordered=[{"line_id": "1", "sku": "A", "quantity": 2,
                                                    "promised_date": promised}])


def promise(promised: date | None, previous: date | None = date(2026, 12, 10)) -> BackorderPromiseChanged:
    return BackorderPromiseChanged(order_id="o1", line_id="1", sku="A", quantity=2, previous_date=previous,
                                   promised_date=promised, reason="supply_delayed", changed_at=AT)


async def test_backordered_lines_keep_their_promise_date_as_supply_moves_it():
    uow = FakeOrderUnitOfWork(FakeOrders([order_row("o1", S.awaiting_allocation)]))
    await record_allocations(uow, received(backordered(date(2026, 12, 10))))
    assert uow.orders.allocations["o1"].quantities[0].promised_date == date(2026, 12, 10)
    await record_allocations(uow, received(promise(date(2026, 12, 14))))
    assert uow.orders.allocations["o1"].quantities[0].promised_date == date(2026, 12, 14)
    await record_allocations(uow, received(promise(None, date(2026, 12, 14))))  # supply cancelled
    assert uow.orders.allocations["o1"].quantities[0].promised_date is None


async def test_a_promise_before_a_newer_allocation_in_the_batch_is_replaced_by_it():
    uow = FakeOrderUnitOfWork(FakeOrders([order_row("o1", S.awaiting_allocation)]))
    await record_allocations(uow, received(promise(date(2026, 12, 20)), backordered(date(2026, 12, 12))))
    assert uow.orders.allocations["o1"].quantities[0].promised_date == date(2026, 12, 12)
    await record_allocations(uow, received(promise(date(2026, 12, 20))))
    assert uow.orders.allocations["o1"].quantities[0].promised_date == date(2026, 12, 20)
