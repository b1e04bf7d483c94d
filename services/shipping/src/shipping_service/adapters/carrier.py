"""The carrier that quotes, sells labels, takes parcels over and reports their tracking events."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx

from shipping_service.domain.parcels import BoughtLabel, LabelOutcome, LabelRequest, LabelResult
from shipping_service.domain.rates import ParcelSpec, Quote

SOLD = frozenset({200, 201})
# The carrier looked at the label and said no (422 invalid, e.g. too heavy; 409 key used for another label):
# nothing was sold, so asking again with the same key would only be refused again.
REFUSED = frozenset({409, 422})


class CarrierUnavailable(Exception):
    """No usable answer (timeout, 5xx, network): nothing is known to have happened; asked again later."""


@dataclass(frozen=True)
class TrackingEvent:
    event_id: str
    sequence: int
    tracking_number: str
    carrier: str
    status: str
    description: str | None
    occurred_at: datetime


class Carrier(Protocol):
    """A carrier's API. `buy_label` never raises for the carrier's answers: `bought` and `refused` are final,
    anything that leaves it open whether a label was sold is `unknown`, and the caller asks again later with the
    same `request.idempotency_key` (the carrier then answers with the label it sold). The other calls raise
    CarrierUnavailable and are simply asked again: a quote sells nothing, a handover and the tracking feed are
    idempotent.

    A real carrier plugs in as another implementation: e.g. EasyPost or Shippo (rates, buy with an idempotency
    key, trackers by webhook or polling), or a carrier's own API (DHL Parcel, UPS Shipping with its
    transaction reference), mapping validation errors to `refused` and timeouts, 429 and 5xx to `unknown`."""

    async def quote(self, parcel: ParcelSpec) -> list[Quote]: ...

    async def buy_label(self, request: LabelRequest) -> LabelResult: ...

    async def hand_over(self, tracking_number: str) -> None: ...

    async def tracking_events(self, after: int, limit: int) -> list[TrackingEvent]: ...

    async def close(self) -> None: ...


class HttpCarrier:
    """The API of the carrier simulator (the carrier_simulator package beside this one)."""

    def __init__(self, base_url: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._timeout_s = timeout_s
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport)

    async def _call(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            # The whole call, also in process (httpx.ASGITransport ignores httpx's own timeouts).
            async with asyncio.timeout(self._timeout_s):
                return await self._client.request(method, path, **options)
        except (TimeoutError, httpx.TimeoutException):
            raise CarrierUnavailable(f"timeout: no answer within {self._timeout_s}s") from None
        except httpx.TransportError as error:
            raise CarrierUnavailable(f"network: {error or type(error).__name__}") from None

    async def _json(self, method: str, path: str, **options: Any) -> Any:
        return _answered(await self._call(method, path, **options))

    async def quote(self, parcel: ParcelSpec) -> list[Quote]:
        response = await self._call("POST", "/v1/rates", json={"weight_kg": parcel.weight_kg, "hazmat": parcel.hazmat})
        if response.status_code == 422:
            return []  # the carrier carries no such parcel (e.g. beyond any service's weight)
        try:
            return [Quote(q["carrier"], q["service"], Decimal(q["amount"]), q["currency"])
                    for q in _answered(response)]
        except (KeyError, TypeError, InvalidOperation):
            raise CarrierUnavailable("bad_response: rates not understood") from None

    async def buy_label(self, request: LabelRequest) -> LabelResult:
        try:
            response = await self._call("POST", "/v1/labels", headers={"Idempotency-Key": request.idempotency_key},
                                        json={"carrier": request.carrier, "service": request.service,
                                              "weight_kg": request.weight_kg, "hazmat": request.hazmat,
                                              "reference": request.reference, "ship_from": request.ship_from,
                                              "is_return": request.is_return})
        except CarrierUnavailable as unavailable:
            code, _, message = str(unavailable).partition(": ")
            return LabelResult(LabelOutcome.unknown, code=code, message=message)
        return _label_result(response)

    async def hand_over(self, tracking_number: str) -> None:
        await self._json("POST", f"/v1/handovers/{tracking_number}")

    async def tracking_events(self, after: int, limit: int) -> list[TrackingEvent]:
        body = await self._json("GET", "/v1/tracking-events", params={"after": after, "limit": limit})
        try:
            return [TrackingEvent(e["event_id"], int(e["sequence"]), e["tracking_number"], e["carrier"], e["status"],
                                  e.get("description"), _aware(datetime.fromisoformat(e["occurred_at"])))
                    for e in body["events"]]
        except (KeyError, TypeError, ValueError):
            raise CarrierUnavailable("bad_response: tracking events not understood") from None

    async def close(self) -> None:
        await self._client.aclose()


def _answered(response: httpx.Response) -> Any:
    """The JSON of a 200; anything else is no usable answer."""
    if response.status_code != 200:
        raise CarrierUnavailable(f"http_{response.status_code}: {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        raise CarrierUnavailable("bad_response: not JSON") from None


def _aware(moment: datetime) -> datetime:
    """A carrier's time without an offset is taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _label_result(response: httpx.Response) -> LabelResult:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if status in SOLD:
        try:
            return LabelResult(LabelOutcome.bought, BoughtLabel(
                body["label_id"], body["tracking_number"], Decimal(body["amount"]), body["currency"],
                body.get("label_url")))
        except (KeyError, TypeError, InvalidOperation):
            # Probably sold, but unusable: asked again with the same key, which can never buy twice.
            return LabelResult(LabelOutcome.unknown, code="bad_response", message=f"HTTP {status} without a label")
    if status in REFUSED:
        return LabelResult(LabelOutcome.refused, code=str(body.get("code") or f"http_{status}"),
                           message=str(body.get("message") or response.text[:300]))
    # 5xx, 429 and anything unexpected: not known to be sold nor refused for good; the same key is always safe.
    return LabelResult(LabelOutcome.unknown, code=f"http_{status}", message=response.text[:300] or None)
