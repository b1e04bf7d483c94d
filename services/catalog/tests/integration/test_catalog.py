"""The SKU master on the real Kafka and PostgreSQL: records by PUT and by CSV file, each effective change published
as SkuChanged changed by the token's subject; the rules and bad input answered with a 4xx naming the field, row
and column, never a 500."""

import asyncio
import csv
import io
import re

import pytest

from catalog_service.bootstrap import build_app
from catalog_service.service_layer.csv_format import COLUMNS
from catalog_service.settings import CatalogSettings
from ecomops_common.auth import AUDITOR, BUYER, CARRIER, CONNECTOR, DEVICE, MERCHANDISER, WAREHOUSE_OPERATOR
from ecomops_common.testing.plugin import serving

from .conftest import as_, sku_changes

pytestmark = pytest.mark.integration
MIA = as_("mia-subject", MERCHANDISER)
CSV = {"content-type": "text/csv", **MIA}
SHIRT = {"name": "Shirt", "barcodes": ["4006381333931"], "category": "apparel",
         "dimensions": {"length_cm": 30, "width_cm": 20, "height_cm": 2}, "weight_kg": 0.2, "vendor_id": "V-1",
         "vendor_sku": "V1-SHIRT", "lead_time_days": 14, "min_order_quantity": 10, "case_pack": 5,
         "unit_cost": "4.50", "currency": "EUR", "return_window_days": 30}


async def test_a_put_is_published_as_changed_by_the_caller_and_an_unchanged_put_publishes_nothing(catalog):
    created = await catalog.put("/v1/skus/SHIRT-1", json=SHIRT, headers=MIA)
    assert created.status_code == 201, created.text
    assert (created.json()["revision"], created.json()["changed_by"]) == (1, "mia-subject")
    again = await catalog.put("/v1/skus/SHIRT-1", json={**SHIRT, "unit_cost": "4.5"},
                              headers=as_("max-subject", MERCHANDISER))
    assert again.status_code == 200 and again.json() == created.json()
    changed = await catalog.put("/v1/skus/SHIRT-1", json={**SHIRT, "status": "discontinued"},
                                headers=as_("max-subject", MERCHANDISER))
    assert changed.status_code == 200 and changed.json()["revision"] == 2

    events = await sku_changes(catalog.settings, 2)
    assert [(e["key"], e["source"], e["payload"]["revision"], e["payload"]["changed_by"], e["payload"]["status"])
            for e in events] == [("SHIRT-1", "catalog", 1, "mia-subject", "active"),
                                 ("SHIRT-1", "catalog", 2, "max-subject", "discontinued")]
    assert events[0]["payload"]["unit_cost"] == "4.50" and events[0]["payload"]["dimensions"]["width_cm"] == 20
    history = (await catalog.get("/v1/sku-revisions/SHIRT-1")).json()
    assert [(r["revision"], r["changed_by"]) for r in history] == [(1, "mia-subject"), (2, "max-subject")]
    assert (await catalog.get("/v1/skus/SHIRT-1")).json() == changed.json()
    assert (await catalog.get("/v1/barcodes/4006381333931")).json()["sku"] == "SHIRT-1"
    assert (await catalog.get("/v1/barcodes/0000000000000")).status_code == 404
    assert (await catalog.get("/v1/skus/NOPE")).status_code == 404


async def test_writes_take_a_merchandiser_and_reads_any_staff_connectors_and_scanners(catalog):
    for outsider in (as_("bob", BUYER), as_("olga", WAREHOUSE_OPERATOR), as_("svc", CONNECTOR, channels=["web"])):
        refused = await catalog.put("/v1/skus/A", json={"name": "A"}, headers=outsider)
        assert refused.status_code == 403, refused.text
        refused = await catalog.post("/v1/skus/import", content=b"sku,name\nA,a\n",
                                     headers={**outsider, "content-type": "text/csv"})
        assert refused.status_code == 403
    assert (await catalog.put("/v1/skus/A", json={"name": "A"}, headers=MIA)).status_code == 201
    for reader in (as_("aud", AUDITOR), as_("bob", BUYER), as_("svc", CONNECTOR, channels=["web"]),
                   as_("scanner-1", DEVICE, node="BER1")):
        assert (await catalog.get("/v1/skus/A", headers=reader)).status_code == 200
        assert (await catalog.get("/v1/skus", headers=reader)).status_code == 200
        assert (await catalog.get("/v1/skus/export", headers=reader)).status_code == 200
    assert (await catalog.get("/v1/skus/A", headers=as_("dhl", CARRIER, carrier="dhl"))).status_code == 403


async def test_every_route_refuses_a_caller_without_a_valid_token(settings_for):
    app = build_app(settings_for(CatalogSettings))
    async with serving(app, headers={}) as anonymous:
        routes = [(method.upper(), re.sub(r"{\w+}", "x", path))
                  for path, operations in app.openapi()["paths"].items() if path.startswith("/v1")
                  for method in operations]
        assert len(routes) == 9  # with the dead-letter routes every service has
        for method, path in routes:
            assert (await anonymous.request(method, path, json={})).status_code == 401, (method, path)


