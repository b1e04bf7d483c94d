"""A simulated carrier (two, in fact: simdhl and simups) for local runs and tests. Kept apart from shipping_service
(neither imports the other): shipping only knows a carrier's HTTP API.

- POST /v1/rates: a price per service for a parcel's weight (and hazmat).
- POST /v1/labels with an `Idempotency-Key`: buys a label once per key and answers every later call with that key
  with the same label (`Idempotent-Replayed: true`); the same key for another carrier or service is a 409.
- POST /v1/handovers/{tracking_number}: the parcel is in the carrier's hands; its tracking timeline starts.
- GET /v1/tracking-events?after=<sequence>: the carrier's tracking events in the order they happened.

The timeline runs on the simulator's own clock: from the handover, one day passes every SECONDS_PER_DAY seconds,
and an event's `occurred_at` is that simulated time (so a parcel late by two days is delivered two days after its
estimate, not seconds after). in_transit → out_for_delivery → delivered after the service's transit business days;
LATE_RATE of the parcels take one or two business days more, EXCEPTION_RATE end in an exception instead. FAILURE_RATE
of the requests are answered 503 (nothing done), SLOW_RATE are answered SLOW_S late (a label is bought first: the
client that gave up finds it when it asks again with the same key). SEED makes the draws repeatable.

It runs as its own process (`carrier-simulator`, or `python -m carrier_simulator`) so shipping can be killed and
restarted while the carrier keeps what it sold. The state is in memory only.
"""

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Header, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_S = 86_400


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARRIER_SIMULATOR_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8091
    seconds_per_day: float = Field(default=10, gt=0, description="Real seconds per simulated day of transit")
    late_rate: float = Field(default=0.1, ge=0, le=1, description="Share of parcels one or two days late")
    exception_rate: float = Field(default=0.02, ge=0, le=1, description="Share of parcels ending in an exception")
    failure_rate: float = Field(default=0.05, ge=0, le=1, description="Share of requests answered 503")
    slow_rate: float = Field(default=0.02, ge=0, le=1, description="Share of requests answered slow_s late")
    slow_s: float = Field(default=3, ge=0)
    seed: int | None = None


@dataclass(frozen=True)
class ServiceOffer:
    carrier: str
    service: str
    transit_days: int
    base: Decimal
    per_kg: Decimal
    max_weight_kg: float
    hazmat: bool


OFFERS = (
    ServiceOffer("simdhl", "ground", 3, Decimal("4.90"), Decimal("0.50"), 31.5, hazmat=True),
    ServiceOffer("simdhl", "express", 1, Decimal("12.90"), Decimal("1.20"), 31.5, hazmat=False),
    ServiceOffer("simups", "standard", 2, Decimal("6.50"), Decimal("0.60"), 70, hazmat=False),
)
CURRENCY = "EUR"


def price(offer: ServiceOffer, weight_kg: float) -> Decimal:
    return (offer.base + offer.per_kg * Decimal(str(weight_kg))).quantize(Decimal("0.01"))


class RateRequest(BaseModel):
    weight_kg: float = Field(gt=0, le=1000)
    hazmat: bool = False


class LabelRequest(BaseModel):
    carrier: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)
    weight_kg: float = Field(gt=0, le=1000)
    hazmat: bool = False
    reference: str = Field(min_length=1, max_length=200, description="The shipper's parcel id")
    ship_from: str | None = Field(default=None, max_length=64)
    is_return: bool = False


class Behaviour(BaseModel):
    late_rate: float = Field(ge=0, le=1)
    exception_rate: float = Field(ge=0, le=1)
    failure_rate: float = Field(ge=0, le=1)
    slow_rate: float = Field(ge=0, le=1)
    slow_s: float = Field(ge=0)
    seconds_per_day: float = Field(gt=0)


@dataclass
class Parcel:
    label: dict[str, Any]
    request: LabelRequest
    # (when it becomes visible on the clock, simulated time, status, description), not yet published
    timeline: list[tuple[float, datetime, str, str]] = field(default_factory=list)
    handed_over_at: datetime | None = None


