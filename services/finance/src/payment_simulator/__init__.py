"""A simulated payment provider for local runs and tests, with a refund API shaped like Stripe's. Kept apart from
finance_service (neither imports the other): finance only knows a provider's HTTP API.

It pays a refund at most once per idempotency key and replays the first answer to every later call with that key.
On request it is slow, unavailable, declines, or pays and then answers too late: the case where a client that
timed out might be tempted to pay again under a new key. GET /v1/stats counts what happened, including references
paid more than once, so tests can prove that never happens.

It runs as its own process (`payment-simulator`, or `python -m payment_simulator`) so finance can be killed and
restarted while the provider keeps what it paid. The state is in memory only: restarting the simulator itself
forgets every payment and key.
"""

import asyncio
import os
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Header, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator


class RefundRequest(BaseModel):
    amount: str = Field(description="A decimal string above zero, e.g. '12.50'")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    reference: str = Field(min_length=1, max_length=200, description="The client's refund id")
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("amount")
    @classmethod
    def _positive_decimal(cls, value: str) -> str:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
        if not amount.is_finite() or amount <= 0:
            raise ValueError("must be a number above zero")
        return value

    def same_refund(self, other: "RefundRequest") -> bool:
        """What a key may not change between calls; metadata may (it does not move money)."""
        return (Decimal(self.amount), self.currency.upper(), self.reference) == \
            (Decimal(other.amount), other.currency.upper(), other.reference)


class Behaviour(BaseModel):
    latency_ms: int = Field(default=0, ge=0, description="Added to every answer to POST /v1/refunds")
    unavailable_rate: float = Field(default=0, ge=0, le=1, description="Share answered 503, with nothing done")
    decline_rate: float = Field(default=0, ge=0, le=1, description="Share declined as card_closed")
    timeout_rate: float = Field(default=0, ge=0, le=1, description="Share paid, then answered timeout_delay_s late")
    timeout_delay_s: float = Field(default=10, ge=0)
    decline_references: list[str] = Field(default_factory=list, description="References always declined")


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    delay_s: float = 0
    replayed: bool = False


@dataclass
class StoredAnswer:
    request: RefundRequest
    answer: Answer


@dataclass
class Simulator:
    behaviour: Behaviour = field(default_factory=Behaviour)
    answers: dict[str, StoredAnswer] = field(default_factory=dict)  # by idempotency key
    payments: list[dict[str, Any]] = field(default_factory=list)  # in the order they were made
    counts: Counter[str] = field(default_factory=Counter)
    # Checking a key and storing its answer must be one step, or two concurrent calls with the same key both pay.
    # Nothing in that step awaits today; the lock keeps it one step if it ever does (e.g. a store on disk).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    rng: random.Random = field(default_factory=random.Random)

    def answer(self, key: str, request: RefundRequest) -> Answer:
        """The answer to a refund call; call it under the lock. Any delay is for the caller to wait out."""
        self.counts["attempts"] += 1
        behaviour = self.behaviour
        latency_s = behaviour.latency_ms / 1000
        if (stored := self.answers.get(key)) is not None:
            if not stored.request.same_refund(request):
                return Answer(409, {"code": "idempotency_key_reused",
                                    "message": f"Idempotency key {key} was used for a different refund"}, latency_s)
            self.counts["replays"] += 1
            return Answer(stored.answer.status_code, stored.answer.body, latency_s, replayed=True)
        if self.rng.random() < behaviour.unavailable_rate:
            self.counts["unavailable"] += 1  # not stored: nothing was done, so a retry is a first call
            return Answer(503, {"code": "unavailable", "message": "Simulated outage"}, latency_s)
        if request.reference in behaviour.decline_references or self.rng.random() < behaviour.decline_rate:
            self.counts["declines"] += 1
            return self._store(key, request, Answer(402, {"code": "card_closed",
                                                          "message": "The customer's card is closed"}, latency_s))
        payment = {"id": f"re_{uuid.uuid4().hex}", "key": key, "reference": request.reference,
                   "amount": request.amount, "currency": request.currency.upper(), "metadata": request.metadata,
                   "created_at": datetime.now(UTC).isoformat()}
        self.payments.append(payment)
        delay_s = latency_s
        if self.rng.random() < behaviour.timeout_rate:
            self.counts["timeouts"] += 1  # paid and stored already: only the answer is late
            delay_s += behaviour.timeout_delay_s
        return self._store(key, request, Answer(201, payment, delay_s))

    def _store(self, key: str, request: RefundRequest, answer: Answer) -> Answer:
        self.answers[key] = StoredAnswer(request, answer)
        return answer

    def stats(self) -> dict[str, Any]:
        paid_per_reference = Counter(payment["reference"] for payment in self.payments)
        return {"payments": len(self.payments),
                **{name: self.counts[name] for name in ("declines", "replays", "unavailable", "timeouts", "attempts")},
                # Each payment has its own key, so a reference paid twice was paid under two keys: a double refund
                "duplicate_references": sorted(ref for ref, paid in paid_per_reference.items() if paid > 1)}


def create_simulator_app() -> FastAPI:
    app = FastAPI(title="Payment provider simulator")
    simulator = app.state.simulator = Simulator()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # In the provider's error shape (code, message), which the client reads for declines
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return JSONResponse({"code": "invalid_request", "message": message}, 422)

    @app.post("/v1/refunds", status_code=status.HTTP_201_CREATED)
    async def refund(body: RefundRequest,
                     key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None
                     ) -> JSONResponse:
        if not key:
            return JSONResponse({"code": "idempotency_key_missing",
                                 "message": "The Idempotency-Key header is required"}, status.HTTP_400_BAD_REQUEST)
        async with simulator.lock:
            answer = simulator.answer(key, body)
        # Waited out after storing and outside the lock: a late answer holds up no other call, and a client that
        # gives up meanwhile finds the payment made when it asks again with the same key.
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        return JSONResponse(answer.body, answer.status_code,
                            headers={"Idempotent-Replayed": "true"} if answer.replayed else None)

    @app.get("/v1/refunds")
    async def payments(reference: str | None = None) -> list[dict[str, Any]]:
        return [payment for payment in simulator.payments if reference is None or payment["reference"] == reference]

    @app.get("/v1/behaviour")
    async def behaviour() -> Behaviour:
        return simulator.behaviour

    @app.put("/v1/behaviour")
    async def set_behaviour(behaviour: Behaviour) -> Behaviour:
        simulator.behaviour = behaviour
        return behaviour

    @app.get("/v1/stats")
    async def stats() -> dict[str, Any]:
        return simulator.stats()

    @app.post("/v1/reset", status_code=status.HTTP_204_NO_CONTENT)
    async def reset() -> None:
        simulator.behaviour = Behaviour()
        simulator.answers.clear()
        simulator.payments.clear()
        simulator.counts.clear()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    uvicorn.run(create_simulator_app(), host=os.environ.get("PAYMENT_SIMULATOR_HOST", "127.0.0.1"),
                port=int(os.environ.get("PAYMENT_SIMULATOR_PORT", "8090")), log_level="warning")
