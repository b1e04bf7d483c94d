"""In-memory adapters for service-layer unit tests: the repository keeps SKUs as their last SkuChanged and every
revision, like the tables; the unit of work is ecomops_common's fake."""

from collections.abc import Iterable

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.testing.fakes import FakeUnitOfWork


class FakeCatalog:
    def __init__(self) -> None:
        self.records: dict[str, SkuChanged] = {}
        self.history: list[SkuChanged] = []
        self.locks = 0

    async def lock_writes(self) -> None:
        self.locks += 1

    async def skus(self, skus: Iterable[str]) -> dict[str, SkuChanged]:
        return {sku: self.records[sku] for sku in set(skus) if sku in self.records}

    async def barcode_owners(self, codes: Iterable[str]) -> set[str]:
        wanted = set(codes)
        return {sku for sku, record in self.records.items() if wanted & set(record.barcodes)}

    async def bundles_using(self, skus: Iterable[str]) -> set[str]:
        wanted = set(skus)
        return {sku for sku, record in self.records.items() if wanted & {c.sku for c in record.components}}

    async def save(self, records: list[SkuChanged]) -> None:
        for record in records:
            self.records[record.sku] = record
            self.history.append(record)

    async def page(self, *, category: str | None = None, vendor_id: str | None = None, status: str | None = None,
                   after: str | None = None, limit: int = 100) -> list[SkuChanged]:
        return [record for sku, record in sorted(self.records.items())
                if category in (None, record.category) and vendor_id in (None, record.vendor_id)
                and status in (None, record.status) and (after is None or sku > after)][:limit]

    async def by_barcode(self, code: str) -> SkuChanged | None:
        return next((record for record in self.records.values() if code in record.barcodes), None)

    async def revisions(self, sku: str) -> list[SkuChanged]:
        return [record for record in self.history if record.sku == sku]


class FakeCatalogUnitOfWork(FakeUnitOfWork):
    def __init__(self, catalog: FakeCatalog | None = None) -> None:
        super().__init__()
        self.catalog = catalog or FakeCatalog()