@dataclass
class Carrier:
    behaviour: Behaviour
    rng: random.Random
    labels: dict[str, Parcel] = field(default_factory=dict)  # by idempotency key
    by_tracking: dict[str, Parcel] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # sequence = index + 1
    counts: Counter[str] = field(default_factory=Counter)
    clock: Callable[[], float] = monotonic  # real seconds: when timeline events become visible

    def fails(self) -> bool:
        if self.rng.random() < self.behaviour.failure_rate:
            self.counts["unavailable"] += 1
            return True
        return False

    def delay_s(self) -> float:
        if self.rng.random() < self.behaviour.slow_rate:
            self.counts["slow"] += 1
            return self.behaviour.slow_s
        return 0.0

    def buy(self, key: str, request: LabelRequest) -> tuple[int, dict[str, Any], bool]:
        """(status, body, replayed); a stored label is answered again for its key."""
        if (parcel := self.labels.get(key)) is not None:
            if (parcel.request.carrier, parcel.request.service) != (request.carrier, request.service):
                return 409, {"code": "idempotency_key_reused",
                             "message": f"Idempotency key {key} bought a {parcel.request.carrier} "
                                        f"{parcel.request.service} label"}, False
            self.counts["replays"] += 1
            return 200, parcel.label, True
        offer = next((o for o in OFFERS if (o.carrier, o.service) == (request.carrier, request.service)), None)
        if offer is None:
            return 422, {"code": "unknown_service", "field": "service",
                         "message": f"{request.carrier} has no service {request.service}"}, False
        if request.weight_kg > offer.max_weight_kg:
            return 422, {"code": "too_heavy", "field": "weight_kg",
                         "message": f"{offer.service} takes at most {offer.max_weight_kg} kg"}, False
        if request.hazmat and not offer.hazmat:
            return 422, {"code": "hazmat_not_accepted", "field": "hazmat",
                         "message": f"{offer.carrier} {offer.service} takes no dangerous goods"}, False
        prefix = "1Z" if offer.carrier == "simups" else "JD"
        tracking_number = f"{prefix}{uuid.uuid4().hex[:16].upper()}"
        label = {"label_id": f"lbl_{uuid.uuid4().hex}", "tracking_number": tracking_number,
                 "carrier": offer.carrier, "service": offer.service, "reference": request.reference,
                 "amount": str(price(offer, request.weight_kg)), "currency": CURRENCY,
                 "label_url": f"https://labels.{offer.carrier}.example/{tracking_number}.pdf",
                 "created_at": datetime.now(UTC).isoformat()}
        self.labels[key] = self.by_tracking[tracking_number] = Parcel(label, request)
        self.counts["labels"] += 1
        return 201, label, False

    def hand_over(self, tracking_number: str) -> dict[str, Any] | None:
        parcel = self.by_tracking.get(tracking_number)
        if parcel is None:
            return None
        if parcel.handed_over_at is None:
            parcel.handed_over_at = datetime.now(UTC)
            parcel.timeline = self._timeline(parcel)
            self.counts["handovers"] += 1
        return {"tracking_number": tracking_number, "handed_over_at": parcel.handed_over_at.isoformat()}

    def _timeline(self, parcel: Parcel) -> list[tuple[float, datetime, str, str]]:
        """The parcel's events at simulated times, each with the monotonic time it becomes visible."""
        start = parcel.handed_over_at
        offer = next(o for o in OFFERS if (o.carrier, o.service) == (parcel.request.carrier, parcel.request.service))
        days = offer.transit_days
        if self.rng.random() < self.behaviour.late_rate:
            days += self.rng.choice((1, 2))
        delivery_day = add_business_days(start.date(), days)
        delivered = datetime.combine(delivery_day, time(14), UTC)
        steps = [(start + timedelta(hours=1), "in_transit", "Picked up from the shipper")]
        if self.rng.random() < self.behaviour.exception_rate:
            steps.append((start + (delivered - start) / 2, "exception", "Address problem: held at the depot"))
        else:
            steps += [(datetime.combine(delivery_day, time(8), UTC), "out_for_delivery", "Out for delivery"),
                      (delivered, "delivered", "Delivered")]
        now = self.clock()
        scale = self.behaviour.seconds_per_day / DAY_S
        return [(now + (at - start).total_seconds() * scale, at, status, text) for at, status, text in steps]

    def tracking_events(self, after: int, limit: int) -> list[dict[str, Any]]:
        self._publish_due()
        return self.events[after:after + limit]

    def _publish_due(self) -> None:
        """Appends the events whose time has come, in time order, so a cursor never skips one."""
        now = self.clock()
        due = sorted((step, tracking_number) for tracking_number, parcel in self.by_tracking.items()
                     for step in parcel.timeline if step[0] <= now)
        for step, tracking_number in due:
            _visible_at, at, event_status, description = step
            parcel = self.by_tracking[tracking_number]
            parcel.timeline.remove(step)
            self.events.append({"event_id": f"evt_{uuid.uuid4().hex}", "sequence": len(self.events) + 1,
                                "tracking_number": tracking_number, "carrier": parcel.label["carrier"],
                                "status": event_status, "description": description,
                                "occurred_at": at.isoformat()})

    def stats(self) -> dict[str, Any]:
        per_reference = Counter(parcel.request.reference for parcel in self.labels.values())
        return {**{name: self.counts[name] for name in ("labels", "replays", "unavailable", "slow", "handovers")},
                "events": len(self.events),
                "duplicate_references": sorted(ref for ref, n in per_reference.items() if n > 1)}


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def create_simulator_app(settings: SimulatorSettings | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()
    app = FastAPI(title="Carrier simulator")
    initial = Behaviour(**settings.model_dump(include=set(Behaviour.model_fields)))
    carrier = app.state.carrier = Carrier(initial, random.Random(settings.seed))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return JSONResponse({"code": "invalid_request", "message": message}, 422)

    async def answer(status_code: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
        if delay := carrier.delay_s():
            await asyncio.sleep(delay)  # after the work is done: a client that gave up finds it done
        return JSONResponse(body, status_code, headers=headers)

    def unavailable() -> JSONResponse:
        return JSONResponse({"code": "unavailable", "message": "Simulated outage"}, 503)

    @app.get("/v1/services")
    async def services() -> list[dict[str, Any]]:
        return [{"carrier": o.carrier, "service": o.service, "transit_days": o.transit_days,
                 "max_weight_kg": o.max_weight_kg, "hazmat": o.hazmat} for o in OFFERS]

    @app.post("/v1/rates")
    async def rates(body: RateRequest) -> JSONResponse:
        if carrier.fails():
            return unavailable()
        return await answer(200, [
            {"carrier": o.carrier, "service": o.service, "amount": str(price(o, body.weight_kg)),
             "currency": CURRENCY, "transit_days": o.transit_days}
            for o in OFFERS if body.weight_kg <= o.max_weight_kg and (o.hazmat or not body.hazmat)])

    @app.post("/v1/labels", status_code=status.HTTP_201_CREATED)
    async def buy_label(body: LabelRequest,
                        key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None
                        ) -> JSONResponse:
        if not key:
            return JSONResponse({"code": "idempotency_key_missing",
                                 "message": "The Idempotency-Key header is required"}, 400)
        if carrier.fails():
            return unavailable()
        status_code, label, replayed = carrier.buy(key, body)  # no await in between: one step per key
        return await answer(status_code, label, {"Idempotent-Replayed": "true"} if replayed else None)

    @app.get("/v1/labels")
    async def labels(reference: str | None = None) -> list[dict[str, Any]]:
        return [p.label for p in carrier.labels.values() if reference is None or p.request.reference == reference]

    @app.post("/v1/handovers/{tracking_number}")
    async def hand_over(tracking_number: str) -> JSONResponse:
        if carrier.fails():
            return unavailable()
        handed = carrier.hand_over(tracking_number)
        if handed is None:
            return JSONResponse({"code": "unknown_tracking_number",
                                 "message": f"No label has tracking number {tracking_number}"}, 404)
        return await answer(200, handed)

    @app.get("/v1/tracking-events")
    async def tracking_events(after: Annotated[int, Query(ge=0)] = 0,
                              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> JSONResponse:
        if carrier.fails():
            return unavailable()
        return await answer(200, {"events": carrier.tracking_events(after, limit)})

    @app.get("/v1/behaviour")
    async def behaviour() -> Behaviour:
        return carrier.behaviour

    @app.put("/v1/behaviour")
    async def set_behaviour(behaviour: Behaviour) -> Behaviour:
        carrier.behaviour = behaviour
        return behaviour

    @app.get("/v1/stats")
    async def stats() -> dict[str, Any]:
        return carrier.stats()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    settings = SimulatorSettings()
    uvicorn.run(create_simulator_app(settings), host=settings.host, port=settings.port, log_level="warning")
