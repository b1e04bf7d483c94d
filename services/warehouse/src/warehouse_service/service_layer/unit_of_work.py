from typing import Self

from ecomops_common.unit_of_work import SqlUnitOfWork
from warehouse_service.adapters.repository import WarehouseRepository


class WarehouseUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.warehouse = WarehouseRepository(self.session)
        return self
