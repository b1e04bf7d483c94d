"""Labels bought exactly once per parcel, and return labels once per RMA.

A parcel is committed pending when it is announced (intake.py). Each round then runs two transactions over the
due parcels, locked (another replica skips them): the first chooses each new parcel's service (rate shopping) and
commits that plan, so the label is only ever asked of one carrier and service; the second asks the carrier for the
label with the parcel's idempotency key and commits the answers together with `LabelPurchased` or
`ReturnLabelIssued`. A crash between the carrier's sale and that commit leaves the parcel pending: the next
attempt uses the same key and the carrier answers with the label it sold.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from ecomops_common.contracts import SHIPPING_EVENTS
from ecomops_common.contracts.shipping import LabelPurchased, ReturnLabelIssued
from ecomops_common.envelope import new_event
from ecomops_common.errors import Conflict, NotFound
from shipping_service.adapters.carrier import Carrier, CarrierUnavailable
from shipping_service.adapters.repository import carrier_service, channel_rule
from shipping_service.domain.parcels import LabelOutcome, LabelResult, Parcel, ParcelKind, parcel_spec
from shipping_service.domain.rates import ANY_CARRIER, BusinessCalendar, NoService, choose_service, promise_from_level
from shipping_service.service_layer.unit_of_work import SOURCE, ShippingUnitOfWork
from shipping_service.settings import ShippingSettings

log = logging.getLogger(__name__)
# Label rounds hold their parcels' row locks across the carrier calls, so they open their own transactions.
NewUnitOfWork = Callable[[], AbstractAsyncContextManager[ShippingUnitOfWork]]


class ParcelNotFound(NotFound):
    pass


class ParcelNotFailed(Conflict):
    pass


def calendar_of(settings: ShippingSettings) -> BusinessCalendar:
    return BusinessCalendar(frozenset(settings.holidays))


async def label_round(unit_of_work: NewUnitOfWork, carrier: Carrier, settings: ShippingSettings) -> int:
    """One round: plans new parcels, then buys the labels of planned ones; answers how many parcels it touched
    (a full batch means: go again)."""
    async with unit_of_work() as uow:
        planned = await plan_parcels(uow, carrier, settings)
    async with unit_of_work() as uow:
        bought = await buy_labels(uow, carrier, settings)
    return max(planned, bought)


async def labels_until_idle(unit_of_work: NewUnitOfWork, carrier: Carrier, settings: ShippingSettings) -> None:
    while await label_round(unit_of_work, carrier, settings) >= settings.label_batch_size:
        pass


async def plan_parcels(uow: ShippingUnitOfWork, carrier: Carrier, settings: ShippingSettings) -> int:
    now = _now()
    parcels = await uow.shipping.due_parcels(now, settings.label_batch_size, planned=False)
    if not parcels:
        return 0
    orders = await uow.shipping.orders(p.order_id for p in parcels if p.kind is ParcelKind.outbound)
    for parcel in parcels:
        if parcel.kind is ParcelKind.outbound and parcel.order_id in orders:
            parcel.channel = orders[parcel.order_id]["channel"]
    skus = await uow.shipping.skus(sku for p in parcels for sku, _ in p.lines)
    services = [carrier_service(row) for row in await uow.shipping.carrier_services()]
    rules = {channel: channel_rule(row["document"])
             for channel, row in (await uow.shipping.channel_rules(p.channel for p in parcels if p.channel)).items()}
    calendar, retry_after = calendar_of(settings), timedelta(seconds=settings.label_retry_s)

    async def plan(parcel: Parcel) -> None:
        order = orders.get(parcel.order_id) if parcel.kind is ParcelKind.outbound else None
        if parcel.kind is ParcelKind.outbound and order is None:
            parcel.postpone(f"order_unknown: OrderPlaced of {parcel.order_id} not received yet", now, retry_after,
                            settings.label_max_attempts)
            return
        spec = parcel_spec(parcel.lines, skus, settings.unknown_sku_weight_kg)
        try:
            quotes = await carrier.quote(spec)
        except CarrierUnavailable as unavailable:
            parcel.postpone(f"rates unavailable: {unavailable}", now, retry_after, settings.label_max_attempts)
            return
        promised = None if order is None else order["promised_date"] or promise_from_level(
            order["placed_at"].date(), settings.express_days if order["service_level"] == "express"
            else settings.standard_days, calendar)
        try:
            choice = choose_service(services, quotes, spec, rules.get(parcel.channel, ANY_CARRIER), promised,
                                    now.astimezone(settings.zone_of(parcel.node)), calendar)
        except NoService as none:
            parcel.fail(f"no_service: {none}")
            return
        parcel.plan(spec, choice, promised)

    await asyncio.gather(*(plan(parcel) for parcel in parcels))
    await uow.shipping.save_parcels(parcels)
    await uow.commit()
    return len(parcels)


async def buy_labels(uow: ShippingUnitOfWork, carrier: Carrier, settings: ShippingSettings) -> int:
    parcels = await uow.shipping.due_parcels(_now(), settings.label_batch_size, planned=True)
    if not parcels:
        return 0

    async def buy(parcel: Parcel) -> LabelResult:
        try:
            return await carrier.buy_label(parcel.label_request())
        except Exception as error:  # whatever went wrong, the label may have been sold: ask again later
            log.exception("label call failed for parcel %s", parcel.parcel_id)
            return LabelResult(LabelOutcome.unknown, code="error", message=type(error).__name__)

    results = await asyncio.gather(*(buy(parcel) for parcel in parcels))
    now, retry_after = _now(), timedelta(seconds=settings.label_retry_s)
    for parcel, result in zip(parcels, results, strict=True):
        if parcel.record(result, now, retry_after, settings.label_max_attempts):
            announce_label(uow, parcel)
        elif parcel.last_error:
            log.warning("no label for parcel %s yet (%s): %s", parcel.parcel_id, parcel.status, parcel.last_error)
    await uow.shipping.save_parcels(parcels)
    await uow.commit()
    return len(parcels)


def announce_label(uow: ShippingUnitOfWork, parcel: Parcel) -> None:
    if parcel.kind is ParcelKind.return_:
        uow.emit(new_event("ReturnLabelIssued", 1, SOURCE, "return", parcel.rma_id, ReturnLabelIssued(
            rma_id=parcel.rma_id, order_id=parcel.order_id, carrier=parcel.carrier, service=parcel.service,
            tracking_number=parcel.tracking_number, label_url=parcel.label_url, cost=parcel.cost,
            currency=parcel.currency, issued_at=parcel.purchased_at)), SHIPPING_EVENTS)
        return
    uow.emit(new_event("LabelPurchased", 1, SOURCE, "order", parcel.order_id, LabelPurchased(
        parcel_id=parcel.parcel_id, order_id=parcel.order_id, node=parcel.node, carrier=parcel.carrier,
        service=parcel.service, tracking_number=parcel.tracking_number, label_url=parcel.label_url,
        cost=parcel.cost, currency=parcel.currency, ship_date=parcel.ship_date,
        estimated_delivery=parcel.estimated_delivery, promised_date=parcel.promised_date,
        meets_promise=parcel.meets_promise, purchased_at=parcel.purchased_at)), SHIPPING_EVENTS)


async def retry_parcel(uow: ShippingUnitOfWork, parcel_id: str, actor: str) -> Parcel:
    parcel = await uow.shipping.parcel(parcel_id, lock=True)
    if parcel is None:
        raise ParcelNotFound(f"no parcel {parcel_id}")
    try:
        parcel.retry(actor, _now())
    except ValueError as refused:
        raise ParcelNotFailed(str(refused)) from None
    await uow.shipping.save_parcels([parcel])
    await uow.commit()
    return parcel


def _now() -> datetime:
    return datetime.now(UTC)
