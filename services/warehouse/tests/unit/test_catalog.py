"""The SKU master's rules at receipt, and what a scanned code names."""

from datetime import date

import pytest

from warehouse_service.domain.catalog import SkuRules, is_expired, require_receivable, resolve_sku
from warehouse_service.domain.refusals import ScanRefused

TODAY = date(2026, 12, 1)
FRESH = date(2027, 3, 1)


@pytest.mark.parametrize("rules, lot, serial, expiry, reason", [
    (SkuRules("KIT", 1, is_bundle=True), None, None, None, "bundle_sku"),
    (SkuRules("MILK", 1, lot_controlled=True, expiry_controlled=True), None, None, FRESH, "missing_lot"),
    (SkuRules("PHONE", 1, serial_controlled=True), None, None, None, "missing_serial"),
    (SkuRules("MILK", 1, lot_controlled=True, expiry_controlled=True), "L1", None, None, "missing_expiry"),
    (SkuRules("MILK", 1, expiry_controlled=True), None, None, date(2026, 11, 30), "expired"),
    (None, None, None, date(2026, 11, 30), "expired"),  # expired units are refused whatever the SKU
])
def test_receipts_the_sku_master_forbids_are_refused(rules, lot, serial, expiry, reason):
    with pytest.raises(ScanRefused) as refused:
        require_receivable(rules, lot, serial, expiry, TODAY)
    assert refused.value.reason == reason


@pytest.mark.parametrize("rules, lot, serial, expiry", [
    (SkuRules("MILK", 1, lot_controlled=True, expiry_controlled=True), "L1", None, TODAY),  # usable today
    (SkuRules("PHONE", 1, serial_controlled=True), None, "SN-1", None),
    (SkuRules("TEE", 1), None, None, None),
    (None, None, None, None),  # a SKU the catalog has not announced: received without rules
])
def test_receipts_that_meet_the_rules_pass(rules, lot, serial, expiry):
    assert require_receivable(rules, lot, serial, expiry, TODAY) is None  # no ScanRefused


def test_units_are_usable_up_to_their_expiry_date():
    assert not is_expired(TODAY, TODAY) and is_expired(date(2026, 11, 30), TODAY) and not is_expired(None, TODAY)


def test_a_scanned_barcode_names_its_sku_and_a_known_sku_itself():
    barcodes = {"4006381333931": "MILK", "TEE": "OTHER"}
    assert resolve_sku("4006381333931", {"MILK", "TEE"}, barcodes) == "MILK"
    assert resolve_sku("TEE", {"MILK", "TEE"}, barcodes) == "TEE"  # a SKU's own id wins over a barcode
    assert resolve_sku("UNKNOWN", {"MILK"}, barcodes) == "UNKNOWN"
