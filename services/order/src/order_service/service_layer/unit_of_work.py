from typing import Self

from ecomops_common.unit_of_work import SqlUnitOfWork
from order_service.adapters.repository import OrderRepository


class OrderUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        return self
