"""Idempotent consumers (Eventuate's received-messages table): an event is handled once per consumer."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from ecomops_common import metrics
from ecomops_common.db import UtcDateTime, dialect_of


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_processed_at", "processed_at"),)

    consumer: str = Field(sa_column=Column(String(200), primary_key=True))
    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    processed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


async def claim_new_events(session, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """Records the events as processed by `consumer` in the caller's transaction.

    Returns the ids not seen before; the others are duplicates, counted and to be skipped. Two
    replicas claiming the same id concurrently: the unique key makes one of them wait and skip.
    """
    all_ids = list(event_ids)
    unique_ids = list(dict.fromkeys(all_ids))
    if not unique_ids:
        return set()
    dialect = dialect_of(session)
    now = datetime.now(UTC)
    # executemany form: compiled once and cached (a multi-row VALUES would be compiled anew every batch)
    statement = (
        dialect.insert(ProcessedEvent.__table__)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.__table__.c.event_id)
    )
    rows = [{"consumer": consumer, "event_id": event_id, "processed_at": now} for event_id in unique_ids]
    new_ids = set((await session.execute(statement, rows)).scalars().all())
    duplicates = len(all_ids) - len(new_ids)
    if duplicates:
        metrics.DUPLICATES_SKIPPED.labels(consumer=consumer).inc(duplicates)
    return new_ids
