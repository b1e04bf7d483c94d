"""HTTP API of the SKU master: merchandisers change SKUs one by one (PUT) or by CSV file (import, with a per-row
error report); staff, channel connectors and scanners read them, by SKU, by barcode, as pages or as a CSV export
the import reads back. Every route takes the issuer's bearer token and names its roles (ecomops_common.access);
who changed a SKU is the token's subject, never a request field. SKUs and barcodes may hold "/", so their path
parameter takes the rest of the path."""

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from catalog_service.service_layer import catalog
from catalog_service.service_layer.csv_format import COLUMNS, TooManyRows, csv_lines
from catalog_service.service_layer.records import BARCODE_PATTERN, SkuFields
from catalog_service.service_layer.unit_of_work import CatalogUnitOfWork
from ecomops_common.access import caller
from ecomops_common.auth import ADMIN, CONNECTOR, DEVICE, MERCHANDISER, STAFF_ROLES, Principal
from ecomops_common.contracts.catalog import SKU_PATTERN, SkuChanged, SkuStatus
from ecomops_common.http import entered_unit_of_work

router = APIRouter(prefix="/v1", tags=["catalog"])
UnitOfWork = Annotated[CatalogUnitOfWork, Depends(entered_unit_of_work)]
SKU = Annotated[str, Path(pattern=SKU_PATTERN, description="Letters, digits and ._/- up to 64 characters")]
# Every staff role reads the SKU master; of the machines, channel connectors (what they sell) and scanners
# (barcodes); admin may anyway.
READERS = (*sorted(STAFF_ROLES - {ADMIN}), CONNECTOR, DEVICE)
EXPORT_PAGE = 1_000


class SkuPage(BaseModel):
    items: list[SkuChanged]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class Filters(BaseModel):
    category: str | None = Field(default=None, max_length=64)
    vendor_id: str | None = Field(default=None, max_length=64)
    status: SkuStatus | None = None


@router.get("/skus", response_model=SkuPage, dependencies=[caller(*READERS)])
async def list_skus(uow: UnitOfWork, filters: Annotated[Filters, Query()],
                    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of the page "
                                                                                   "before")] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """SKUs in SKU order, filtered by category, vendor and status."""
    items = await uow.catalog.page(**filters.model_dump(), after=cursor, limit=limit)
    return SkuPage(items=items, next_cursor=items[-1].sku if len(items) == limit else None)


@router.get("/skus/export", dependencies=[caller(*READERS)],
            responses={200: {"content": {"text/csv": {}}, "description": f"Columns: {', '.join(COLUMNS)}"}})
async def export_skus(request: Request, filters: Annotated[Filters, Query()]) -> StreamingResponse:
    """Every SKU (of the filters) as CSV in the import's columns, in SKU order: importing it changes nothing."""
    async def rows() -> AsyncIterator[str]:
        after = None
        while True:  # a page per transaction: the export of a large catalog holds no transaction open
            async with request.app.state.unit_of_work() as uow:
                page = await uow.catalog.page(**filters.model_dump(), after=after, limit=EXPORT_PAGE)
            for line in csv_lines(page, header=after is None):
                yield line
            if len(page) < EXPORT_PAGE:
                return
            after = page[-1].sku

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": 'attachment; filename="skus.csv"'})


class RowError(BaseModel):
    row: int | None = Field(description="The file's record number, the header being 1; null: the whole file")
    sku: str | None
    field: str | None = Field(description="The column")
    message: str


class ImportReportView(BaseModel):
    rows_total: int = Field(description="Data rows in the file")
    valid: int = Field(description="Rows without a problem")
    applied: int = Field(description="SKUs changed, each published as SkuChanged (on a dry run: that would be)")
    unchanged: int = Field(description="Valid rows equal to the SKU's record: nothing to apply")
    dry_run: bool
    errors: list[RowError]


IMPORT_BODY = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}, "example": (
    ",".join(COLUMNS[:4]) + "\nSKU-A,Shirt,active,4006381333931\nKIT-1,Gift set,active,\n")}}}


