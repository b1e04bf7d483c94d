from typing import Self

from allocation_service.adapters.repository import AllocationRepository
from ecomops_common.unit_of_work import SqlUnitOfWork


class AllocationUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.allocation = AllocationRepository(self.session)
        return self
