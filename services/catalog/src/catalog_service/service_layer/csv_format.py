"""The catalog's CSV files, import and export alike: one SKU per row in COLUMNS (a file may leave columns out: a
row then keeps those fields as stored). Lists share a cell, separated by "|": barcodes as `4006381333931|OWN-1`,
components as `SKU-A:2|SKU-B:1`. Booleans are true/false, an empty cell is the field's default (none, false, 1,
returnable). A problem names its row (the file's record number, the header being 1) and its column."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import ValidationError

from catalog_service.service_layer.records import SkuFields, fields_of
from ecomops_common.contracts.catalog import SKU_PATTERN, SkuChanged

DIMENSIONS = ("length_cm", "width_cm", "height_cm")
COLUMNS = ("sku", "name", "status", "barcodes", "category", *DIMENSIONS, "weight_kg", "hazmat_class",
           "lot_controlled", "serial_controlled", "expiry_controlled", "shelf_life_days", "vendor_id", "vendor_sku",
           "lead_time_days", "min_order_quantity", "case_pack", "unit_cost", "currency", "returnable", "final_sale",
           "return_window_days", "components")
LIST_SEPARATOR = "|"
ECHO_LIMIT = 64
_SKU = re.compile(SKU_PATTERN)


class CsvProblem(NamedTuple):
    row: int | None  # None: the file as a whole (not UTF-8 text)
    sku: str | None
    field: str | None  # the column
    message: str


class TooManyRows(Exception):
    pass


@dataclass
class CsvRow:
    row: int
    sku: str
    cells: dict[str, str]  # per column of the file but sku, the cell without surrounding blanks


@dataclass
class CsvFile:
    rows: list[CsvRow] = field(default_factory=list)  # those with a valid and unique SKU, in the file's order
    rows_total: int = 0  # data rows, blank lines not counted
    problems: list[CsvProblem] = field(default_factory=list)
    unreadable: bool = False  # not CSV of the catalog's columns at all: nothing in it can be applied


def read_csv(body: bytes, max_rows: int) -> CsvFile:
    """The rows of a file; TooManyRows past `max_rows` data rows."""
    file = CsvFile()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _unreadable(file, None, f"not UTF-8 text (byte {error.start})")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0  # of the last record read
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        number = 1
        if not any(header):
            return _unreadable(file, 1, "the file is empty: the first row names the columns, sku among them")
        if problems := _header_problems(header):
            file.problems, file.unreadable = problems, True
            return file
        rows: dict[str, list[CsvRow]] = {}
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            file.rows_total += 1
            if file.rows_total > max_rows:
                raise TooManyRows(f"more than {max_rows} rows: split the file")
            if row := _row(file, number, header, cells):
                rows.setdefault(row.sku, []).append(row)
    except csv.Error as error:
        return _unreadable(file, number + 1, f"not valid CSV at line {reader.line_num}: {error}")
    for sku, same in rows.items():
        if len(same) == 1:
            file.rows.append(same[0])
        else:
            numbers = ", ".join(str(row.row) for row in same)
            file.problems += [CsvProblem(row.row, sku, "sku", f"SKU {sku} is on rows {numbers}: once per file")
                              for row in same]
    file.rows.sort(key=lambda row: row.row)
    return file


def _unreadable(file: CsvFile, row: int | None, message: str) -> CsvFile:
    file.problems.append(CsvProblem(row, None, None, message))
    file.unreadable = True
    return file


def _header_problems(header: list[str]) -> list[CsvProblem]:
    problems = [CsvProblem(1, None, name or None, f"unknown column {_shown(name)}: the columns are "
                                                  f"{', '.join(COLUMNS)}")
                for name in header if name not in COLUMNS]
    problems += [CsvProblem(1, None, name, f"column {name} appears {header.count(name)} times")
                 for name in sorted(set(header)) if name in COLUMNS and header.count(name) > 1]
    if "sku" not in header:
        problems.append(CsvProblem(1, None, "sku", "the sku column is missing"))
    return problems


def _row(file: CsvFile, number: int, header: list[str], cells: list[str]) -> CsvRow | None:
    if len(cells) != len(header):
        file.problems.append(CsvProblem(number, None, None, f"{len(cells)} cells, the header has {len(header)}"))
        return None
    named = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    sku = named.pop("sku")
    if not _SKU.fullmatch(sku):
        message = "required" if not sku else f"{_shown(sku)} is no SKU: letters, digits and ._/- up to 64 characters"
        file.problems.append(CsvProblem(number, None, "sku", message))
        return None
    return CsvRow(number, sku, named)


def parse_row(row: CsvRow, stored: SkuChanged | None) -> tuple[SkuFields | None, list[CsvProblem]]:
    """A row's record: its cells over the stored record's fields (a new SKU's defaults), checked field by field."""
    values: dict[str, Any] = fields_of(stored) if stored else {}
    problems = []
    for column, cell in row.cells.items():
        if column in DIMENSIONS:
            continue
        try:
            values[column] = _value(column, cell)
        except ValueError as error:
            problems.append(CsvProblem(row.row, row.sku, column, str(error)))
    if given := [column for column in DIMENSIONS if column in row.cells]:
        dimensions = dict(values.get("dimensions") or {}) | {column: row.cells[column] for column in given}
        values["dimensions"] = {k: v for k, v in dimensions.items() if v != ""} or None
    if problems:
        return None, problems
    try:
        return SkuFields.model_validate(values), []
    except ValidationError as invalid:
        return None, [problem(row, error["loc"], error["msg"]) for error in invalid.errors()]


def _value(column: str, cell: str) -> Any:
    if column == "barcodes":
        return [code.strip() for code in cell.split(LIST_SEPARATOR) if code.strip()]
    if column == "components":
        return [_component(part.strip()) for part in cell.split(LIST_SEPARATOR) if part.strip()]
    if cell == "" and column != "name":  # an empty name is refused as such
        return SkuFields.model_fields[column].get_default(call_default_factory=True)
    return cell


def _component(part: str) -> dict[str, str]:
    sku, separator, quantity = part.rpartition(":")
    if not separator or not sku:
        raise ValueError(f"{_shown(part)} is not SKU:quantity (e.g. SKU-A:2|SKU-B:1)")
    return {"sku": sku.strip(), "quantity": quantity.strip()}


def _shown(text: str) -> str:
    """A cell in a message, quoted; a long one shortened, so the report does not send a large file back."""
    return repr(text) if len(text) <= ECHO_LIMIT else repr(text[:ECHO_LIMIT]) + "…"


def problem(row: CsvRow, location: Iterable[str | int], message: str) -> CsvProblem:
    """A problem of a record's field (its path, e.g. components.0.sku) as one of the row's columns."""
    path = [str(part) for part in location]
    if path[:1] == ["dimensions"] and len(path) > 1:
        path = path[1:]  # each dimension has its column
    if len(path) > 1:
        message = f"{'.'.join(path)}: {message}"
    return CsvProblem(row.row, row.sku, path[0] if path else None, message)


def csv_lines(records: Iterable[SkuChanged], *, header: bool = True) -> Iterator[str]:
    """The header, then each record's row, as an import reads them back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(_cells(record))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cells(record: SkuChanged) -> list[str]:
    values = fields_of(record) | (record.dimensions.model_dump() if record.dimensions else {})
    values["barcodes"] = LIST_SEPARATOR.join(record.barcodes)
    values["components"] = LIST_SEPARATOR.join(f"{c.sku}:{c.quantity}" for c in record.components)
    return [record.sku, *(_cell(values.get(column)) for column in COLUMNS[1:])]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)  # a float's shortest repr reads back as the same float
