"""Transactional outbox (Debezium's column names): events are rows written with the state change.

A row the broker can never take as it is (e.g. larger than the topic's maximum message size) is parked:
moved to `outbox_parked` with the error, out of the relay's way, until an operator requeues it after a
fix or discards it (`python -m ecomops_common.outbox_cli`).
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, delete, insert, literal, select, text
from sqlmodel import Field, SQLModel

from ecomops_common import envelope as env
from ecomops_common.db import UtcDateTime
from ecomops_common.envelope import EventEnvelope
from ecomops_common.ids import new_id


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        # Only unpublished rows are ever scanned; partial indexes keep that cheap however large the table.
        Index("ix_outbox_pending", "position", postgresql_where=text("published_at IS NULL"),
              sqlite_where=text("published_at IS NULL")),
        Index("ix_outbox_pending_aggregate", "aggregateid", "position",
              postgresql_where=text("published_at IS NULL"), sqlite_where=text("published_at IS NULL")),
        Index("ix_outbox_published_at", "published_at"),
    )

    # Insertion order; per aggregate it is the order of the state changes (the aggregate row is locked).
    position: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    aggregatetype: str = Field(sa_column=Column(String(64), nullable=False))
    aggregateid: str = Field(sa_column=Column(String(128), nullable=False))
    type: str = Field(sa_column=Column(String(128), nullable=False))
    topic: str = Field(sa_column=Column(String(255), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False), description="The Kafka value: envelope JSON")
    headers: str = Field(sa_column=Column(Text, nullable=False), description="Kafka headers as a JSON object")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


_outbox = OutboxMessage.__table__
# The outbox's columns (position kept, so a requeued row takes its old place), minus published_at.
outbox_parked = Table(
    "outbox_parked", SQLModel.metadata,
    *(Column(column.name, column.type, nullable=column.nullable, primary_key=column.primary_key, autoincrement=False)
      for column in _outbox.columns if column.name != "published_at"),
    Column("parked_at", UtcDateTime(), nullable=False),
    Column("error", Text, nullable=False),
)
_kept = [column.name for column in outbox_parked.columns if column.name in _outbox.columns]


def outbox_row(envelope: EventEnvelope, topic: str) -> dict[str, Any]:
    return {
        "id": envelope.event_id,
        "aggregatetype": envelope.aggregate_type,
        "aggregateid": envelope.aggregate_id,
        "type": envelope.event_type,
        "topic": topic,
        "payload": envelope.model_dump_json(),
        "headers": json.dumps({name: value.decode() for name, value in envelope.kafka_headers()}),
        "created_at": datetime.now(UTC),
    }


def document_row(document: BaseModel, key: str, message_type: str, source: str, topic: str) -> dict[str, Any]:
    """A bare document for a channel topic (e.g. an order one service places through channel.orders.v1)."""
    event_id = new_id()
    return {
        "id": event_id, "aggregatetype": message_type, "aggregateid": key, "type": message_type, "topic": topic,
        "payload": document.model_dump_json(exclude_none=True),
        "headers": json.dumps({env.H_EVENT_ID: event_id, env.H_EVENT_TYPE: message_type, env.H_EVENT_VERSION: "1",
                               env.H_SOURCE: source, env.H_CONTENT_TYPE: "application/json"}),
        "created_at": datetime.now(UTC),
    }


async def add_to_outbox(session, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT for all events of a transaction."""
    if rows:
        await session.execute(insert(OutboxMessage.__table__), rows)


async def park(session, rows: Iterable[tuple[int, str]], at: datetime) -> None:
    """Moves outbox rows (position, error) to outbox_parked, where the relay no longer claims them."""
    rows = list(rows)
    for position, error in rows:
        await session.execute(insert(outbox_parked).from_select(
            [*_kept, "parked_at", "error"],
            select(*(_outbox.c[name] for name in _kept), literal(at, UtcDateTime()), literal(error, Text))
            .where(_outbox.c.position == position)))
    await session.execute(delete(_outbox).where(_outbox.c.position.in_([position for position, _ in rows])))


async def parked_rows(session) -> list[dict[str, Any]]:
    return [dict(row) for row in (await session.execute(
        select(outbox_parked).order_by(outbox_parked.c.position))).mappings()]


async def requeue_parked(session, event_ids: Iterable[str] | None) -> list[str]:
    """Puts parked rows (all with None) back into the outbox at their old position; returns their event ids."""
    chosen = select(outbox_parked.c.id)
    if event_ids is not None:
        chosen = chosen.where(outbox_parked.c.id.in_(list(event_ids)))
    ids = list((await session.execute(chosen.order_by(outbox_parked.c.position))).scalars())
    if ids:
        await session.execute(insert(_outbox).from_select(
            _kept, select(*(outbox_parked.c[name] for name in _kept)).where(outbox_parked.c.id.in_(ids))))
        await session.execute(delete(outbox_parked).where(outbox_parked.c.id.in_(ids)))
    return ids


async def discard_parked(session, event_ids: Iterable[str]) -> list[str]:
    """Deletes parked rows for good (an event that must never be sent); returns the event ids deleted."""
    deleted = await session.execute(
        delete(outbox_parked).where(outbox_parked.c.id.in_(list(event_ids))).returning(outbox_parked.c.id))
    return list(deleted.scalars())
