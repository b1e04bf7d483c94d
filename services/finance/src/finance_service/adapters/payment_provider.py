"""The payment provider that pays refunds: one call per refund instruction, answered paid, declined or unknown."""

import asyncio
from typing import Any, Protocol

import httpx

from finance_service.domain.payouts import ProviderOutcome, ProviderResult, RefundInstruction

PAID = frozenset({200, 201})
# The provider looked at the refund and said no (402 card declined, 422 invalid, 409 key reused for another
# refund): nothing was paid, so asking again with the same key would only replay the no.
DECLINED = frozenset({402, 409, 422})


class PaymentProvider(Protocol):
    """Pays one refund. Never raises for the provider's answers: every answer is a ProviderResult.

    `paid` and `declined` are final. Anything that leaves it open whether money moved is `unknown`, and the caller
    asks again later with the same `instruction.idempotency_key`; the provider then answers the first result
    instead of paying twice. So an implementation must send that key with every call and never invent a new one.

    A real provider plugs in as another implementation of this protocol:
    - Stripe: POST /v1/refunds with the `Idempotency-Key` header (amount in minor units, the payment intent to
      refund); card errors (402, `error.code`) and invalid requests map to `declined`; a 409 for a request still in
      flight under the same key is `unknown`, not a decline; timeouts, 429, 5xx and network errors are `unknown`.
      Refunds that fail later (e.g. an expired card) arrive as `refund.failed` webhooks.
    - Adyen: POST /payments/{pspReference}/refunds with the `Idempotency-Key` header; a refund is only
      "received" there, its outcome arrives in a REFUND notification, so the call itself is at most `unknown`
      until that notification settles it. Refusals map to `declined`; timeouts, 5xx and network errors to `unknown`.
    """

    async def refund(self, instruction: RefundInstruction) -> ProviderResult: ...

    async def close(self) -> None: ...


class HttpPaymentProvider:
    """The refund API of the payment simulator (the payment_simulator package beside this one), shaped like Stripe's."""

    def __init__(self, base_url: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._timeout_s = timeout_s
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport)

    async def refund(self, instruction: RefundInstruction) -> ProviderResult:
        try:
            # httpx's timeout bounds each phase (connect, read...) over a socket; this one bounds the whole call, and
            # also applies in-process, where httpx.ASGITransport ignores httpx's timeouts.
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post("/v1/refunds", json=_refund_body(instruction),
                                                   headers={"Idempotency-Key": instruction.idempotency_key})
        except (TimeoutError, httpx.TimeoutException):
            # The provider may have paid and not yet answered: the dangerous case, only ever retried with the key
            return _unknown("timeout", f"No answer within {self._timeout_s}s")
        except httpx.TransportError as error:  # after TimeoutException, which is a TransportError too
            return _unknown("network", str(error) or type(error).__name__)
        return _result(response)

    async def close(self) -> None:
        await self._client.aclose()


def _refund_body(instruction: RefundInstruction) -> dict[str, Any]:
    return {"amount": str(instruction.amount), "currency": instruction.currency, "reference": instruction.refund_id,
            "metadata": {"rma_id": instruction.rma_id, "order_id": instruction.order_id,
                         "customer_id": instruction.customer_id, "method": instruction.method}}


def _result(response: httpx.Response) -> ProviderResult:
    status = response.status_code
    body = _json_object(response)
    if status in PAID:
        if isinstance(body.get("id"), str) and body["id"]:
            return ProviderResult(ProviderOutcome.paid, reference=body["id"])
        # Probably paid, but without the provider's id nothing can be reconciled: unknown is retried with the same
        # key, which can never pay twice, whereas a final answer would hide the problem.
        return _unknown("bad_response", f"HTTP {status} without a payment id")
    if status in DECLINED:
        message = body.get("message")
        return ProviderResult(ProviderOutcome.declined, code=str(body.get("code") or f"http_{status}"),
                              message=str(message) if message is not None else response.text[:500] or None)
    if status == 503:
        return _unknown("unavailable", "The provider is unavailable")
    # 5xx, 429 and anything unexpected (400, 401, 404...): not known to be paid nor refused for good, so retried
    # with the same key, which is always safe.
    return _unknown(f"http_{status}", response.text[:500] or None)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _unknown(code: str, message: str | None) -> ProviderResult:
    return ProviderResult(ProviderOutcome.unknown, code=code, message=message)
