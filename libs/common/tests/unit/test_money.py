from decimal import Decimal

import pytest
from pydantic import ValidationError

from ecomops_common.contracts.warehouse import Scan
from ecomops_common.money import MINOR_UNIT_DIGITS, UnknownCurrency, minor_unit, to_minor_unit


@pytest.mark.parametrize(("currency", "digits"), [
    ("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("VND", 0), ("XOF", 0), ("XAF", 0), ("UGX", 0),
    ("KWD", 3), ("BHD", 3), ("IQD", 3), ("LYD", 3), ("TND", 3),
])
def test_minor_units_are_iso_4217s(currency, digits):
    assert MINOR_UNIT_DIGITS[currency] == digits
    assert minor_unit(currency) == Decimal(1).scaleb(-digits)


def test_rounding_is_half_up_to_the_currencys_minor_unit():
    assert to_minor_unit(Decimal("1500.5"), "VND") == Decimal("1501")
    assert to_minor_unit(Decimal("1.0005"), "IQD") == Decimal("1.001")
    assert to_minor_unit(Decimal("19.995"), "EUR") == Decimal("20.00")


def test_fund_codes_metals_and_unknown_codes_are_no_payment_currencies():
    for code in ("CLF", "UYI", "XAU", "XDR", "XXX", "ABC"):
        assert code not in MINOR_UNIT_DIGITS
    with pytest.raises(UnknownCurrency):
        to_minor_unit(Decimal("1"), "ABC")


def test_a_scan_with_an_unknown_currency_names_the_field():
    scan = {"scan_id": "s1", "device_id": "d1", "warehouse_id": "WH1", "scanned_at": "2026-11-20T10:00:00Z",
            "kind": "ship", "sku": "A", "quantity": 1, "location": "SHIP", "shipping_cost": "5.40"}
    assert Scan.model_validate({**scan, "currency": "EUR"}).currency == "EUR"
    with pytest.raises(ValidationError) as refused:
        Scan.model_validate({**scan, "currency": "ABC"})
    assert refused.value.errors()[0]["loc"] == ("currency",)
