"""The catalog service's unit of work: the protocol the service layer is written against, and its SQL
implementation; unit tests use the in-memory fake in adapters/fakes.py."""

from collections.abc import Iterable
from typing import Protocol

from catalog_service.adapters.repository import CatalogRepository
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.unit_of_work import SqlUnitOfWork, UnitOfWork

SOURCE = "catalog"  # the source of the events this service publishes


class Catalog(Protocol):
    async def lock_writes(self) -> None: ...
    async def skus(self, skus: Iterable[str]) -> dict[str, SkuChanged]: ...
    async def barcode_owners(self, codes: Iterable[str]) -> set[str]: ...
    async def bundles_using(self, skus: Iterable[str]) -> set[str]: ...
    async def save(self, records: list[SkuChanged]) -> None: ...
    async def page(self, *, category: str | None = None, vendor_id: str | None = None, status: str | None = None,
                   after: str | None = None, limit: int = 100) -> list[SkuChanged]: ...
    async def by_barcode(self, code: str) -> SkuChanged | None: ...
    async def revisions(self, sku: str) -> list[SkuChanged]: ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    catalog: Catalog


class SqlCatalogUnitOfWork(SqlUnitOfWork):
    repositories = {"catalog": CatalogRepository}
    catalog: CatalogRepository
