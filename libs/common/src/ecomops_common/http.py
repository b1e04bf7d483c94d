"""The HTTP side every service shares: health, readiness, metrics, tracing and correlation ids, and the limits
on what a request may carry (body size, NUL characters, how much of a rejected input a 422 echoes)."""

import math
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from ecomops_common import metrics, telemetry
from ecomops_common.access import RateLimits, openapi_security
from ecomops_common.auth import TokenVerifier
from ecomops_common.batching import Overloaded
from ecomops_common.contracts.types import NUL_MESSAGE
from ecomops_common.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from ecomops_common.ids import new_id
from ecomops_common.resilience import is_transient
from ecomops_common.runtime import ServiceRuntime

CORRELATION_HEADER = "x-correlation-id"
# A 422 repeats a rejected value, a rule's context or a location part only up to this many characters, and a
# message up to MESSAGE_LIMIT: a large invalid body is not sent back.
ECHO_LIMIT = 200
MESSAGE_LIMIT = 500
_UNENCODABLE = re.compile("[\ud800-\udfff]")  # lone surrogates: JSON may carry them, UTF-8 cannot


async def refuse_nul_characters(request: Request) -> None:
    """PostgreSQL cannot store U+0000: refused in the path, query and headers (bodies: contracts.types.Document),
    with a 422 naming each parameter."""
    places = (("path", request.path_params.items()), ("query", request.query_params.multi_items()),
              ("header", request.headers.items()))
    errors = [{"type": "string_nul", "loc": (place, name), "msg": NUL_MESSAGE}
              for place, items in places for name, value in items if "\x00" in value]
    if errors:
        raise RequestValidationError(errors)


class Readiness(BaseModel):
    ready: bool = Field(description="The HTTP API can serve: its database answers")
    degraded: list[str] = Field(description="The checks that are not ok")
    checks: dict[str, str] = Field(description="database, kafka, consumers: ok, or what is wrong")


