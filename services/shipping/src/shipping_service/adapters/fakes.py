"""In-memory adapters for service-layer unit tests: a carrier that sells each idempotency key's label once (and can
be told to fail or to lose its answers), a repository keeping parcels as copies (a change to a loaded parcel is
kept only when saved, as with the stored row), and ecomops_common's fake unit of work. The HTTP views' reads are
left to the integration tests."""

import copy
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ecomops_common.testing.fakes import FakeUnitOfWork
from shipping_service.adapters.carrier import CarrierUnavailable, TrackingEvent
from shipping_service.domain.parcels import (
    BoughtLabel,
    LabelOutcome,
    LabelRequest,
    LabelResult,
    Parcel,
    ParcelStatus,
    SkuHandling,
)
from shipping_service.domain.performance import Delivery
from shipping_service.domain.rates import CarrierService, ParcelSpec, Quote


class FakeCarrier:
    def __init__(self, quotes: list[Quote]) -> None:
        self.quotes = quotes
        self.unavailable = False  # every call fails as an outage
        self.answers_lost = 0  # the next this many label sales happen but their answers are lost
        self.sold: dict[str, tuple[LabelRequest, BoughtLabel]] = {}  # by idempotency key
        self.handed_over: list[str] = []
        self.feed: list[TrackingEvent] = []
        self.calls: Counter[str] = Counter()

    def _outage(self, call: str) -> None:
        self.calls[call] += 1
        if self.unavailable:
            raise CarrierUnavailable("http_503: simulated outage")

    async def quote(self, parcel: ParcelSpec) -> list[Quote]:
        self._outage("quote")
        return list(self.quotes)

    async def buy_label(self, request: LabelRequest) -> LabelResult:
        try:
            self._outage("buy_label")
        except CarrierUnavailable as unavailable:
            return LabelResult(LabelOutcome.unknown, code="http_503", message=str(unavailable))
        if request.idempotency_key not in self.sold:
            quote = next(q for q in self.quotes if (q.carrier, q.service) == (request.carrier, request.service))
            self.sold[request.idempotency_key] = (request, BoughtLabel(
                f"lbl-{len(self.sold) + 1}", f"TRK{len(self.sold) + 1}", quote.amount, quote.currency))
        if self.answers_lost:
            self.answers_lost -= 1
            return LabelResult(LabelOutcome.unknown, code="timeout", message="sold, but the answer was lost")
        return LabelResult(LabelOutcome.bought, self.sold[request.idempotency_key][1])

    async def hand_over(self, tracking_number: str) -> None:
        self._outage("hand_over")
        self.handed_over.append(tracking_number)

    async def tracking_events(self, after: int, limit: int) -> list[TrackingEvent]:
        self._outage("tracking_events")
        return [event for event in self.feed if event.sequence > after][:limit]

    async def close(self) -> None:
        pass


