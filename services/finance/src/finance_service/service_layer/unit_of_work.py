from typing import Self

from ecomops_common.unit_of_work import SqlUnitOfWork
from finance_service.adapters.reports import FinanceReports
from finance_service.adapters.repository import FinanceRepository


class FinanceUnitOfWork(SqlUnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.finance = FinanceRepository(self.session)
        self.reports = FinanceReports(self.session)
        return self
