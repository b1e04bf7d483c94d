"""The catalog's CSV files: what a file must look like, each cell's problem named by its row and column, and the
export read back as the same records. No I/O."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog_service.service_layer.csv_format import COLUMNS, DIMENSIONS, TooManyRows, csv_lines, parse_row, read_csv
from catalog_service.service_layer.records import FIELDS, SkuFields, fields_of, snapshot

AT = datetime(2026, 12, 1, tzinfo=UTC)
HEADER = ",".join(COLUMNS)


def record(sku: str, **fields):
    return snapshot(sku, SkuFields(**{"name": f"{sku} name", **fields}), None, "mia", AT)


def test_every_field_has_its_column():
    assert set(COLUMNS) - {"sku", *DIMENSIONS} == FIELDS - {"dimensions"}


def test_the_export_reads_back_as_the_same_records():
    records = [
        record("KIT-1", components=[{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU/B", "quantity": 1}],
               final_sale=True, category="gifts", unit_cost="12.5000", currency="EUR"),
        record("SKU-A", barcodes=["4006381333931", "OWN-1"], dimensions={"length_cm": 10.5, "width_cm": 0.1,
                                                                         "height_cm": 3}, weight_kg=0.00001,
               hazmat_class="UN3480", lot_controlled=True, expiry_controlled=True, shelf_life_days=365,
               vendor_id="V-1", vendor_sku="v,1 \"quoted\"", lead_time_days=0, min_order_quantity=12, case_pack=6,
               unit_cost="0.0001", currency="USD", returnable=False, return_window_days=0, status="discontinued",
               name="Shirt, blue\nwith a line break"),
    ]
    file = read_csv("".join(csv_lines(records)).encode(), max_rows=10)
    assert file.problems == [] and file.rows_total == 2
    for row, written in zip(file.rows, records, strict=True):
        fields, problems = parse_row(row, None)
        assert problems == [] and fields_of(fields) == fields_of(written)


def test_columns_left_out_keep_the_stored_values_and_an_empty_cell_is_the_default():
    stored = record("SKU-A", barcodes=["1"], unit_cost="2.00", currency="EUR", case_pack=6,
                    dimensions={"length_cm": 1, "width_cm": 2, "height_cm": 3})
    [row] = read_csv(b"sku,unit_cost,case_pack,height_cm\nSKU-A,3.00,,4\n", max_rows=10).rows
    fields, problems = parse_row(row, stored)
    assert problems == []
    assert (fields.unit_cost, fields.currency, fields.case_pack, fields.barcodes) == (Decimal("3.00"), "EUR", 1, ["1"])
    assert fields.dimensions.model_dump() == {"length_cm": 1, "width_cm": 2, "height_cm": 4}


def test_a_cell_problem_names_its_row_and_column():
    body = (f"{HEADER}\n"
            "SKU-A,Shirt,sold,1|bad code,,10,,3,-1,,maybe,,,,,,,,,abc,,,,,SKU-B:two|SKU-C\n").encode()
    [row] = read_csv(body, max_rows=10).rows
    _, problems = parse_row(row, None)
    assert {(p.row, p.sku, p.field) for p in problems} == {(2, "SKU-A", "components")}  # unparsable first
    assert "'SKU-C' is not SKU:quantity" in problems[0].message
    [row] = read_csv(body.replace(b"|SKU-C", b""), max_rows=10).rows
    _, problems = parse_row(row, None)
    assert sorted((p.field, p.message.split(":")[0]) for p in problems) == [
        ("barcodes", "barcodes.1"), ("components", "components.0.quantity"), ("lot_controlled", "Input should be a "
                                                                                                 "valid boolean, "
                                                                                                 "unable to interpret "
                                                                                                 "input"),
        ("status", "Input should be 'active' or 'discontinued'"), ("unit_cost", "Value error, 'abc' is not a decimal "
                                                                                "amount"),
        ("weight_kg", "Input should be greater than 0"), ("width_cm", "Field required")]


def test_a_new_sku_needs_a_name():
    [row] = read_csv(b"sku,name\nSKU-A,\n", max_rows=10).rows
    assert [(p.field, p.message) for p in parse_row(row, None)[1]] == [
        ("name", "String should have at least 1 character")]
    [row] = read_csv(b"sku,category\nSKU-A,shirts\n", max_rows=10).rows
    assert [(p.field, p.message) for p in parse_row(row, None)[1]] == [("name", "Field required")]


@pytest.mark.parametrize(("body", "row", "message"), [
    (b"", 1, "the file is empty"),
    (b"\n\n", 1, "the file is empty"),
    (b"sku,name\xff\n", None, "not UTF-8 text (byte 8)"),
    (b'sku,name\nA,"unclosed\n', 2, "not valid CSV at line 2: unexpected end of data"),
    (b'sku,name\nA,b\nB,"x"y\n', 3, "not valid CSV at line 3"),
    (b'"sku,name\n', 1, "not valid CSV at line 1"),
])
def test_a_file_that_is_no_csv_is_unreadable(body, row, message):
    file = read_csv(body, max_rows=10)
    assert file.unreadable and file.problems[0].row == row and file.problems[0].message.startswith(message)


def test_the_header_names_known_columns_once_sku_among_them():
    file = read_csv(b"name,Weight_KG,wieght_kg,name\nShirt,1,1,x\n", max_rows=10)
    assert file.unreadable
    assert [(p.row, p.field) for p in file.problems] == [(1, "wieght_kg"), (1, "name"), (1, "sku")]


def test_rows_with_a_bad_sku_a_wrong_cell_count_or_a_repeated_sku_are_refused():
    file = read_csv(b"SKU,name\nA,one\n,none\nbad sku,x\nB\nA,again\n\nC,fine\n", max_rows=10)
    assert not file.unreadable and file.rows_total == 6
    assert [row.sku for row in file.rows] == ["C"]
    assert [(p.row, p.sku, p.field, p.message) for p in file.problems] == [
        (3, None, "sku", "required"),
        (4, None, "sku", "'bad sku' is no SKU: letters, digits and ._/- up to 64 characters"),
        (5, None, None, "1 cells, the header has 2"),
        (2, "A", "sku", "SKU A is on rows 2, 6: once per file"),
        (6, "A", "sku", "SKU A is on rows 2, 6: once per file")]


def test_too_many_rows():
    with pytest.raises(TooManyRows):
        read_csv(b"sku,name\nA,a\nB,b\nC,c\n", max_rows=2)


def test_a_long_bad_cell_is_not_sent_back_whole():
    file = read_csv(b"sku,name\n" + b"X" * 10_000 + b",x\n", max_rows=10)
    assert len(file.problems[0].message) < 200