class FakeShipping:
    def __init__(self, services: list[CarrierService]) -> None:
        self.orders_by_id: dict[str, dict[str, Any]] = {}
        self.sku_rows: dict[str, dict[str, Any]] = {}
        self.services = {(s.carrier, s.service): s for s in services}
        self.rules: dict[str, dict[str, Any]] = {}
        self.saved: dict[str, Parcel] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.cursors: dict[str, int] = {}

    async def upsert_orders(self, orders: list[dict[str, Any]]) -> None:
        self.orders_by_id.update({row["order_id"]: dict(row) for row in orders})

    async def orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {i: dict(self.orders_by_id[i]) for i in set(order_ids) if i in self.orders_by_id}

    async def upsert_skus(self, skus: list[dict[str, Any]]) -> None:
        for row in skus:
            if row["sku"] not in self.sku_rows or row["revision"] > self.sku_rows[row["sku"]]["revision"]:
                self.sku_rows[row["sku"]] = dict(row)

    async def skus(self, skus: Iterable[str]) -> dict[str, SkuHandling]:
        return {sku: SkuHandling(self.sku_rows[sku]["weight_kg"], self.sku_rows[sku]["hazmat_class"] is not None)
                for sku in set(skus) if sku in self.sku_rows}

    async def carrier_services(self) -> list[dict[str, Any]]:
        return [{**s.__dict__, "cutoff": s.cutoff.strftime("%H:%M")} for s in self.services.values()]

    async def put_carrier_service(self, service: CarrierService, actor: str, at: datetime) -> None:
        self.services[(service.carrier, service.service)] = service

    async def channel_rules(self, channels: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {c: copy.deepcopy(self.rules[c]) for c in set(channels) if c in self.rules}

    async def put_channel_rule(self, channel: str, document: dict[str, Any], actor: str, at: datetime) -> None:
        self.rules[channel] = {"channel": channel, "document": dict(document), "updated_by": actor, "updated_at": at}

    async def add_parcels(self, parcels: list[Parcel]) -> None:
        for parcel in parcels:
            self.saved.setdefault(parcel.parcel_id, copy.deepcopy(parcel))

    async def due_parcels(self, now: datetime, limit: int, *, planned: bool) -> list[Parcel]:
        due = [p for p in self.saved.values() if p.status is ParcelStatus.pending and p.planned is planned
               and (p.next_attempt_at is None or p.next_attempt_at <= now)]
        return copy.deepcopy(sorted(due, key=lambda p: p.created_at)[:limit])

    async def parcel(self, parcel_id: str, *, lock: bool = False) -> Parcel | None:
        return copy.deepcopy(self.saved.get(parcel_id))

    async def parcels_by_tracking(self, tracking_numbers: Iterable[str], *, lock: bool = False) -> dict[str, Parcel]:
        wanted = set(tracking_numbers)
        return {p.tracking_number: copy.deepcopy(p) for p in self.saved.values() if p.tracking_number in wanted}

    async def parcels_of_orders(self, order_ids: Iterable[str]) -> list[Parcel]:
        wanted = set(order_ids)
        return [copy.deepcopy(p) for p in self.saved.values() if p.order_id in wanted]

    async def parcels(self, status: str | None, order_id: str | None, limit: int) -> list[Parcel]:
        return [copy.deepcopy(p) for p in self.saved.values()
                if status in (None, p.status) and order_id in (None, p.order_id)][:limit]

    async def parcels_to_hand_over(self, limit: int) -> list[Parcel]:
        return [copy.deepcopy(p) for p in self.saved.values()
                if p.dispatched_at and not p.handed_over_at and p.tracking_number][:limit]

    async def save_parcels(self, parcels: Iterable[Parcel]) -> None:
        self.saved.update({p.parcel_id: copy.deepcopy(p) for p in parcels})

    async def cursor(self, feed: str) -> int:
        return self.cursors.setdefault(feed, 0)

    async def save_cursor(self, feed: str, position: int) -> None:
        self.cursors[feed] = position

    async def add_tracking_events(self, events: list[dict[str, Any]]) -> set[str]:
        new = {e["event_id"] for e in events if e["event_id"] not in self.events}
        self.events.update({e["event_id"]: dict(e) for e in events if e["event_id"] in new})
        return new

    async def tracking_events(self, tracking_number: str) -> list[dict[str, Any]]:
        return sorted((e for e in self.events.values() if e["tracking_number"] == tracking_number),
                      key=lambda e: e["occurred_at"])

    async def deliveries(self, carrier: str | None, service: str | None, since: datetime | None,
                         until: datetime | None) -> list[Delivery]:
        return [Delivery(p.carrier, p.service, p.delivered_at.date(), p.promised_date, p.estimated_delivery)
                for p in self.saved.values() if p.delivered_at and carrier in (None, p.carrier)
                and service in (None, p.service) and (since is None or p.delivered_at >= since)
                and (until is None or p.delivered_at < until)]


class FakeShippingUnitOfWork(FakeUnitOfWork):
    def __init__(self, shipping: FakeShipping) -> None:
        super().__init__()
        self.shipping = shipping

