"""Catalog persistence: SKUs (their last SkuChanged each), barcodes, bundles' components and the append-only
revisions. Lookups by many keys go in chunks, so a large import stays within a statement's parameter limit."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from sqlalchemy import delete, select, text

from catalog_service.adapters.orm import BarcodeRecord, BundleComponentRecord, SkuRecord, SkuRevisionRecord
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.db import SqlRepository

_skus = SkuRecord.__table__
_barcodes = BarcodeRecord.__table__
_components = BundleComponentRecord.__table__
_revisions = SkuRevisionRecord.__table__
CHUNK = 1_000
# Any constant: the key of the transaction-level advisory lock that orders the catalog's writes.
WRITE_LOCK = 0x5C_A7A1_06
T = TypeVar("T")


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


class CatalogRepository(SqlRepository):
    async def lock_writes(self) -> None:
        """Until the transaction ends, no other one changes the catalog. Changes are few (people, files) and a
        change's rules read other SKUs (barcodes, bundles): one writer at a time keeps those rules true without
        retries. SQLite serializes writers anyway."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})

    async def skus(self, skus: Iterable[str]) -> dict[str, SkuChanged]:
        found = {}
        for chunk in _chunks(skus):
            rows = await self.session.execute(select(_skus.c.sku, _skus.c.document).where(_skus.c.sku.in_(chunk)))
            found.update({sku: SkuChanged.model_validate_json(document) for sku, document in rows})
        return found

    async def barcode_owners(self, codes: Iterable[str]) -> set[str]:
        """The SKUs that have any of these barcodes."""
        owners: set[str] = set()
        for chunk in _chunks(codes):
            owners.update((await self.session.execute(
                select(_barcodes.c.sku).where(_barcodes.c.code.in_(chunk)))).scalars())
        return owners

    async def bundles_using(self, skus: Iterable[str]) -> set[str]:
        """The bundles that have any of these SKUs as a component."""
        bundles: set[str] = set()
        for chunk in _chunks(skus):
            bundles.update((await self.session.execute(
                select(_components.c.bundle_sku).where(_components.c.component_sku.in_(chunk)))).scalars())
        return bundles

    async def save(self, records: list[SkuChanged]) -> None:
        """New revisions of SKUs: the record, its barcodes and components replaced, the revision appended."""
        rows = [{"sku": r.sku, "revision": r.revision, "status": r.status.value, "category": r.category,
                 "vendor_id": r.vendor_id, "bundle": r.is_bundle, "changed_by": r.changed_by,
                 "changed_at": r.changed_at, "document": r.model_dump_json()} for r in records]
        if not rows:
            return
        statement = self.dialect.insert(_skus)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in rows[0] if name != "sku"}), rows)
        for chunk in _chunks(r.sku for r in records):
            await self.session.execute(delete(_barcodes).where(_barcodes.c.sku.in_(chunk)))
            await self.session.execute(delete(_components).where(_components.c.bundle_sku.in_(chunk)))
        if barcodes := [{"code": code, "sku": r.sku} for r in records for code in r.barcodes]:
            await self.session.execute(_barcodes.insert(), barcodes)
        if components := [{"bundle_sku": r.sku, "component_sku": c.sku, "quantity": c.quantity}
                          for r in records for c in r.components]:
            await self.session.execute(_components.insert(), components)
        await self.session.execute(_revisions.insert(), [
            {name: row[name] for name in ("sku", "revision", "changed_by", "changed_at", "document")} for row in rows])

    async def page(self, *, category: str | None = None, vendor_id: str | None = None, status: str | None = None,
                   after: str | None = None, limit: int = 100) -> list[SkuChanged]:
        """SKUs in SKU order, after the SKU `after` (a page's cursor)."""
        query = select(_skus.c.document).order_by(_skus.c.sku).limit(limit)
        for column, value in ((_skus.c.category, category), (_skus.c.vendor_id, vendor_id),
                              (_skus.c.status, status)):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(_skus.c.sku > after)
        return [SkuChanged.model_validate_json(document) for document in (await self.session.execute(query)).scalars()]

    async def by_barcode(self, code: str) -> SkuChanged | None:
        document = (await self.session.execute(select(_skus.c.document).join(
            _barcodes, _barcodes.c.sku == _skus.c.sku).where(_barcodes.c.code == code))).scalar()
        return SkuChanged.model_validate_json(document) if document else None

    async def revisions(self, sku: str) -> list[SkuChanged]:
        """Oldest first."""
        rows = await self.session.execute(select(_revisions.c.document).where(_revisions.c.sku == sku)
                                          .order_by(_revisions.c.revision))
        return [SkuChanged.model_validate_json(document) for document in rows.scalars()]