async def test_the_rules_answer_422_naming_each_field(catalog):
    assert (await catalog.put("/v1/skus/A", json={**SHIRT, "name": "A"}, headers=MIA)).status_code == 201
    assert (await catalog.put("/v1/skus/KIT-OLD", json={"name": "Kit", "components": [{"sku": "A", "quantity": 1}]},
                              headers=MIA)).status_code == 201

    async def refused(sku: str, body: dict) -> list[tuple[str, ...]]:
        answer = await catalog.put(f"/v1/skus/{sku}", json=body, headers=MIA)
        assert answer.status_code == 422, answer.text
        return [tuple(map(str, error["loc"])) for error in answer.json()["detail"]]

    assert await refused("B", {"name": "B", "barcodes": ["4006381333931"]}) == [("body", "barcodes", "0")]
    assert await refused("KIT", {"name": "Kit", "lot_controlled": True, "vendor_id": "V-1", "components": [
        {"sku": "NOPE", "quantity": 1}, {"sku": "KIT-OLD", "quantity": 1}, {"sku": "KIT", "quantity": 1}]}) == [
        ("body", "lot_controlled"), ("body", "vendor_id"), ("body", "components", "2", "sku"),
        ("body", "components", "0", "sku"), ("body", "components", "1", "sku")]
    to_bundle = {**SHIRT, "name": "A", "vendor_id": None, "components": [{"sku": "C", "quantity": 1}]}
    assert await refused("A", to_bundle) == [
        ("body", "components", "0", "sku"), ("body", "components")]
    assert await refused("C", {"name": "C", "unit_cost": "1.00"}) == [("body", "currency")]
    assert await refused("C", {"name": "C", "unit_cost": "1.00", "currency": "XYZ"}) == [("body", "currency")]
    assert await refused("C", {"name": "C", "unit_cost": 1.0, "currency": "EUR", "changed_by": "x",
                               "weight_kg": -1, "components": [{"sku": "A", "quantity": 0}]}) == [
        ("body", "weight_kg"), ("body", "unit_cost"), ("body", "components", "0", "quantity"), ("body", "changed_by")]
    assert await refused("export", {"name": "x"}) == [("body", "sku")]
    assert await refused("bad sku", {"name": "x"}) == [("path", "sku")]
    assert (await catalog.put("/v1/skus/C", content=b"{not json", headers=MIA)).status_code == 422
    # A SKU may hold "/": its path takes the rest.
    assert (await catalog.put("/v1/skus/BOX/2", json={"name": "Box"}, headers=MIA)).status_code == 201
    assert (await catalog.get("/v1/skus/BOX/2")).json()["sku"] == "BOX/2"


async def test_concurrent_changes_claiming_one_barcode_leave_it_to_one_sku(catalog):
    """Writes to the catalog take turns, so the rules between SKUs hold: one claim wins, the others get a 422."""
    answers = await asyncio.gather(*(catalog.put(f"/v1/skus/RACE-{n}", json={"name": "x", "barcodes": ["777"]},
                                                 headers=MIA) for n in range(6)))
    assert sorted(answer.status_code for answer in answers) == [201, 422, 422, 422, 422, 422]
    owner = (await catalog.get("/v1/barcodes/777")).json()["sku"]
    assert [a.json()["sku"] for a in answers if a.status_code == 201] == [owner]


