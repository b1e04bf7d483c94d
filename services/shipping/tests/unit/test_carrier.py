"""The HTTP carrier against the carrier simulator, in process: quotes, a label sold at most once per idempotency key
whatever happens to the answers, refusals, and the tracking timeline after the handover."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from carrier_simulator import SimulatorSettings, add_business_days, create_simulator_app
from shipping_service.adapters.carrier import CarrierUnavailable, HttpCarrier
from shipping_service.domain.parcels import LabelOutcome, LabelRequest
from shipping_service.domain.rates import ParcelSpec

BASE_URL = "http://carrier"
CALM = {"late_rate": 0, "exception_rate": 0, "failure_rate": 0, "slow_rate": 0, "slow_s": 0, "seconds_per_day": 0.05}


@pytest.fixture
def simulator_app():
    return create_simulator_app(SimulatorSettings(**CALM, seed=7))


@pytest.fixture
async def simulator(simulator_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator_app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def carrier(simulator_app):
    carrier = HttpCarrier(BASE_URL, 0.5, transport=httpx.ASGITransport(app=simulator_app))
    yield carrier
    await carrier.close()


def request(key: str = "o-1@WH1", service: str = "ground", weight_kg: float = 2.0, **changes) -> LabelRequest:
    return LabelRequest(**{"idempotency_key": key, "carrier": "simdhl", "service": service, "weight_kg": weight_kg,
                           "hazmat": False, "reference": key, "ship_from": "WH1", "is_return": False, **changes})


async def behave(simulator, **changes) -> None:
    (await simulator.put("/v1/behaviour", json={**CALM, **changes})).raise_for_status()


async def stats(simulator) -> dict:
    return (await simulator.get("/v1/stats")).json()


async def test_quotes_per_service_by_weight_and_hazmat(carrier):
    quotes = {q.key: q.amount for q in await carrier.quote(ParcelSpec(2.0, hazmat=False))}
    assert quotes == {"simdhl/ground": Decimal("5.90"), "simdhl/express": Decimal("15.30"),
                      "simups/standard": Decimal("7.70")}
    assert [q.key for q in await carrier.quote(ParcelSpec(2.0, hazmat=True))] == ["simdhl/ground"]
    assert await carrier.quote(ParcelSpec(80.0, hazmat=False)) == []  # beyond every service's weight
    assert await carrier.quote(ParcelSpec(5000.0, hazmat=False)) == []  # refused outright (422): nothing quoted


async def test_a_label_asked_for_again_with_its_key_is_the_same_label(carrier, simulator):
    first = await carrier.buy_label(request())
    again = await carrier.buy_label(request())
    assert first.outcome is LabelOutcome.bought and again == first
    assert first.label.tracking_number.startswith("JD")
    assert (await stats(simulator))["labels"] == 1


async def test_an_outage_is_unknown_and_the_retry_buys_once(carrier, simulator):
    await behave(simulator, failure_rate=1)
    failed = await carrier.buy_label(request())
    assert (failed.outcome, failed.code) == (LabelOutcome.unknown, "http_503")
    with pytest.raises(CarrierUnavailable):
        await carrier.quote(ParcelSpec(1.0, False))
    await behave(simulator)
    assert (await carrier.buy_label(request())).outcome is LabelOutcome.bought
    assert (await stats(simulator))["labels"] == 1


async def test_a_label_sold_but_answered_too_late_is_found_under_the_same_key(carrier, simulator):
    await behave(simulator, slow_rate=1, slow_s=2)
    late = await carrier.buy_label(request())
    assert (late.outcome, late.code) == (LabelOutcome.unknown, "timeout")
    await behave(simulator)
    found = await carrier.buy_label(request())
    assert found.outcome is LabelOutcome.bought
    assert (await stats(simulator))["labels"] == 1
    assert (await stats(simulator))["duplicate_references"] == []


async def test_refusals_are_final(carrier):
    heavy = await carrier.buy_label(request(weight_kg=40))
    assert (heavy.outcome, heavy.code) == (LabelOutcome.refused, "too_heavy")
    hazmat = await carrier.buy_label(request(key="o-2@WH1", service="express", hazmat=True))
    assert (hazmat.outcome, hazmat.code) == (LabelOutcome.refused, "hazmat_not_accepted")
    await carrier.buy_label(request(key="o-3@WH1"))
    reused = await carrier.buy_label(request(key="o-3@WH1", service="express"))
    assert (reused.outcome, reused.code) == (LabelOutcome.refused, "idempotency_key_reused")


async def test_the_timeline_starts_at_the_handover_and_runs_on_simulated_days(carrier, simulator):
    label = (await carrier.buy_label(request())).label
    assert await carrier.tracking_events(0, 100) == []
    with pytest.raises(CarrierUnavailable):
        await carrier.hand_over("JD-UNKNOWN")
    await carrier.hand_over(label.tracking_number)
    await carrier.hand_over(label.tracking_number)  # idempotent
    await asyncio.sleep(0.5)  # 10 simulated days
    events = await carrier.tracking_events(0, 100)
    assert [e.status for e in events] == ["in_transit", "out_for_delivery", "delivered"]
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[-1].occurred_at.date() == add_business_days(datetime.now(UTC).date(), 3)
    assert await carrier.tracking_events(3, 100) == []
    assert (await stats(simulator))["handovers"] == 1


async def test_some_parcels_end_in_an_exception(carrier, simulator):
    await behave(simulator, exception_rate=1)
    label = (await carrier.buy_label(request())).label
    await carrier.hand_over(label.tracking_number)
    await asyncio.sleep(0.5)
    assert [e.status for e in await carrier.tracking_events(0, 100)] == ["in_transit", "exception"]