def create_app(runtime: ServiceRuntime, *, title: str, routers: Iterable[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # FastAPI's own telemetry would add a second server span per request; ObservabilityMiddleware has it.
    settings = runtime.settings
    # /docs logs in at the issuer as the console client (authorization code with PKCE).
    app = FastAPI(title=title, lifespan=lifespan, dependencies=[Depends(refuse_nul_characters)],
                  swagger_ui_init_oauth={"clientId": settings.oidc_console_client_id,
                                         "usePkceWithAuthorizationCodeGrant": True, "scopes": "openid"},
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(
        settings.oidc_issuer, settings.oidc_audience, roles_claim=settings.oidc_roles_claim,
        jwks_url=settings.oidc_jwks_url) if settings.oidc_issuer else None
    app.state.rate_limits = RateLimits(settings.rate_limit_per_client)
    for router in routers:
        app.include_router(router)
    generate_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_security(generate_openapi(), settings.oidc_issuer)
        return app.openapi_schema

    app.openapi = openapi

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], response_model=Readiness,
             responses={503: {"model": Readiness, "description": "The database is unavailable"}})
    async def readyz() -> JSONResponse:
        """200 while the HTTP API can serve (its database answers), with what is degraded: Kafka down or
        consumers not joined yet only delays publishing (the outbox keeps it) and consuming, so a load balancer
        must not take the API out of service for it. 503 when the database is unavailable."""
        checks = await runtime.readiness()
        serving = checks["database"] == "ok"
        degraded = sorted(name for name, value in checks.items() if value != "ok")
        return JSONResponse(Readiness(ready=serving, degraded=degraded, checks=checks).model_dump(),
                            status_code=200 if serving else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def prometheus_metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": [bounded_error(e) for e in error.errors()]}, status_code=422)

    @app.exception_handler(Refused)
    async def refused(_request: Request, error: Refused) -> JSONResponse:
        return refusal_response(error)

    @app.exception_handler(Overloaded)
    async def overloaded(_request: Request, error: Overloaded) -> JSONResponse:
        return JSONResponse({"detail": f"too busy ({error}), retry"}, status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def unavailable(_request: Request, error: Exception) -> JSONResponse:
        # A database or broker outage is the server's problem and worth a retry; anything else is a bug.
        if is_transient(error):
            return JSONResponse({"detail": "temporarily unavailable, retry"}, status_code=503,
                                headers={"Retry-After": "1"})
        raise error

    app.add_middleware(RequestBodyLimitMiddleware, max_bytes=runtime.settings.max_request_body_bytes)
    app.add_middleware(ObservabilityMiddleware)  # added last: outermost, so it sees every answer, 413 included
    return app


def refusal_response(error: Refused) -> JSONResponse:
    """The one mapping of the rules' refusals to HTTP answers."""
    if isinstance(error, Invalid):
        return JSONResponse({"detail": [{"loc": ["body", *problem.field.split(".")], "msg": problem.message,
                                         "type": error.code} for problem in error.problems]}, status_code=422)
    if isinstance(error, Forbidden):
        return JSONResponse({"detail": error.message, "reason": error.reason}, status_code=403)
    status_code = 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 400
    return JSONResponse({"detail": str(error)}, status_code=status_code)


async def entered_unit_of_work(request: Request) -> AsyncIterator[Any]:
    """A route's unit of work, entered for the request; each service types it, e.g.
    `UnitOfWork = Annotated[OrderUnitOfWork, Depends(entered_unit_of_work)]`. The service layer commits."""
    async with request.app.state.unit_of_work() as uow:
        yield uow


def bounded_error(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error as answered: loc, msg and type, plus the rejected input and the rule's context where
    they are short (a missing field's input is the whole enclosing object: never echoed)."""
    bounded = {"loc": [_shortened(part, ECHO_LIMIT) for part in error["loc"]],
               "msg": _shortened(error["msg"], MESSAGE_LIMIT), "type": error["type"]}
    if "input" in error and _echoable(error["input"]):
        bounded["input"] = error["input"]
    context = {key: value if isinstance(value, str | int | float | None) else str(value)
               for key, value in error.get("ctx", {}).items()}
    if context := {key: value for key, value in context.items() if _echoable(value)}:
        bounded["ctx"] = context
    return bounded


def _echoable(value: Any) -> bool:
    """A short string, a finite number that fits 64 bits, a boolean or null: small, and valid JSON (a string with a
    lone surrogate, refused for that, cannot be encoded in the answer)."""
    if isinstance(value, str):
        return len(value) <= ECHO_LIMIT and _UNENCODABLE.search(value) is None
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, int) and abs(value) < 2**63


def _shortened(value: Any, limit: int) -> Any:
    if not isinstance(value, str):
        return value
    value = _UNENCODABLE.sub("\ufffd", value)  # e.g. a dict key with a lone surrogate, in loc
    return value[:limit] + "…" if len(value) > limit else value


class RequestBodyLimitMiddleware:
    """Pure ASGI: a request body above `max_bytes` is refused with 413 before anything holds it: at once when
    Content-Length announces it, else as soon as the chunks read pass the limit (chunked uploads)."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"request body larger than {max_bytes} bytes"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await JSONResponse({"detail": self.detail}, status_code=413)(scope, receive, send)
        received = 0

        async def receive_within_limit():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised while FastAPI reads the body: it answers with this HTTPException's 413.
                raise HTTPException(413, self.detail)
            return message

        await self.app(scope, receive_within_limit, send)


class ObservabilityMiddleware:
    """Pure ASGI (cheaper than BaseHTTPMiddleware): server span, correlation id, latency histogram."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        correlation = headers.get(CORRELATION_HEADER) or new_id()
        token = telemetry.correlation_id.set(correlation)
        status = 500
        started = time.perf_counter()

        async def send_with_correlation(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), correlation.encode())]
            await send(message)

        parent = telemetry.context_from_traceparent(headers.get("traceparent"))
        with telemetry.tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}", context=parent, kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
        ) as span:
            try:
                await self.app(scope, receive, send_with_correlation)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                span.update_name(f"{scope['method']} {template}")
                span.set_attribute("http.response.status_code", status)
                metrics.HTTP_SECONDS.labels(scope["method"], template, str(status)).observe(
                    time.perf_counter() - started)
                telemetry.correlation_id.reset(token)


def serve(app: FastAPI, settings) -> None:
    """Runs a service's app until SIGTERM, then lets in-flight requests and the batch in hand finish."""
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
                timeout_graceful_shutdown=20)


def service_main(build_app: Callable[[Any], FastAPI], settings_class: type) -> Callable[[], None]:
    """A service's console script: its settings from the environment, its app served until SIGTERM."""
    def main() -> None:
        settings = settings_class()
        serve(build_app(settings), settings)

    return main
