"""The HTTP side every service shares: health, readiness, metrics, tracing and correlation ids."""

import hmac
import time
from collections.abc import Iterable
from contextlib import asynccontextmanager

import uvicorn
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ecomops_common import metrics, telemetry
from ecomops_common.ids import new_id
from ecomops_common.resilience import is_transient
from ecomops_common.runtime import ServiceRuntime

CORRELATION_HEADER = "x-correlation-id"


def create_app(runtime: ServiceRuntime, *, title: str, routers: Iterable[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # FastAPI's own telemetry would add a second server span per request; ObservabilityMiddleware has it.
    app = FastAPI(title=title, lifespan=lifespan, telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.runtime = runtime
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """200 while the HTTP API can serve (its database answers), with what is degraded: Kafka down or
        consumers not joined yet only delays publishing (the outbox keeps it) and consuming, so a load balancer
        must not take the API out of service for it. 503 when the database is unavailable."""
        checks = await runtime.readiness()
        serving = checks["database"] == "ok"
        degraded = sorted(name for name, value in checks.items() if value != "ok")
        return JSONResponse({"ready": serving, "degraded": degraded, "checks": checks},
                            status_code=200 if serving else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def prometheus_metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(Exception)
    async def unavailable(_request: Request, error: Exception) -> JSONResponse:
        # A database or broker outage is the server's problem and worth a retry; anything else is a bug.
        if is_transient(error):
            return JSONResponse({"detail": "temporarily unavailable, retry"}, status_code=503,
                                headers={"Retry-After": "1"})
        raise error

    app.add_middleware(ObservabilityMiddleware)
    return app


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


async def require_api_token(request: Request) -> None:
    """Supervisor and admin calls carry `Authorization: Bearer <the service's API token>`."""
    expected = request.app.state.runtime.settings.api_token
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(403, "invalid token")
