"""The scanner contract (warehouse.scans.v1) accepts the documented example and names bad fields."""

import pytest
from pydantic import ValidationError

from ecomops_common.contracts.warehouse import ItemCondition, Scan, ScanKind

EXAMPLE = {"scan_id": "dev7-000123", "device_id": "dev7", "operator_id": "op-15", "warehouse_id": "BER1",
           "scanned_at": "2026-11-20T10:00:00Z", "kind": "pick", "sku": "SKU-RED-M", "quantity": 1,
           "location": "A-01-03", "to_location": None, "reference": "task-881",
           "condition": None, "lot": None, "serial": None, "tracking_number": None}


def test_the_documented_scan_is_valid():
    scan = Scan.model_validate(EXAMPLE)
    assert (scan.kind, scan.reference) == (ScanKind.pick, "task-881")
    assert {c.value for c in ItemCondition} == {"new", "like_new", "opened", "damaged", "missing_parts",
                                                "wrong_item", "empty_box"}


@pytest.mark.parametrize("change, field", [
    ({"kind": "teleport"}, "kind"), ({"quantity": -1}, "quantity"), ({"scanned_at": "2026-11-20T10:00:00"},
                                                                     "scanned_at"),
    ({"condition": "soggy"}, "condition"), ({"colour": "red"}, "colour"),
])
def test_a_malformed_scan_names_the_field(change, field):
    with pytest.raises(ValidationError) as error:
        Scan.model_validate({**EXAMPLE, **change})
    assert [e["loc"][0] for e in error.value.errors()] == [field]