async def test_skus_are_listed_by_filters_a_page_at_a_time(catalog):
    for n in range(5):
        body = {"name": f"S{n}", "category": "toys" if n % 2 else "games", "vendor_id": "V-2" if n < 3 else None}
        assert (await catalog.put(f"/v1/skus/S{n}", json=body, headers=MIA)).status_code == 201
    first = (await catalog.get("/v1/skus", params={"limit": 2})).json()
    assert [s["sku"] for s in first["items"]] == ["S0", "S1"] and first["next_cursor"] == "S1"
    second = (await catalog.get("/v1/skus", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [s["sku"] for s in second["items"]] == ["S2", "S3"]
    toys = (await catalog.get("/v1/skus", params={"category": "toys", "vendor_id": "V-2"})).json()
    assert [s["sku"] for s in toys["items"]] == ["S1"] and toys["next_cursor"] is None
    assert (await catalog.get("/v1/skus", params={"status": "gone"})).status_code == 422


BUNDLE_FILE = ("sku,name,barcodes,components,unit_cost,currency,length_cm,width_cm,height_cm\n"
               "KIT-1,Gift set,,CUP:2|SAUCER:1,,,,,\n"
               "CUP,Cup,111|112,,2.00,EUR,10,10,12\n"
               "SAUCER,Saucer,113,,1.00,,12,12,1\n")


async def test_an_import_with_a_bad_row_applies_nothing_unless_valid_rows_are_to_be_applied(catalog):
    refused = await catalog.post("/v1/skus/import", content=BUNDLE_FILE, headers=CSV)
    assert refused.status_code == 422, refused.text
    report = refused.json()
    assert (report["rows_total"], report["valid"], report["applied"]) == (3, 1, 0)
    assert [(e["row"], e["sku"], e["field"], e["message"]) for e in report["errors"]] == [
        (2, "KIT-1", "components", "components.1.sku: no SKU SAUCER in the catalog"),
        (4, "SAUCER", "currency", "a unit_cost needs its currency")]
    assert (await catalog.get("/v1/skus/CUP")).status_code == 404

    dry = await catalog.post("/v1/skus/import", params={"valid_rows": "apply", "dry_run": "true"},
                             content=BUNDLE_FILE, headers=CSV)
    assert dry.status_code == 200 and (dry.json()["applied"], dry.json()["dry_run"]) == (1, True)
    assert (await catalog.get("/v1/skus/CUP")).status_code == 404

    partial = await catalog.post("/v1/skus/import", params={"valid_rows": "apply"}, content=BUNDLE_FILE, headers=CSV)
    assert partial.status_code == 200 and partial.json()["applied"] == 1 and len(partial.json()["errors"]) == 2
    cup = (await catalog.get("/v1/skus/CUP")).json()
    assert (cup["barcodes"], cup["changed_by"], cup["unit_cost"]) == (["111", "112"], "mia-subject", "2.00")

    fixed = BUNDLE_FILE.replace("1.00,,", "1.00,EUR,")
    applied = await catalog.post("/v1/skus/import", content=fixed, headers=CSV)
    assert applied.status_code == 200, applied.text
    assert (applied.json()["applied"], applied.json()["unchanged"], applied.json()["errors"]) == (2, 1, [])
    kit = (await catalog.get("/v1/skus/KIT-1")).json()
    assert kit["components"] == [{"sku": "CUP", "quantity": 2}, {"sku": "SAUCER", "quantity": 1}]
    events = await sku_changes(catalog.settings, 3)
    assert sorted((e["payload"]["sku"], e["payload"]["changed_by"]) for e in events) == [
        ("CUP", "mia-subject"), ("KIT-1", "mia-subject"), ("SAUCER", "mia-subject")]


async def test_the_export_imports_back_unchanged(catalog):
    assert (await catalog.post("/v1/skus/import", headers=CSV, content=BUNDLE_FILE.replace(
        "1.00,,", "1.00,EUR,"))).status_code == 200
    assert (await catalog.put("/v1/skus/odd,one", json={**SHIRT, "name": 'Mug "big", 0.5 l\nred',
                                                         "barcodes": ["X|Y"]}, headers=MIA)).status_code == 422
    assert (await catalog.put("/v1/skus/ODD", json={**SHIRT, "name": 'Mug "big", 0.5 l\nred', "barcodes": ["9"],
                                                    "hazmat_class": "UN3480", "final_sale": True, "returnable": False,
                                                    "expiry_controlled": True, "shelf_life_days": 90}, headers=MIA)
            ).status_code == 201
    export = await catalog.get("/v1/skus/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0] == ",".join(COLUMNS) and lines[1].startswith("CUP,Cup,active,111|112,")
    again = await catalog.post("/v1/skus/import", content=export.content, headers=CSV)
    assert again.status_code == 200, again.text
    assert (again.json()["rows_total"], again.json()["unchanged"], again.json()["applied"]) == (4, 4, 0)
    of_vendor = await catalog.get("/v1/skus/export", params={"vendor_id": "V-1"})
    [header, odd] = list(csv.reader(io.StringIO(of_vendor.text)))
    assert odd[:2] == ["ODD", 'Mug "big", 0.5 l\nred']


@pytest.mark.parametrize(("body", "content_type", "status", "problem"), [
    (b"sku,name\nA,a\n", "application/json", 415, "text/csv"),
    (b"sku,name\nA,a\n", None, 415, "text/csv"),
    (b"", "text/csv", 422, "the file is empty"),
    (b'sku,name\nA,"never closed\n', "text/csv; charset=utf-8", 422, "not valid CSV"),
    (b"sku,name\n\xff\xfe\n", "text/csv", 422, "not UTF-8"),
    (b"sku,name,colour\nA,a,red\n", "text/csv", 422, "unknown column 'colour'"),
    (b"sku,name\nA,a\nA,b\n", "text/csv", 422, "SKU A is on rows 2, 3: once per file"),
    (b"sku,name\nA,a\x00\n", "text/csv", 422, "NUL"),
    (b"sku,name\n" + b"".join(b"S%d,x\n" % n for n in range(51)), "text/csv", 413, "more than 50 rows"),
])
async def test_bad_files_get_a_4xx_saying_what_is_wrong(catalog, body, content_type, status, problem):
    headers = {**MIA, "content-type": content_type} if content_type else MIA
    answer = await catalog.post("/v1/skus/import", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert problem in answer.text
    assert (await catalog.get("/v1/skus")).json()["items"] == []


async def test_a_body_above_the_limit_is_refused_with_413(settings_for):
    async with serving(build_app(settings_for(CatalogSettings, max_request_body_bytes=100))) as catalog:
        answer = await catalog.post("/v1/skus/import", content=b"sku,name\n" + b"A,a\n" * 50, headers=CSV)
        assert answer.status_code == 413
