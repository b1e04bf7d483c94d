"""Advance ship notices as expected receipts, and when a transfer is due."""

from datetime import date
from decimal import Decimal

import pytest

from ecomops_common.errors import Invalid
from warehouse_service.domain.inbound import asn_receipt, transfer_due
from warehouse_service.domain.scans import InboundTerms

DUE = date(2026, 12, 8)


def test_an_asn_is_expected_per_sku_at_its_lines_cost_and_the_lot_all_its_lines_give():
    receipt = asn_receipt("ASN-1", "BER1", "PO-1", "EUR", DUE, [
        ("MILK", 10, Decimal("1.20"), "L1", date(2027, 1, 1)), ("MILK", 5, Decimal("1.30"), "L2", date(2027, 1, 1)),
        ("TEE", 3, Decimal("4.00"), None, None)], "buyer:bob")
    assert (receipt.reference, receipt.node, receipt.po_id, receipt.currency, receipt.expected_date) == (
        "ASN-1", "BER1", "PO-1", "EUR", DUE)
    assert receipt.expected == {"MILK": 15, "TEE": 3} and receipt.created_by == "buyer:bob"
    assert receipt.terms == {"MILK": InboundTerms(Decimal("1.20"), None, date(2027, 1, 1)),
                             "TEE": InboundTerms(Decimal("4.00"))}


def test_a_transfer_is_due_when_asked_else_some_days_after_dispatch():
    assert transfer_due(None, date(2026, 12, 1), 2) == date(2026, 12, 3)
    assert transfer_due(DUE, date(2026, 12, 1), 2) == DUE
    assert transfer_due(date(2026, 12, 1), date(2026, 12, 1), 2) == date(2026, 12, 1)
    with pytest.raises(Invalid) as invalid:
        transfer_due(date(2026, 11, 30), date(2026, 12, 1), 2)
    assert [problem.field for problem in invalid.value.problems] == ["expected_date"]