@router.post("/skus/import", response_model=ImportReportView, openapi_extra={"requestBody": IMPORT_BODY},
             responses={413: {"description": "Larger than max_request_body_bytes, or more rows than "
                                             "import_max_rows"},
                        415: {"description": "Not Content-Type: text/csv"},
                        422: {"model": ImportReportView, "description": "A row has a problem (valid_rows=refuse), "
                              "or the file is not CSV of the catalog's columns: nothing applied (a dry run "
                              "answers as the import would)"}})
async def import_skus(request: Request, uow: UnitOfWork, by: Annotated[Principal, caller(MERCHANDISER)],
                      valid_rows: Annotated[Literal["refuse", "apply"], Query(
                          description="refuse: nothing is applied from a file with a bad row; apply: the valid "
                                      "rows are")] = "refuse",
                      dry_run: Annotated[bool, Query(description="Check and report only")] = False):
    """Creates and changes SKUs from a CSV file (the export's columns; columns left out keep their stored value),
    each change by the token's subject. Rows may name each other, e.g. a bundle and its components. The report
    names each problem's row and column."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "text/csv":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"the body must be Content-Type: text/csv, not {media_type or 'none'}")
    try:
        report = await catalog.import_csv(uow, await request.body(), by.subject,
                                          max_rows=request.app.state.runtime.settings.import_max_rows,
                                          apply_valid_rows=valid_rows == "apply", dry_run=dry_run)
    except TooManyRows as too_many:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(too_many)) from None
    view = ImportReportView(rows_total=report.rows_total, valid=report.valid, applied=report.applied,
                            unchanged=report.unchanged, dry_run=report.dry_run,
                            errors=[RowError(**error._asdict()) for error in report.errors])
    return JSONResponse(view.model_dump(), status_code=422 if report.refused else 200)


@router.get("/skus/{sku:path}", response_model=SkuChanged, dependencies=[caller(*READERS)],
            responses={404: {"description": "No such SKU"}})
async def get_sku(sku: SKU, uow: UnitOfWork):
    return await catalog.sku(uow, sku)


@router.put("/skus/{sku:path}", response_model=SkuChanged, status_code=status.HTTP_201_CREATED,
            responses={200: {"description": "Changed, or unchanged (nothing published): the record"},
                       422: {"description": "Every invalid field, and every rule broken (type sku_rule): barcodes "
                                            "of another SKU, components unknown or bundles, a bundle controlled "
                                            "or with a vendor, a unit_cost without currency"}})
async def put_sku(sku: SKU, body: SkuFields, response: Response, uow: UnitOfWork,
                  by: Annotated[Principal, caller(MERCHANDISER)]):
    """The SKU's whole record (fields left out take their defaults): a new revision published as SkuChanged,
    changed by the token's subject, unless it changes nothing."""
    record, created = await catalog.put_sku(uow, sku, body, by.subject)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return record


@router.get("/sku-revisions/{sku:path}", response_model=list[SkuChanged], dependencies=[caller(*READERS)],
            responses={404: {"description": "No such SKU"}})
async def get_sku_revisions(sku: SKU, uow: UnitOfWork):
    """Every revision of the SKU, oldest first, each with who changed it and when."""
    if revisions := await uow.catalog.revisions(sku):
        return revisions
    raise catalog.SkuNotFound(f"no SKU {sku} in the catalog")


@router.get("/barcodes/{code:path}", response_model=SkuChanged, dependencies=[caller(*READERS)],
            responses={404: {"description": "No SKU has the barcode"}})
async def get_by_barcode(code: Annotated[str, Path(pattern=BARCODE_PATTERN)], uow: UnitOfWork):
    """The SKU a scanned barcode names."""
    if (record := await uow.catalog.by_barcode(code)) is None:
        raise catalog.SkuNotFound(f"no SKU has the barcode {code}")
    return record
