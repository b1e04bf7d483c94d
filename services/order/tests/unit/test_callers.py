"""Who may act for an order's channel and who sees its customer's personal data, in the service layer with fakes."""

import pytest

from ecomops_common.auth import ADMIN, AUDITOR, CONNECTOR, CUSTOMER_SERVICE, FINANCE_CLERK, SUPERVISOR, Principal
from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.contracts.orders import HoldReason
from ecomops_common.errors import Forbidden
from order_service.adapters.fakes import EverySkuKnown, FakeOrders, FakeOrderUnitOfWork, order_row
from order_service.service_layer import lifecycle
from order_service.service_layer.callers import check_channel, order_document_for, readable_channels
from order_service.service_layer.intake import Submission, take_orders


def principal(subject: str, *roles: str, channels: tuple[str, ...] = ()) -> Principal:
    return Principal(subject=subject, name=subject, roles=frozenset(roles), client=None,
                     claims={"channels": list(channels)} if channels else {})


WEB_CONNECTOR = principal("conn-web", CONNECTOR, channels=("web-eu",))
MARKET_CONNECTOR = principal("conn-market", CONNECTOR, channels=("market-fr", "market-es"))
SUPERVISOR_JANE = principal("jane", SUPERVISOR)


def test_a_connector_acts_for_its_own_channels_only_and_staff_for_every_channel():
    check_channel(WEB_CONNECTOR, "web-eu")
    check_channel(SUPERVISOR_JANE, "market-fr")
    with pytest.raises(Forbidden) as refused:
        check_channel(MARKET_CONNECTOR, "web-eu")
    assert refused.value.reason == "channel"
    assert refused.value.message == "conn-market acts for the channels market-es, market-fr, not web-eu"
    with pytest.raises(Forbidden, match="channels none"):
        check_channel(principal("conn-none", CONNECTOR), "web-eu")


def test_connectors_read_their_own_channels_and_staff_every_channel():
    assert readable_channels(MARKET_CONNECTOR) == {"market-fr", "market-es"}
    assert readable_channels(principal("conn-none", CONNECTOR)) == frozenset()
    assert readable_channels(SUPERVISOR_JANE) is None and readable_channels(principal("root", ADMIN)) is None


def test_personal_data_is_masked_for_roles_that_do_not_need_it(order_json):
    body = order_json()
    body["customer"]["email"] = "ada.lovelace@example.com"
    body["ship_to"].update(name="Ada Lovelace", line2="Flat 3", phone="+49 30 1234 5678")
    document = ChannelOrder.model_validate(body).model_dump(mode="json")
    for viewer in (SUPERVISOR_JANE, principal("audit", AUDITOR), principal("fin", FINANCE_CLERK), MARKET_CONNECTOR):
        shown = order_document_for(viewer, "web-eu", document)
        assert shown["customer"] == {"id": "c***", "tier": "standard", "email": "a***@example.com"}
        assert shown["ship_to"] == {"name": "A***", "line1": "M***", "line2": "F***", "city": "Berlin", "region": None,
                                    "postal_code": "1***", "country": "DE", "phone": "***78"}
        assert shown["lines"] == document["lines"] and shown["payment"] == document["payment"]
    for viewer in (principal("cs", CUSTOMER_SERVICE), principal("root", ADMIN), WEB_CONNECTOR):
        assert order_document_for(viewer, "web-eu", document) == document
    assert document["customer"]["email"] == "ada.lovelace@example.com"  # the stored document is left as it is


async def test_a_connector_changes_only_its_own_channels_orders_and_is_recorded_by_subject():
    orders = FakeOrders([order_row("o1", "on_hold"), order_row("o2", "awaiting_allocation")])
    orders.holds["o1"] = {HoldReason.payment_hold.value}
    uow = FakeOrderUnitOfWork(orders)
    with pytest.raises(Forbidden, match="not web-eu"):
        await lifecycle.update_payment(uow, "o1", "captured", MARKET_CONNECTOR)
    with pytest.raises(Forbidden, match="not web-eu"):
        await lifecycle.cancel_order(uow, "o2", MARKET_CONNECTOR, "customer request")
    assert not orders.transitions and not uow.published

    await lifecycle.update_payment(uow, "o1", "captured", WEB_CONNECTOR, "amount 64.96")
    await lifecycle.cancel_order(uow, "o2", WEB_CONNECTOR, "customer request")
    assert [(t.to_status, t.actor) for t in orders.transitions] == [("awaiting_allocation", "conn-web"),
                                                                     ("cancelled", "conn-web")]
    assert [event.payload["actor"] for _, event in uow.published] == ["conn-web", "conn-web"]


async def test_a_supervisor_release_is_recorded_by_subject():
    orders = FakeOrders([order_row("o1", "on_hold")])
    orders.holds["o1"] = {HoldReason.fraud_review.value}
    await lifecycle.release_hold(FakeOrderUnitOfWork(orders), "o1", HoldReason.fraud_review, SUPERVISOR_JANE, None)
    assert [(t.to_status, t.actor) for t in orders.transitions] == [("awaiting_allocation", "jane")]


async def test_the_history_records_who_placed_an_order_over_http_and_the_channel_from_the_topic(order_json):
    uow = FakeOrderUnitOfWork(FakeOrders(catalog=EverySkuKnown()))
    placed = ChannelOrder.model_validate(order_json())
    from_topic = ChannelOrder.model_validate(order_json(external_order_id="from-topic"))
    await take_orders(uow, [Submission(placed, placed_by="cs-anna"), Submission(from_topic)])
    assert [t.actor for t in uow.orders.transitions if t.from_status is None] == ["cs-anna", "channel:web-eu"]
