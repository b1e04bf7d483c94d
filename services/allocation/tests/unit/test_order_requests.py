"""What the order service's news asks of allocation, decided in the domain."""

import pytest

from allocation_service.domain.requests import OrderRequests, concerns_allocation
from ecomops_common.contracts.orders import OrderStatus


def test_a_placed_order_awaiting_allocation_is_allocated_any_other_is_held(make_demand):
    requests = OrderRequests()
    assert requests.order_placed(make_demand(order_id="free"), "awaiting_allocation")
    assert requests.order_placed(make_demand(order_id="held"), "on_hold")
    assert [(demand.order_id, held) for demand, held in requests.placed] == [("free", False), ("held", True)]


@pytest.mark.parametrize("to_status", list(OrderStatus))
def test_only_released_holds_cancellations_and_rejections_ask_something(to_status):
    requests = OrderRequests()
    asks = requests.status_changed("o1", to_status.value)
    expected = {OrderStatus.awaiting_allocation: ({"o1"}, {}),
                OrderStatus.cancelled: (set(), {"o1": "cancelled"}),
                OrderStatus.rejected: (set(), {"o1": "rejected"})}.get(to_status)
    assert asks is (expected is not None)
    assert (requests.to_allocate, requests.to_release) == (expected or (set(), {}))


@pytest.mark.parametrize("to_status", list(OrderStatus))
def test_a_status_concerns_allocation_exactly_when_changing_to_it_asks_something(to_status):
    """One rule: the consumer skips, before any transaction, the status changes the domain would not act on."""
    assert concerns_allocation(to_status.value) is OrderRequests().status_changed("o1", to_status.value)
    assert concerns_allocation(to_status.value) is (to_status in {
        OrderStatus.awaiting_allocation, OrderStatus.cancelled, OrderStatus.rejected})
