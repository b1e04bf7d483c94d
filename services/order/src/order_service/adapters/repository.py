"""Order persistence. Inserts are set-based so a consumed batch costs one statement."""

from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from order_service.adapters.orm import OrderRecord

_orders = OrderRecord.__table__


class OrderRepository:
    def __init__(self, session) -> None:
        self.session = session

    async def add_new(self, rows: list[dict[str, Any]]) -> set[str]:
        """Inserts the rows whose (channel, external_order_id) is new; returns the ids inserted."""
        if not rows:
            return set()
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        # executemany form: compiled once and cached, sent as multi-row batches by SQLAlchemy
        statement = (
            dialect.insert(_orders)
            .on_conflict_do_nothing(index_elements=["channel", "external_order_id"])
            .returning(_orders.c.id)
        )
        return set((await self.session.execute(statement, rows)).scalars().all())

    async def get(self, order_id: str) -> OrderRecord | None:
        return await self.session.get(OrderRecord, order_id)

    async def get_by_channel_ids(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored rows (as column dicts) of these (channel, external_order_id) keys."""
        if not keys:
            return {}
        statement = select(_orders).where(tuple_(_orders.c.channel, _orders.c.external_order_id).in_(keys))
        rows = (await self.session.execute(statement)).mappings().all()
        return {(row["channel"], row["external_order_id"]): dict(row) for row in rows}

    async def list(self, *, channel: str | None, status: str | None, limit: int,
                   after_id: str | None) -> list[OrderRecord]:
        statement = select(OrderRecord).order_by(OrderRecord.id).limit(limit)
        if channel:
            statement = statement.where(OrderRecord.channel == channel)
        if status:
            statement = statement.where(OrderRecord.status == status)
        if after_id:
            statement = statement.where(OrderRecord.id > after_id)
        return list((await self.session.execute(statement)).scalars().all())
