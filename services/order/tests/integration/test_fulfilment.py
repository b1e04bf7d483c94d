"""The warehouse's progress on PostgreSQL: a batch gives what one update at a time gives, in as many statements
however many orders and updates it has."""

import contextlib
import json

import pytest
from sqlalchemy import event, text

from ecomops_common.contracts.channel import ChannelOrder
from ecomops_common.contracts.warehouse import OrderFulfilmentChanged
from ecomops_common.db import Database
from ecomops_common.testing.fakes import FakeDelivery
from ecomops_common.testing.samples import channel_order
from order_service.service_layer.fulfilment import record_warehouse_events
from order_service.service_layer.intake import Submission, take_orders
from order_service.service_layer.unit_of_work import SqlOrderUnitOfWork

pytestmark = pytest.mark.integration

STATUSES = {"o1": "allocated", "o2": "partially_allocated", "o3": "released_to_warehouse",
            "o4": "awaiting_allocation", "o5": "cancelled", "o6": "packed"}
# By order name: several updates of one order, a late one (o3 picking after packed), an order awaiting its
# allocation result (o4) and one that is cancelled (o5).
BATCH = [("o1", "released_to_warehouse"), ("o2", "picking"), ("o1", "picking"), ("o3", "packed"),
         ("o4", "released_to_warehouse"), ("o3", "picking"), ("o5", "picking"), ("o1", "packed"),
         ("o6", "shipped"), ("o4", "picking"), ("o6", "delivered")]


@contextlib.asynccontextmanager
async def opened(url: str):
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


async def place(database: Database, statuses: dict[str, str]) -> dict[str, str]:
    """Orders whose external ids are the names given, put in the statuses given; their ids by name."""
    async with SqlOrderUnitOfWork(database) as uow:
        placed = await take_orders(uow, [Submission(ChannelOrder.model_validate(channel_order(external_order_id=name)))
                                         for name in statuses])
    ids = {result.row["external_order_id"]: result.order_id for result in placed}
    async with database.sessions() as session:
        await session.execute(text("UPDATE orders SET status = :status WHERE id = :id"),
                              [{"id": ids[name], "status": status} for name, status in statuses.items()])
        if stages := [{"id": ids[name], "stage": status} for name, status in statuses.items()
                      if status in ("released_to_warehouse", "packed")]:  # as the warehouse reported them
            await session.execute(text("INSERT INTO order_fulfilment_stages (order_id, stage) VALUES (:id, :stage)"),
                                  stages)
        await session.commit()
    return ids


def progress(ids: dict[str, str], name: str, stage: str) -> FakeDelivery[OrderFulfilmentChanged]:
    event = OrderFulfilmentChanged(order_id=ids[name], stage=stage, units=3, picked=3, packed=3,
                                   shipped=3 if stage in ("shipped", "delivered") else 0)
    return FakeDelivery(event, f"e-{name}-{stage}", f"corr-{name}", f"00-{name}-01")


async def handle(database: Database, updates: list[FakeDelivery[OrderFulfilmentChanged]]) -> None:
    async with SqlOrderUnitOfWork(database) as uow:
        await record_warehouse_events(uow, updates)


async def outcome(database: Database) -> tuple:
    """By order name: statuses, stages, audit trails and OrderStatusChanged events, without ids and instants."""
    async with database.sessions() as session:
        statuses = dict((await session.execute(text("SELECT external_order_id, status FROM orders"))).all())
        stages = dict((await session.execute(text(
            "SELECT o.external_order_id, s.stage FROM order_fulfilment_stages s JOIN orders o ON o.id = s.order_id"
        ))).all())
        trails: dict[str, list] = {}
        for name, *transition in await session.execute(text(
                "SELECT o.external_order_id, t.from_status, t.to_status, t.actor, t.reason FROM order_transitions t "
                "JOIN orders o ON o.id = t.order_id ORDER BY t.id")):
            trails.setdefault(name, []).append(tuple(transition))
        envelopes = [json.loads(payload) for payload in (await session.execute(text(
            "SELECT payload FROM outbox WHERE type = 'OrderStatusChanged' ORDER BY position"))).scalars()]
    events = [(e["payload"]["external_order_id"], {k: v for k, v in e["payload"].items() if k != "order_id"},
               e["causation_id"], e["correlation_id"], e["traceparent"]) for e in envelopes]
    return statuses, stages, trails, events


async def test_a_batch_gives_what_one_update_at_a_time_gives(new_database):
    async with opened(await new_database("order")) as batched, opened(await new_database("order")) as one_by_one:
        ids = await place(batched, STATUSES)
        await handle(batched, [progress(ids, name, stage) for name, stage in BATCH])
        ids = await place(one_by_one, STATUSES)
        for name, stage in BATCH:
            await handle(one_by_one, [progress(ids, name, stage)])
        assert await outcome(batched) == await outcome(one_by_one)

        statuses, stages, trails, events = await outcome(batched)
    assert statuses == {"o1": "packed", "o2": "picking", "o3": "packed", "o4": "awaiting_allocation",
                        "o5": "cancelled", "o6": "delivered"}
    assert stages == {"o1": "packed", "o2": "picking", "o3": "picking", "o4": "picking", "o5": "picking",
                      "o6": "delivered"}
    assert trails["o6"][-2:] == [("packed", "shipped", "warehouse", "3/3 units shipped"),
                                 ("shipped", "delivered", "warehouse", None)]
    assert [(name, payload["to_status"], causation) for name, payload, causation, _, _ in events] == [
        ("o1", "released_to_warehouse", "e-o1-released_to_warehouse"),
        ("o2", "released_to_warehouse", "e-o2-picking"), ("o2", "picking", "e-o2-picking"),
        ("o1", "picking", "e-o1-picking"),
        ("o3", "picking", "e-o3-packed"), ("o3", "packed", "e-o3-packed"),
        ("o1", "packed", "e-o1-packed"),
        ("o6", "shipped", "e-o6-shipped"), ("o6", "delivered", "e-o6-delivered"),
    ]
    assert {(correlation, traceparent) for name, _, _, correlation, traceparent in events if name == "o2"} == {
        ("corr-o2", "00-o2-01")}


async def test_a_batch_costs_as_many_statements_however_many_orders_and_updates_it_has(database_url):
    async with opened(database_url) as database:
        ids = await place(database, {f"o{n}": "allocated" for n in range(60)})
        statements: list[str] = []
        event.listen(database.engine.sync_engine, "before_cursor_execute",
                     lambda connection, cursor, statement, *rest: statements.append(statement))
        counted = []
        for names, stages in ((["o0"], ["released_to_warehouse"]),
                              ([f"o{n}" for n in range(1, 60)], ["picking", "released_to_warehouse", "packed"])):
            statements.clear()
            await handle(database, [progress(ids, name, stage) for name in names for stage in stages])
            counted.append(len(statements))
    # Locking the orders, their stages, their holds, their statuses, their transitions, the outbox.
    assert counted == [6, 6], statements
