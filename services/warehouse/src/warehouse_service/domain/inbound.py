"""Supply on its way to a node: a vendor's advance ship notice becomes an expected receipt, a transfer is due at
its destination by a date. Plain Python: no framework, no I/O."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from ecomops_common.errors import FieldProblem, Invalid
from warehouse_service.domain.scans import ExpectedReceipt, InboundTerms

AsnLine = tuple[str, int, Decimal, str | None, date | None]  # sku, units, unit cost, lot, expiry


def asn_receipt(asn_id: str, node: str, po_id: str, currency: str, expected_date: date, lines: Iterable[AsnLine],
                issued_by: str) -> ExpectedReceipt:
    """The receipt an advance ship notice announces, referenced by its id. A SKU on several lines is expected
    once, with their sum, at the first line's cost; a lot or expiry is kept only when all its lines give the
    same one (a scan without a lot then takes it)."""
    expected: dict[str, int] = {}
    terms: dict[str, InboundTerms] = {}
    for sku, units, unit_cost, lot, expiry in lines:
        expected[sku] = expected.get(sku, 0) + units
        first = terms.get(sku)
        terms[sku] = InboundTerms(unit_cost, lot, expiry) if first is None else InboundTerms(
            first.unit_cost, first.lot if first.lot == lot else None, first.expiry if first.expiry == expiry else None)
    return ExpectedReceipt(asn_id, node, expected, created_by=issued_by, expected_date=expected_date, po_id=po_id,
                           currency=currency, terms=terms)


def transfer_due(requested: date | None, dispatched_on: date, transfer_days: int) -> date:
    """When a transfer is expected at its destination: the date asked for (not before its dispatch), else
    `transfer_days` after dispatch."""
    if requested is not None and requested < dispatched_on:
        raise Invalid([FieldProblem("expected_date", f"{requested} is before the dispatch on {dispatched_on}")])
    return requested or dispatched_on + timedelta(days=transfer_days)
