"""Changing the SKU master: one SKU by PUT, or a CSV file of them. Every effective change is the SKU's next
revision, stored and published whole (SkuChanged on catalog.skus.v1) in one transaction, recorded as changed by
the caller; a change that changes nothing is neither stored nor published."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from catalog_service.domain.skus import check_changes
from catalog_service.service_layer.csv_format import CsvProblem, parse_row, problem, read_csv
from catalog_service.service_layer.records import SkuFields, snapshot, unchanged
from catalog_service.service_layer.unit_of_work import SOURCE, CatalogUnitOfWork
from ecomops_common.contracts import CATALOG_SKUS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.envelope import new_event
from ecomops_common.errors import Invalid, NotFound


class SkuNotFound(NotFound):
    pass


class SkuRulesBroken(Invalid):
    code = "sku_rule"


async def put_sku(uow: CatalogUnitOfWork, sku: str, fields: SkuFields, by: str) -> tuple[SkuChanged, bool]:
    """The SKU's record from now on, and whether that is a new one (created: False also when unchanged)."""
    await uow.catalog.lock_writes()
    stored = (await uow.catalog.skus([sku])).get(sku)
    if unchanged(fields, stored):
        return stored, False
    touched = await _touched(uow, {sku: fields})
    if problems := check_changes({sku: fields}, touched).get(sku):
        raise SkuRulesBroken(problems)
    [record] = await _apply(uow, {sku: fields}, touched, by)
    await uow.commit()
    return record, stored is None


@dataclass
class ImportReport:
    rows_total: int
    valid: int = 0  # rows without a problem
    applied: int = 0  # SKUs changed (or that would be, on a dry run)
    unchanged: int = 0  # valid rows equal to the stored record
    dry_run: bool = False
    refused: bool = False  # a row has a problem and valid rows were not to be applied: nothing applied
    errors: list[CsvProblem] = field(default_factory=list)


async def import_csv(uow: CatalogUnitOfWork, body: bytes, by: str, *, max_rows: int, apply_valid_rows: bool,
                     dry_run: bool) -> ImportReport:
    """Every valid row applied, unless a row has a problem and `apply_valid_rows` is not set: then none is. A dry
    run reports the same and applies nothing. TooManyRows past `max_rows`."""
    file = read_csv(body, max_rows)
    report = ImportReport(file.rows_total, dry_run=dry_run, errors=file.problems)
    if not dry_run:
        await uow.catalog.lock_writes()
    stored = await uow.catalog.skus(row.sku for row in file.rows)
    rows, changes = {}, {}
    for row in file.rows:
        fields, problems = parse_row(row, stored.get(row.sku))
        report.errors += problems
        if fields is not None:
            rows[row.sku] = row
            if unchanged(fields, stored.get(row.sku)):
                report.unchanged += 1
            else:
                changes[row.sku] = fields
    for sku, problems in check_changes(changes, await _touched(uow, changes)).items():
        report.errors += [problem(rows[sku], p.field.split("."), p.message) for p in problems]
        del changes[sku]
    report.errors.sort(key=lambda p: (p.row or 0, p.field or ""))
    report.valid = report.unchanged + len(changes)
    report.refused = file.unreadable or bool(report.errors) and not apply_valid_rows
    if report.refused:
        return report
    report.applied = len(changes)
    if changes and not dry_run:
        await _apply(uow, changes, stored, by)
        await uow.commit()
    return report


async def _touched(uow: CatalogUnitOfWork, changes: Mapping[str, SkuFields]) -> dict[str, SkuChanged]:
    """The stored records the changes' rules read: the changed SKUs, their components, the SKUs that have their
    barcodes and the bundles they are components of."""
    components = {c.sku for fields in changes.values() for c in fields.components}
    owners = await uow.catalog.barcode_owners(code for fields in changes.values() for code in fields.barcodes)
    bundles = await uow.catalog.bundles_using(changes)
    return await uow.catalog.skus({*changes, *components, *owners, *bundles})


async def _apply(uow: CatalogUnitOfWork, changes: Mapping[str, SkuFields], stored: Mapping[str, SkuChanged],
                 by: str) -> list[SkuChanged]:
    at = datetime.now(UTC)
    records = [snapshot(sku, fields, stored.get(sku), by, at) for sku, fields in changes.items()]
    await uow.catalog.save(records)
    for record in records:
        uow.emit(new_event("SkuChanged", 1, SOURCE, "sku", record.sku, record), CATALOG_SKUS)
    return records


async def sku(uow: CatalogUnitOfWork, sku: str) -> SkuChanged:
    if (record := (await uow.catalog.skus([sku])).get(sku)) is None:
        raise SkuNotFound(f"no SKU {sku} in the catalog")
    return record
