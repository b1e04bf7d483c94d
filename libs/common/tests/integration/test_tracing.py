"""One trace from an HTTP request through its database statements, the outbox relay's publishing and the
consumer that handles the event, on the real broker and PostgreSQL."""

import httpx
import pytest
from fastapi import APIRouter, Request
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import SQLModel

from ecomops_common import telemetry
from ecomops_common.db import Database
from ecomops_common.envelope import new_event
from ecomops_common.http import create_app
from ecomops_common.messaging import BatchConsumer, envelope_decoder
from ecomops_common.migrations import COMMON_TABLES
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.settings import ServiceSettings
from ecomops_common.testing.plugin import eventually, running
from ecomops_common.topics import TopicSpec
from ecomops_common.unit_of_work import SqlUnitOfWork

pytestmark = pytest.mark.integration
TOPIC = "test.noted.v1"


class Noted(BaseModel):
    note_id: str


router = APIRouter()


@router.post("/notes/{note_id}")
async def add_note(note_id: str, request: Request) -> dict[str, str]:
    runtime = request.app.state.runtime
    async with SqlUnitOfWork(runtime.database, topic_prefix=runtime.settings.topic_prefix,
                             on_commit=runtime.relay.wake) as uow:
        await uow.session.execute(text("INSERT INTO notes (id) VALUES (:id)"), {"id": note_id})
        uow.emit(new_event("Noted", 1, "test", "note", note_id, Noted(note_id=note_id)), TOPIC)
        await uow.commit()
    return {"note_id": note_id}


async def test_a_request_and_the_event_it_causes_are_one_trace_with_database_spans(database_url, kafka_bootstrap,
                                                                                  topic_prefix):
    exporter = InMemorySpanExporter()
    telemetry.setup_tracing("test", None, SimpleSpanProcessor(exporter))
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=list(COMMON_TABLES)))
        await connection.execute(text("CREATE TABLE notes (id text PRIMARY KEY)"))
    handled: list[str] = []

    async def handle(deliveries) -> None:
        async with SqlUnitOfWork(database) as uow:
            for delivery in deliveries:
                found = await uow.session.execute(text("SELECT id FROM notes WHERE id = :id"),
                                                  {"id": delivery.message.note_id})
                handled.append(found.scalar_one())

    settings = ServiceSettings(service_name="test", database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                               topic_prefix=topic_prefix)
    runtime = ServiceRuntime(settings, database)
    runtime.topics = [TopicSpec(TOPIC, 1)]
    runtime.consume(BatchConsumer(topic_prefix + "noted", topic_prefix + TOPIC, envelope_decoder(1, {"Noted": Noted}),
                                  handle))
    app = create_app(runtime, title="Notes", routers=[router])
    try:
        async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                   base_url="http://notes") as client:
            assert (await client.post("/notes/n1")).status_code == 200

            async def handled_once() -> bool:
                return handled == ["n1"]

            await eventually(handled_once)
    finally:
        await database.dispose()

    spans = exporter.get_finished_spans()
    (request,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert request.name == "POST /notes/{note_id}" and request.parent is None
    flow = [s for s in spans if s.context.trace_id == request.context.trace_id]
    by_id = {s.context.span_id: s for s in flow}

    def chain(span) -> list[str]:
        """The span's kind and those of its ancestors, up to the request."""
        kinds = []
        while span is not None:
            kinds.append(span.kind.name)
            span = by_id.get(span.parent.span_id) if span.parent else None
        return kinds

    statements = {s.attributes.get("db.statement") or s.attributes.get("db.query.text"): chain(s)
                  for s in flow if s.kind is SpanKind.CLIENT}
    assert statements["INSERT INTO notes (id) VALUES ($1)"] == ["CLIENT", "SERVER"]
    assert statements["SELECT id FROM notes WHERE id = $1"] == ["CLIENT", "CONSUMER", "PRODUCER", "SERVER"]
    (publish,) = [s for s in flow if s.kind is SpanKind.PRODUCER]
    assert publish.name == f"{topic_prefix}{TOPIC} publish"
    # The relay's polls, outside any request or message, started no trace of their own.
    assert all(s.parent is not None for s in spans if s.kind is SpanKind.CLIENT)
