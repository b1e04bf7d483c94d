"""The HTTP payment provider against the payment simulator, in process: paid, declined and unknown outcomes, and
a refund paid at most once per idempotency key whatever happens to the answers."""

import asyncio
from decimal import Decimal

import httpx
import pytest

from finance_service.adapters.payment_provider import HttpPaymentProvider
from finance_service.domain.payouts import ProviderOutcome, ProviderResult, RefundInstruction, idempotency_key
from payment_simulator import create_simulator_app

BASE_URL = "http://payments"


@pytest.fixture
def simulator_app():
    return create_simulator_app()


@pytest.fixture
async def simulator(simulator_app):
    """A client on the simulator's control API: behaviour, payments, stats."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator_app), base_url=BASE_URL) as client:
        yield client


def provider_on(app, timeout_s: float = 2.0) -> HttpPaymentProvider:
    return HttpPaymentProvider(BASE_URL, timeout_s, transport=httpx.ASGITransport(app=app))


@pytest.fixture
async def provider(simulator_app):
    provider = provider_on(simulator_app)
    yield provider
    await provider.close()


def instruction(refund_id: str = "RF-1", amount: str = "25.50", **changes) -> RefundInstruction:
    fields = {"idempotency_key": idempotency_key("RMA-1", refund_id), "refund_id": refund_id, "rma_id": "RMA-1",
              "order_id": "ORD-1", "customer_id": "CUST-1", "amount": Decimal(amount), "currency": "EUR"}
    return RefundInstruction(**{**fields, **changes})


async def behave(simulator: httpx.AsyncClient, **behaviour) -> None:
    (await simulator.put("/v1/behaviour", json=behaviour)).raise_for_status()


async def stats(simulator: httpx.AsyncClient) -> dict:
    return (await simulator.get("/v1/stats")).json()


async def test_a_paid_refund_asked_again_with_its_key_is_replayed_not_paid_twice(provider, simulator):
    first = await provider.refund(instruction())
    again = await provider.refund(instruction())

    assert first.outcome == ProviderOutcome.paid and first.reference.startswith("re_")
    assert again == first
    assert await stats(simulator) == {
        "payments": 1, "replays": 1, "declines": 0, "unavailable": 0, "timeouts": 0, "attempts": 2,
        "duplicate_references": []}
    [payment] = (await simulator.get("/v1/refunds", params={"reference": "RF-1"})).json()
    assert payment | {"created_at": None} == {
        "id": first.reference, "key": "refund:RMA-1:RF-1", "reference": "RF-1", "amount": "25.50", "currency": "EUR",
        "metadata": {"rma_id": "RMA-1", "order_id": "ORD-1", "customer_id": "CUST-1", "method": "original_payment"},
        "created_at": None}


async def test_a_declined_refund_stays_declined_when_asked_again(provider, simulator):
    await behave(simulator, decline_references=["RF-1"])

    first = await provider.refund(instruction())
    await behave(simulator)  # the card is fine again, but the key's answer is already given
    again = await provider.refund(instruction())

    assert first.outcome == ProviderOutcome.declined and first.code == "card_closed" and first.message
    assert again == first
    assert (await stats(simulator))["payments"] == 0
    assert (await stats(simulator))["replays"] == 1


async def test_an_unavailable_provider_is_unknown_and_keeps_nothing(provider, simulator):
    await behave(simulator, unavailable_rate=1)

    result = await provider.refund(instruction())

    assert result.outcome == ProviderOutcome.unknown and result.code == "unavailable"
    assert (await simulator.get("/v1/refunds")).json() == []
    await behave(simulator)
    assert (await provider.refund(instruction())).outcome == ProviderOutcome.paid  # a first call, not a replay
    assert (await stats(simulator))["replays"] == 0


async def test_a_refund_paid_but_answered_too_late_is_unknown_and_its_retry_finds_the_payment(simulator_app,
                                                                                               simulator):
    await behave(simulator, timeout_rate=1, timeout_delay_s=0.3)
    provider = provider_on(simulator_app, timeout_s=0.1)
    try:
        timed_out = await provider.refund(instruction())
        [payment] = (await simulator.get("/v1/refunds")).json()
        retried = await provider.refund(instruction())
    finally:
        await provider.close()

    assert timed_out.outcome == ProviderOutcome.unknown and timed_out.code == "timeout"
    assert retried == ProviderResult(ProviderOutcome.paid, reference=payment["id"])
    assert (await stats(simulator))["payments"] == 1
    assert (await stats(simulator))["timeouts"] == 1


async def test_concurrent_calls_with_one_key_pay_once(provider, simulator):
    await behave(simulator, latency_ms=20)

    results = await asyncio.gather(*(provider.refund(instruction()) for _ in range(10)))

    assert {result.outcome for result in results} == {ProviderOutcome.paid}
    assert len({result.reference for result in results}) == 1
    counts = await stats(simulator)
    assert (counts["payments"], counts["replays"], counts["duplicate_references"]) == (1, 9, [])


async def test_a_key_reused_for_another_amount_is_declined(provider, simulator):
    paid = await provider.refund(instruction(amount="25.50"))

    reused = await provider.refund(instruction(amount="30.00"))

    assert paid.outcome == ProviderOutcome.paid
    assert reused.outcome == ProviderOutcome.declined and reused.code == "idempotency_key_reused"
    assert (await stats(simulator))["payments"] == 1


async def test_one_refund_paid_under_two_keys_shows_as_a_duplicate(provider, simulator):
    await provider.refund(instruction())
    await provider.refund(instruction(idempotency_key=idempotency_key("RMA-1", "RF-1", generation=1)))

    assert (await stats(simulator))["duplicate_references"] == ["RF-1"]


async def test_a_dropped_connection_is_unknown():
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    provider = HttpPaymentProvider(BASE_URL, 1.0, transport=httpx.MockTransport(drop))
    try:
        result = await provider.refund(instruction())
    finally:
        await provider.close()

    assert result.outcome == ProviderOutcome.unknown and result.code == "network"


@pytest.mark.parametrize(("status", "outcome", "code"), [
    (500, ProviderOutcome.unknown, "http_500"),
    (429, ProviderOutcome.unknown, "http_429"),
    (402, ProviderOutcome.declined, "http_402"),  # a decline without the provider's error body
    (201, ProviderOutcome.unknown, "bad_response"),  # paid, says the status, but with no payment id
])
async def test_other_answers(status, outcome, code):
    provider = HttpPaymentProvider(BASE_URL, 1.0, transport=httpx.MockTransport(lambda _: httpx.Response(status)))
    try:
        result = await provider.refund(instruction())
    finally:
        await provider.close()

    assert (result.outcome, result.code) == (outcome, code)


async def test_the_simulator_refuses_calls_without_a_key_or_with_a_bad_body(simulator):
    body = {"amount": "10.00", "currency": "EUR", "reference": "RF-9"}

    missing_key = await simulator.post("/v1/refunds", json=body)
    bad_amount = await simulator.post("/v1/refunds", json=body | {"amount": "-1"}, headers={"Idempotency-Key": "k"})
    bad_currency = await simulator.post("/v1/refunds", json=body | {"currency": "EURO"},
                                        headers={"Idempotency-Key": "k"})
    bad_behaviour = await simulator.put("/v1/behaviour", json={"decline_rate": 1.5})

    assert (missing_key.status_code, bad_amount.status_code, bad_currency.status_code) == (400, 422, 422)
    assert bad_amount.json()["code"] == "invalid_request"
    assert bad_behaviour.status_code == 422
    assert (await stats(simulator))["attempts"] == 0


async def test_reset_forgets_everything(provider, simulator):
    await behave(simulator, decline_rate=1)
    await provider.refund(instruction())

    assert (await simulator.post("/v1/reset")).status_code == 204

    assert (await simulator.get("/v1/behaviour")).json()["decline_rate"] == 0
    assert (await provider.refund(instruction())).outcome == ProviderOutcome.paid
    assert (await simulator.get("/healthz")).json() == {"status": "ok"}
