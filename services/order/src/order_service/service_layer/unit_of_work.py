from typing import Self

from prometheus_client import Counter

from ecomops_common.unit_of_work import SqlUnitOfWork
from order_service.adapters.repository import OrderRepository

ORDERS_ENTERED = Counter("ecomops_order_transitions_total", "Orders moved into a status, counted once committed",
                         ["status"])


class OrderUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        return self

    async def commit(self) -> None:
        await super().commit()
        # Only now: a batch that rolls back and is handled again counts its orders once.
        for status, orders in self.orders.entered.items():
            ORDERS_ENTERED.labels(status=status).inc(orders)
        self.orders.entered.clear()

    async def rollback(self) -> None:
        self.orders.entered.clear()
        await super().rollback()
