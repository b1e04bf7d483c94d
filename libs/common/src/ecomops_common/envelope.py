"""The event envelope every internal topic carries, and its Kafka headers."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecomops_common import telemetry
from ecomops_common.contracts.types import Document
from ecomops_common.ids import new_id

# Kafka header names; type, version and id travel as headers so routers and the dead-letter tool
# can read them without parsing the value.
H_EVENT_ID = "event_id"
H_EVENT_TYPE = "event_type"
H_EVENT_VERSION = "event_version"
H_SOURCE = "source"
H_TRACEPARENT = "traceparent"
H_CORRELATION_ID = "correlation_id"
H_CONTENT_TYPE = "content-type"


class EventEnvelope(Document):
    model_config = ConfigDict(extra="forbid", frozen=True)
    _checked_elsewhere = frozenset({"payload"})  # by the event type's payload model, which consumers apply

    event_id: str = Field(default_factory=new_id, description="UUIDv7: unique and time-ordered")
    event_type: str = Field(description="PascalCase fact name, e.g. OrderPlaced")
    schema_version: int = Field(ge=1, description="Major version of the payload schema")
    source: str = Field(description="Service that produced the event")
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    aggregate_type: str
    aggregate_id: str = Field(description="Also the Kafka key, so one aggregate's events stay in order")
    correlation_id: str | None = None
    causation_id: str | None = Field(default=None, description="event_id of the message that caused this")
    traceparent: str | None = Field(default=None, description="W3C trace context of the producing span")
    payload: dict[str, Any]

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            (H_EVENT_ID, self.event_id.encode()),
            (H_EVENT_TYPE, self.event_type.encode()),
            (H_EVENT_VERSION, str(self.schema_version).encode()),
            (H_SOURCE, self.source.encode()),
            (H_CONTENT_TYPE, b"application/json"),
        ]
        if self.traceparent:
            headers.append((H_TRACEPARENT, self.traceparent.encode()))
        if self.correlation_id:
            headers.append((H_CORRELATION_ID, self.correlation_id.encode()))
        return headers


def new_event(event_type: str, schema_version: int, source: str, aggregate_type: str, aggregate_id: str,
              payload: BaseModel | dict[str, Any], *, causation_id: str | None = None,
              correlation_id: str | None = None, traceparent: str | None = None) -> EventEnvelope:
    """An envelope carrying the given (else the current) trace context and correlation id."""
    return EventEnvelope(
        event_type=event_type, schema_version=schema_version, source=source,
        aggregate_type=aggregate_type, aggregate_id=aggregate_id,
        correlation_id=correlation_id or telemetry.correlation_id.get(),
        causation_id=causation_id, traceparent=traceparent or telemetry.current_traceparent(),
        payload=payload if isinstance(payload, dict) else payload.model_dump(mode="json"),
    )
