"""The service layer on in-memory fakes: parcels announced twice, labels bought once whatever the carrier answers,
return labels once per RMA, dispatches handed over, tracking events published once each."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnLine
from ecomops_common.contracts.warehouse import PackedLine, ParcelPacked, ShipmentDispatched
from ecomops_common.testing.fakes import received
from ecomops_common.testing.samples import order_placed
from shipping_service.adapters.carrier import TrackingEvent
from shipping_service.adapters.fakes import FakeCarrier, FakeShipping, FakeShippingUnitOfWork
from shipping_service.domain.rates import CarrierService, Quote
from shipping_service.service_layer.intake import follow_orders, follow_returns, follow_skus, follow_warehouse
from shipping_service.service_layer.labels import label_round, retry_parcel
from shipping_service.service_layer.tracking import hand_over_dispatched, poll_tracking
from shipping_service.settings import ShippingSettings

SERVICES = [CarrierService("simdhl", "ground", 3, time(16), hazmat_allowed=True),
            CarrierService("simdhl", "express", 1, time(14))]
QUOTES = [Quote("simdhl", "ground", Decimal("5.40"), "EUR"), Quote("simdhl", "express", Decimal("14.10"), "EUR")]
# No backoff: every round may try again.
SETTINGS = ShippingSettings(label_retry_s=1e-6, label_max_attempts=3, database_url="sqlite+aiosqlite://")
NOW = datetime.now(UTC)


@pytest.fixture
def uow():
    return FakeShippingUnitOfWork(FakeShipping(SERVICES))


@pytest.fixture
def carrier():
    return FakeCarrier(QUOTES)


def packed(order_id: str = "o-1", node: str = "WH1") -> ParcelPacked:
    return ParcelPacked(parcel_id=f"{order_id}@{node}", order_id=order_id, node=node, packed_at=NOW,
                        lines=[PackedLine(sku="SKU-1", quantity=2)])


async def placed(uow, order_id: str = "o-1") -> None:
    envelope = order_placed(order_id, promised_date=(NOW.date() + timedelta(days=30)).isoformat())
    await follow_orders(uow, received(OrderPlaced.model_validate(envelope.payload)))


async def rounds(uow, carrier, n: int = 1) -> None:
    for _ in range(n):
        await label_round(lambda: uow, carrier, SETTINGS)


def labels_published(uow) -> list[dict]:
    return [e.payload for e in uow.events() if e.event_type in ("LabelPurchased", "ReturnLabelIssued")]


async def test_a_parcel_announced_twice_is_one_parcel_with_one_label(uow, carrier):
    await placed(uow)
    await follow_skus(uow, received(SkuChanged(sku="SKU-1", revision=1, status="active", name="Mug", weight_kg=0.5,
                                               changed_by="m", changed_at=NOW)))
    await follow_warehouse(uow, received(packed(), packed()))
    await follow_warehouse(uow, received(packed()))
    await rounds(uow, carrier, 3)
    [label] = labels_published(uow)
    assert (label["parcel_id"], label["service"], label["tracking_number"], label["meets_promise"]) == (
        "o-1@WH1", "ground", "TRK1", True)
    assert uow.shipping.saved["o-1@WH1"].weight_kg == 1.0
    assert len(carrier.sold) == 1


async def test_a_label_sold_whose_answer_was_lost_is_asked_for_again_with_the_same_key(uow, carrier):
    await placed(uow)
    await follow_warehouse(uow, received(packed()))
    carrier.answers_lost = 1
    await rounds(uow, carrier)
    parcel = uow.shipping.saved["o-1@WH1"]
    assert (parcel.status, parcel.attempts) == ("pending", 1)
    assert parcel.last_error == "timeout: sold, but the answer was lost"
    assert labels_published(uow) == []
    await rounds(uow, carrier)
    [label] = labels_published(uow)
    assert label["tracking_number"] == "TRK1" and len(carrier.sold) == 1 and carrier.calls["buy_label"] == 2


async def test_an_unanswering_carrier_fails_the_parcel_after_its_attempts_and_a_retry_resumes(uow, carrier):
    await placed(uow)
    await follow_warehouse(uow, received(packed()))
    carrier.unavailable = True
    await rounds(uow, carrier, 4)
    parcel = uow.shipping.saved["o-1@WH1"]
    assert (parcel.status, parcel.attempts, parcel.last_error) == (
        "failed", 3, "rates unavailable: http_503: simulated outage")
    carrier.unavailable = False
    await rounds(uow, carrier)
    assert labels_published(uow) == []  # failed parcels wait for a supervisor
    await retry_parcel(uow, "o-1@WH1", "sup:ana")
    await rounds(uow, carrier)
    assert [label["parcel_id"] for label in labels_published(uow)] == ["o-1@WH1"]
    assert uow.shipping.saved["o-1@WH1"].retried_by == "sup:ana"


async def test_a_return_authorized_twice_gets_one_return_label(uow, carrier):
    rma = ReturnAuthorized(rma_id="rma-1", order_id="o-1", channel="web-eu", node="WH1", authorized_at=NOW,
                           lines=[ReturnLine(line_id="1", sku="SKU-1", quantity=1)])
    await follow_returns(uow, received(rma, rma))
    await follow_returns(uow, received(rma))
    await rounds(uow, carrier, 2)
    [label] = labels_published(uow)
    assert (label["rma_id"], label["order_id"], label["service"], label["cost"]) == ("rma-1", "o-1", "ground", "5.40")


async def test_dispatched_parcels_are_handed_over_and_their_events_published_once(uow, carrier):
    await placed(uow)
    await follow_warehouse(uow, received(packed("o-1", "WH1"), packed("o-1", "WH2")))
    await rounds(uow, carrier)
    first, second = uow.shipping.saved["o-1@WH1"], uow.shipping.saved["o-1@WH2"]
    dispatch = ShipmentDispatched(order_id="o-1", node="WH1", tracking_number=first.tracking_number,
                                  carrier="simdhl", lines=[], shipped_at=NOW)
    await follow_warehouse(uow, received(dispatch, dispatch))
    await hand_over_dispatched(uow, carrier, 10)
    await hand_over_dispatched(uow, carrier, 10)
    assert carrier.handed_over == [first.tracking_number]

    def event(n: int, number: str, status: str) -> TrackingEvent:
        return TrackingEvent(f"evt-{n}", n, number, "simdhl", status, None, NOW + timedelta(days=n))

    carrier.feed = [event(1, first.tracking_number, "in_transit"), event(2, "OTHER-SHIPPER", "in_transit"),
                    event(3, first.tracking_number, "delivered"), event(4, second.tracking_number, "delivered")]
    assert await poll_tracking(uow, carrier, 3) == 3
    assert await poll_tracking(uow, carrier, 3) == 1
    uow.shipping.cursors["carrier"] = 0  # the feed read again: nothing published twice
    await poll_tracking(uow, carrier, 10)
    updates = [e.payload for e in uow.events("TrackingUpdated")]
    assert [(u["event_id"], u["status"], u["order_delivered"]) for u in updates] == [
        ("evt-1", "in_transit", False), ("evt-3", "delivered", False), ("evt-4", "delivered", True)]
    assert uow.shipping.saved["o-1@WH2"].delivered_at == NOW + timedelta(days=4)
