"""Tracing (OpenTelemetry, W3C traceparent end to end) and structured JSON logs with correlation ids."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from opentelemetry import context as otel_context
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import __version__ as sqlalchemy_instrumentation_version
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_propagator = TraceContextTextMapPropagator()
tracer = trace.get_tracer("ecomops")
_database_tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy", sqlalchemy_instrumentation_version)
# The instrumentation's connection-pool counter; a no-op, as no OpenTelemetry meter provider is set (Prometheus is).
_pool_connections = otel_metrics.get_meter("opentelemetry.instrumentation.sqlalchemy").create_up_down_counter(
    "db.client.connections.usage")


class _NoLoneClientSpans(Sampler):
    """Root sampler: a database statement outside any request, message or publish span starts no trace of its
    own (the outbox relay's and the periodic jobs' polls would be most traces); anything else does."""

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                      trace_state=None) -> SamplingResult:
        lone = kind is trace.SpanKind.CLIENT
        return SamplingResult(Decision.DROP if lone else Decision.RECORD_AND_SAMPLE, None if lone else attributes)

    def get_description(self) -> str:
        return "NoLoneClientSpans"


# Whether any span processor takes spans. Without one, the spans per statement and per published record are
# not made at all: they would cost the hot path (about 15 % of topic intake) for nothing.
_exporting = False


def setup_tracing(service_name: str, otlp_endpoint: str | None, *extra: SpanProcessor) -> TracerProvider:
    """Installs the global tracer provider once; spans go to OTLP when an endpoint is configured."""
    global _exporting
    _exporting = _exporting or bool(otlp_endpoint or extra)
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}),
                                  sampler=ParentBased(root=_NoLoneClientSpans()))
        trace.set_tracer_provider(provider)
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
                endpoint=otlp_endpoint.rstrip("/") + "/v1/traces")))
    for processor in extra:
        provider.add_span_processor(processor)
    return provider


def trace_database(engine: AsyncEngine) -> None:
    """A span per statement (opentelemetry-instrumentation-sqlalchemy), child of the request's or message's span.
    Its EngineTracer directly: SQLAlchemyInstrumentor().instrument(engine=...) takes effect once per process."""
    if not _exporting:
        return
    EngineTracer(_database_tracer, engine.sync_engine, _pool_connections)


def publish_span(topic: str, headers: dict[str, str]) -> trace.Span:
    """A PRODUCER span for one record, in the trace the record's traceparent header names (a new one without);
    the header then names this span, so the consumers' spans follow the publishing. The caller ends it."""
    if not _exporting:  # the consumers' spans follow the record's own traceparent
        return trace.INVALID_SPAN
    span = tracer.start_span(f"{topic} publish", context=context_from_traceparent(headers.get("traceparent")),
                             kind=trace.SpanKind.PRODUCER,
                             attributes={"messaging.system": "kafka", "messaging.destination.name": topic,
                                         "messaging.operation.type": "send"})
    if span.get_span_context().is_valid:
        _propagator.inject(headers, context=trace.set_span_in_context(span))
    return span


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return _propagator.extract({"traceparent": traceparent})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        service = getattr(record, "service", None) or _service_name
        if service:
            entry["service"] = service
        if cid := correlation_id.get():
            entry["correlation_id"] = cid
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_service_name: str | None = None


def setup_logging(service_name: str, level: str = "INFO") -> None:
    global _service_name
    _service_name = service_name
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
