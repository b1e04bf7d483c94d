from typing import Self

from ecomops_common.unit_of_work import SqlUnitOfWork
from returns_service.adapters.repository import ReturnsRepository


class ReturnsUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.returns = ReturnsRepository(self.session)
        return self
