"""Transactional outbox (Debezium's column names): events are rows written with the state change."""

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Index, Integer, String, Text, insert, text
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
