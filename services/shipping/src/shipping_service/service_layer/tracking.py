"""Tracking: dispatched parcels are handed over to their carrier (which starts their timeline), and the carrier's
tracking feed is read from a stored cursor. Each carrier event is stored once by its id and published once as
`TrackingUpdated`, in the same transaction as the cursor moves; a delivered outbound parcel says whether its
order is now delivered (every parcel of it labelled so far delivered)."""

import logging
from datetime import UTC, datetime

from ecomops_common.contracts import SHIPPING_TRACKING
from ecomops_common.contracts.shipping import TrackingStatus, TrackingUpdated
from ecomops_common.envelope import new_event
from shipping_service.adapters.carrier import Carrier, CarrierUnavailable, TrackingEvent
from shipping_service.domain.parcels import Parcel, ParcelKind, order_delivered
from shipping_service.service_layer.labels import NewUnitOfWork
from shipping_service.service_layer.unit_of_work import SOURCE, ShippingUnitOfWork

log = logging.getLogger(__name__)
FEED = "carrier"  # the carrier API's one tracking feed
STATUSES = frozenset(TrackingStatus)


async def hand_over_dispatched(uow: ShippingUnitOfWork, carrier: Carrier, limit: int) -> None:
    """Tells the carrier about dispatched parcels; one it does not answer for is asked again next time (a
    handover is idempotent at the carrier)."""
    parcels = await uow.shipping.parcels_to_hand_over(limit)
    handed = []
    for parcel in parcels:
        try:
            await carrier.hand_over(parcel.tracking_number)
        except CarrierUnavailable as unavailable:
            log.warning("handover of %s not confirmed, again later: %s", parcel.tracking_number, unavailable)
            continue
        parcel.handed_over_at = datetime.now(UTC)
        handed.append(parcel)
    await uow.shipping.save_parcels(handed)
    await uow.commit()


async def poll_tracking(uow: ShippingUnitOfWork, carrier: Carrier, limit: int) -> int:
    """One page of the carrier's feed after the cursor; answers how many events it read."""
    position = await uow.shipping.cursor(FEED)
    try:
        events = await carrier.tracking_events(position, limit)
    except CarrierUnavailable as unavailable:
        log.warning("tracking feed unavailable, again later: %s", unavailable)
        return 0
    if not events:
        return 0
    ours = [e for e in events if e.status in STATUSES]  # a status the contract has no name for is passed over
    parcels = await uow.shipping.parcels_by_tracking({e.tracking_number for e in ours}, lock=True)
    ours = [e for e in ours if e.tracking_number in parcels]  # other shippers' parcels on a shared carrier account
    now = datetime.now(UTC)
    new = await uow.shipping.add_tracking_events([
        {"event_id": e.event_id, "tracking_number": e.tracking_number, "status": e.status,
         "parcel_id": parcels[e.tracking_number].parcel_id, "description": e.description,
         "occurred_at": e.occurred_at, "recorded_at": now} for e in ours])
    fresh = [e for e in ours if e.event_id in new]
    siblings = await parcels_of_delivered_orders(uow, fresh, parcels)
    for event in fresh:  # in the feed's order, so only an order's last delivery says order_delivered
        parcel = parcels[event.tracking_number]
        parcel.track(event.status, event.occurred_at)
        outbound = parcel.kind is ParcelKind.outbound
        uow.emit(new_event("TrackingUpdated", 1, SOURCE, "parcel", event.tracking_number, TrackingUpdated(
            event_id=event.event_id, tracking_number=event.tracking_number, carrier=parcel.carrier,
            service=parcel.service, status=event.status, description=event.description,
            order_id=parcel.order_id if outbound else None, rma_id=parcel.rma_id, parcel_id=parcel.parcel_id,
            promised_date=parcel.promised_date, estimated_delivery=parcel.estimated_delivery,
            order_delivered=outbound and event.status == TrackingStatus.delivered
            and order_delivered(siblings.get(parcel.order_id, [])),
            occurred_at=event.occurred_at)), SHIPPING_TRACKING)
    await uow.shipping.save_parcels(parcels.values())
    await uow.shipping.save_cursor(FEED, events[-1].sequence)
    await uow.commit()
    return len(events)


async def parcels_of_delivered_orders(uow: ShippingUnitOfWork, events: list[TrackingEvent],
                                      parcels: dict[str, Parcel]) -> dict[str, list[Parcel]]:
    """The parcels of each order a delivery belongs to; those this transaction tracks are the same objects."""
    order_ids = {parcels[e.tracking_number].order_id for e in events
                 if e.status == TrackingStatus.delivered and parcels[e.tracking_number].kind is ParcelKind.outbound}
    if not order_ids:
        return {}
    tracked = {parcel.parcel_id: parcel for parcel in parcels.values()}
    siblings: dict[str, list[Parcel]] = {}
    for parcel in await uow.shipping.parcels_of_orders(order_ids):
        siblings.setdefault(parcel.order_id, []).append(tracked.get(parcel.parcel_id, parcel))
    return siblings


async def poll_until_idle(unit_of_work: NewUnitOfWork, carrier: Carrier, limit: int) -> None:
    while True:
        async with unit_of_work() as uow:
            if await poll_tracking(uow, carrier, limit) < limit:
                return
