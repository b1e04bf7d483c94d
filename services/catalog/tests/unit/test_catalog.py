"""Changing the SKU master on in-memory fakes (no Kafka, no PostgreSQL): what a PUT and an import store, publish
and commit, and what they refuse."""

import pytest

from catalog_service.adapters.fakes import FakeCatalogUnitOfWork
from catalog_service.service_layer.catalog import SkuRulesBroken, import_csv, put_sku
from catalog_service.service_layer.csv_format import COLUMNS, csv_lines
from catalog_service.service_layer.records import SkuFields
from ecomops_common.contracts import CATALOG_SKUS


def fields(**values) -> SkuFields:
    return SkuFields(**{"name": "Shirt", **values})


async def imported(uow, body: str, *, apply_valid_rows=False, dry_run=False):
    return await import_csv(uow, body.encode(), "mia", max_rows=100, apply_valid_rows=apply_valid_rows,
                            dry_run=dry_run)


def published(uow) -> list[tuple[str, int, str]]:
    return [(e.payload["sku"], e.payload["revision"], e.payload["changed_by"]) for e in uow.events("SkuChanged")]


async def test_a_put_is_the_next_revision_published_as_changed_by_the_caller():
    uow = FakeCatalogUnitOfWork()
    record, created = await put_sku(uow, "SKU-A", fields(barcodes=["111"]), "mia")
    assert created and record.revision == 1 and record.changed_by == "mia"
    record, created = await put_sku(uow, "SKU-A", fields(barcodes=["111"], status="discontinued"), "max")
    assert not created and record.revision == 2 and record.status == "discontinued"
    assert published(uow) == [("SKU-A", 1, "mia"), ("SKU-A", 2, "max")]
    assert {topic for topic, _ in uow.published} == {CATALOG_SKUS}
    assert [r.revision for r in await uow.catalog.revisions("SKU-A")] == [1, 2]


async def test_an_unchanged_put_publishes_nothing_and_answers_the_record():
    uow = FakeCatalogUnitOfWork()
    await put_sku(uow, "SKU-A", fields(unit_cost="2.50", currency="EUR"), "mia")
    record, created = await put_sku(uow, "SKU-A", fields(unit_cost="2.5", currency="EUR"), "max")
    assert not created and record.revision == 1 and record.changed_by == "mia"
    assert uow.commits == 1 and len(uow.events()) == 1


async def test_a_put_breaking_a_rule_is_refused_naming_the_fields():
    uow = FakeCatalogUnitOfWork()
    await put_sku(uow, "SKU-A", fields(barcodes=["111"]), "mia")
    with pytest.raises(SkuRulesBroken) as refused:
        await put_sku(uow, "KIT", fields(barcodes=["111"], components=[{"sku": "NOPE", "quantity": 1}],
                                         lot_controlled=True), "mia")
    assert [p.field for p in refused.value.problems] == ["lot_controlled", "barcodes.0", "components.0.sku"]
    assert len(uow.events()) == 1 and "KIT" not in uow.catalog.records


async def test_discontinuing_a_component_of_a_bundle_is_allowed():
    uow = FakeCatalogUnitOfWork()
    await put_sku(uow, "SKU-A", fields(), "mia")
    await put_sku(uow, "KIT", fields(components=[{"sku": "SKU-A", "quantity": 2}]), "mia")
    record, _ = await put_sku(uow, "SKU-A", fields(status="discontinued"), "mia")
    assert record.status == "discontinued"
    with pytest.raises(SkuRulesBroken):  # but it cannot become a bundle itself
        await put_sku(uow, "SKU-A", fields(components=[{"sku": "KIT", "quantity": 1}]), "mia")


BUNDLE_FILE = ("sku,name,barcodes,components,unit_cost,currency\n"
               "KIT,Gift set,,SKU-A:2|SKU-B:1,,\n"
               "SKU-A,Shirt,111,,2.00,EUR\n"
               "SKU-B,Socks,222,,1.00,\n")


async def test_an_import_with_a_bad_row_applies_nothing():
    uow = FakeCatalogUnitOfWork()
    report = await imported(uow, BUNDLE_FILE)
    assert report.refused and report.applied == 0 and report.valid == 1
    assert [(e.row, e.sku, e.field) for e in report.errors] == [(2, "KIT", "components"), (4, "SKU-B", "currency")]
    assert uow.catalog.records == {} and uow.commits == 0


async def test_valid_rows_apply_takes_the_valid_rows_only():
    uow = FakeCatalogUnitOfWork()
    report = await imported(uow, BUNDLE_FILE, apply_valid_rows=True)
    assert not report.refused and report.applied == 1 and len(report.errors) == 2
    assert published(uow) == [("SKU-A", 1, "mia")]


async def test_rows_of_one_file_may_name_each_other_and_a_dry_run_applies_nothing():
    uow = FakeCatalogUnitOfWork()
    good = BUNDLE_FILE.replace("1.00,\n", "1.00,EUR\n")
    report = await imported(uow, good, dry_run=True)
    assert (report.refused, report.applied, report.dry_run, report.errors) == (False, 3, True, [])
    assert uow.catalog.records == {} and uow.events() == []
    report = await imported(uow, good)
    assert report.applied == 3 and uow.catalog.records["KIT"].is_bundle
    assert sorted(published(uow)) == [("KIT", 1, "mia"), ("SKU-A", 1, "mia"), ("SKU-B", 1, "mia")]
    assert uow.commits == 1


async def test_the_export_imported_again_changes_nothing():
    uow = FakeCatalogUnitOfWork()
    await imported(uow, BUNDLE_FILE.replace("1.00,\n", "1.00,EUR\n"))
    export = "".join(csv_lines(await uow.catalog.page()))
    assert export.splitlines()[0] == ",".join(COLUMNS)
    report = await imported(uow, export)
    assert (report.rows_total, report.unchanged, report.applied, report.errors) == (3, 3, 0, [])
    assert len(uow.events()) == 3


async def test_an_unreadable_file_is_refused_even_with_valid_rows_apply():
    uow = FakeCatalogUnitOfWork()
    report = await imported(uow, "sku,nmae\nA,x\n", apply_valid_rows=True)
    assert report.refused and report.errors[0].field == "nmae" and uow.commits == 0


async def test_barcodes_claimed_twice_in_one_file_refuse_both_rows():
    uow = FakeCatalogUnitOfWork()
    report = await imported(uow, "sku,name,barcodes\nA,a,9|8\nB,b,9\nC,c,7\n", apply_valid_rows=True)
    assert [(e.row, e.field, e.message) for e in report.errors] == [
        (2, "barcodes", "barcodes.0: barcode 9 is already SKU B's"),
        (3, "barcodes", "barcodes.0: barcode 9 is already SKU A's")]
    assert published(uow) == [("C", 1, "mia")]


async def test_a_record_is_kept_as_it_reads_back_from_the_export():
    """Blanks around text are dropped as a CSV cell's are; an amount is published in fixed point (1E+2 is 100)."""
    uow = FakeCatalogUnitOfWork()
    record, _ = await put_sku(uow, "SKU-A", fields(name=" Shirt ", category=" tops", unit_cost="1E+2",
                                                   currency="EUR"), "mia")
    assert (record.name, record.category, record.model_dump(mode="json")["unit_cost"]) == ("Shirt", "tops", "100")
    report = await imported(uow, "".join(csv_lines([record])))
    assert (report.unchanged, report.errors) == (1, [])
