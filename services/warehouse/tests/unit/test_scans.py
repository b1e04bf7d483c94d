"""Scans against layout, receipts and stock: applied whole, or refused with a reason."""

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

import pytest

from warehouse_service.domain.catalog import SkuRules
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Balances, Movement, Place, StockStatus
from warehouse_service.domain.scans import (
    ExpectedReceipt,
    InboundTerms,
    ScanCommand,
    ScanContext,
    ScanRefused,
    apply_scan,
    approved_receipt,
)

T0 = datetime(2026, 11, 22, 8, tzinfo=UTC)
LOCATIONS = [Location("BER1", "DOCK", LocationKind.receiving), Location("BER1", "A-01", LocationKind.storage),
             Location("BER1", "A-02", LocationKind.storage), Location("BER1", "PACK", LocationKind.packing)]


@pytest.fixture
def context():
    return ScanContext({(loc.node, loc.code): loc for loc in LOCATIONS},
                       {"PO-1": ExpectedReceipt("PO-1", "BER1", {"SKU-RED-M": 10})}, Balances())


def scan(kind, quantity=1, location="DOCK", **changes) -> ScanCommand:
    fields = dict(scan_id=f"s-{kind}-{quantity}", device_id="dev7", operator_id="op-15", node="BER1",
                  scanned_at=T0, kind=kind, sku="SKU-RED-M", quantity=quantity, location=location)
    return ScanCommand(**{**fields, **changes})


def test_received_units_become_sellable_only_after_putaway(context):
    apply_scan(scan("receive", 6, reference="PO-1"), context)
    assert context.balances.on_hand("SKU-RED-M", "BER1", StockStatus.sellable) == 0
    apply_scan(scan("putaway", 4, to_location="A-01"), context)
    apply_scan(scan("move", 1, location="A-01", to_location="A-02"), context)
    assert context.balances.on_hand("SKU-RED-M", "BER1", StockStatus.sellable) == 4
    assert context.balances.held("SKU-RED-M", Place("BER1", "A-02", StockStatus.sellable)) == 1
    assert context.receipts["PO-1"].discrepancies() == {"SKU-RED-M": {"short": 4, "damaged": 0}}


def test_damaged_units_are_received_as_damaged_and_recorded_on_the_receipt(context):
    apply_scan(scan("receive", 2, reference="PO-1", condition="damaged"), context)
    assert context.balances.held("SKU-RED-M", Place("BER1", "DOCK", StockStatus.damaged)) == 2
    assert context.receipts["PO-1"].discrepancies()["SKU-RED-M"]["damaged"] == 2


@pytest.mark.parametrize("bad, reason", [
    (scan("receive", 11, reference="PO-1"), "over_receipt"),
    (scan("receive", 1, reference="PO-9"), "unknown_receipt"),
    (scan("receive", 1), "no_receipt"),
    (scan("receive", 1, reference="PO-1", sku="SKU-BLUE"), "unexpected_sku"),
    (scan("receive", 1, location="A-01"), "wrong_location"),
    (scan("receive", 1, location="Z-99"), "unknown_location"),
    (scan("putaway", 1, to_location="A-01"), "quantity_above_stock"),
    (scan("putaway", 1), "missing_to_location"),
    (scan("putaway", 1, to_location="PACK"), "wrong_location"),
    (scan("receive", 0), "non_positive_quantity"),
    (scan("move", 1, location="A-01", to_location="A-01"), "same_location"),
])
def test_scans_that_cannot_be_applied_are_refused_with_a_reason(context, bad, reason):
    with pytest.raises(ScanRefused) as refused:
        apply_scan(bad, context)
    assert refused.value.reason == reason
    assert context.balances.items() == {} and context.receipts["PO-1"].received == {}


def stocked(context, units=5):
    apply_scan(scan("receive", units, scan_id="r", reference="PO-1"), context)
    apply_scan(scan("putaway", units, scan_id="p", to_location="A-01"), context)


def test_a_small_count_variance_is_adjusted_at_once(context):
    stocked(context)
    context.count_auto_adjust_units = 2
    movements = apply_scan(scan("count", 3, location="A-01", scan_id="c1"), context)
    assert [(m.reason, m.quantity, m.source is not None) for m in movements] == [("count_adjustment", 2, True)]
    assert context.balances.on_hand("SKU-RED-M", "BER1", StockStatus.sellable) == 3
    assert apply_scan(scan("count", 3, location="A-01", scan_id="c2"), context) == []  # matches: nothing moves


def test_a_large_count_variance_waits_for_a_supervisor(context):
    stocked(context)
    assert apply_scan(scan("count", 0, location="A-01", scan_id="c1"), context) == []
    variance, = context.variances
    assert (variance.expected, variance.counted, variance.variance, variance.counted_by) == (5, 0, -5, "op-15")
    assert context.balances.on_hand("SKU-RED-M", "BER1", StockStatus.sellable) == 5


def test_by_default_every_count_variance_waits_for_a_supervisor(context):
    stocked(context)
    assert apply_scan(scan("count", 4, location="A-01", scan_id="c1"), context) == []
    assert [v.variance for v in context.variances] == [-1]


def test_a_receipt_that_matched_none_is_booked_on_the_dock_as_the_approvers_once_approved(context):
    unexpected = scan("receive", 3, scan_id="u1", condition="damaged")
    movement = approved_receipt(unexpected, context.locations, "sup-kim", T0)
    assert (movement.source, movement.target, movement.reason, movement.actor, movement.scan_id) == (
        None, Place("BER1", "DOCK", StockStatus.damaged), "receipt", "sup-kim", "u1")
    with pytest.raises(ScanRefused) as refused:
        approved_receipt(scan("receive", 3, location="A-01"), context.locations, "sup-kim", T0)
    assert refused.value.reason == "wrong_location"


def test_counts_of_locations_without_countable_stock_are_refused(context):
    with pytest.raises(ScanRefused) as refused:
        apply_scan(scan("count", 1, location="PACK"), context)
    assert refused.value.reason == "wrong_location"


def test_a_pick_takes_units_from_a_bin_to_packing_for_its_task(context):
    from warehouse_service.domain.scans import fulfilled_by
    from warehouse_service.domain.tasks import PickTask, TaskStatus

    stocked(context)
    task = PickTask("t1", "o1", "1", "BER1", "SKU-RED-M", 3)
    context.tasks = {"t1": task}
    movements = apply_scan(scan("pick", 2, location="A-01", scan_id="k1", reference="t1"), context)
    assert context.balances.held("SKU-RED-M", Place("BER1", "PACK", StockStatus.picked)) == 2
    assert fulfilled_by(movements, context.tasks) == {("SKU-RED-M", "BER1"): [("o1", "1", 2)]}
    for bad, reason in ((scan("pick", 2, location="A-01", scan_id="k2", reference="t1"), "over_pick"),
                        (scan("pick", 1, location="A-02", scan_id="k3", reference="t1"), "quantity_above_stock"),
                        (scan("pick", 1, location="A-01", scan_id="k4", reference="t9"), "unknown_task"),
                        (scan("pick", 1, location="A-01", scan_id="k5", reference="t1", sku="SKU-BLUE"),
                         "wrong_item")):
        with pytest.raises(ScanRefused) as refused:
            apply_scan(bad, context)
        assert refused.value.reason == reason
    assert (task.picked, task.status) == (2, TaskStatus.open)
    apply_scan(scan("pick", 1, location="A-01", scan_id="k6", reference="t1"), context)
    assert task.status is TaskStatus.done


MILK = SkuRules("SKU-RED-M", 3, lot_controlled=True, expiry_controlled=True)
LATER, SOONER = date(2027, 3, 1), date(2027, 1, 1)


@pytest.mark.parametrize("rules, bad, reason", [
    (MILK, scan("receive", 1, reference="PO-1", expiry=LATER), "missing_lot"),
    (MILK, scan("receive", 1, expiry=LATER), "missing_lot"),  # before the missing receipt: not approvable
    (MILK, scan("receive", 1, reference="PO-1", lot="L1"), "missing_expiry"),
    (MILK, scan("receive", 1, reference="PO-1", lot="L1", expiry=date(2026, 11, 21)), "expired"),
    (SkuRules("SKU-RED-M", 1, is_bundle=True), scan("receive", 1, reference="PO-1"), "bundle_sku"),
])
def test_receipts_the_catalog_forbids_are_refused_before_anything_moves(context, rules, bad, reason):
    context.sku_rules = {"SKU-RED-M": rules}
    with pytest.raises(ScanRefused) as refused:
        apply_scan(bad, context)
    assert refused.value.reason == reason
    assert context.balances.items() == {} and context.receipts["PO-1"].received == {}


def test_a_receipt_against_an_asn_takes_the_lot_and_expiry_it_announced(context):
    context.sku_rules = {"SKU-RED-M": MILK}
    context.receipts["ASN-1"] = ExpectedReceipt("ASN-1", "BER1", {"SKU-RED-M": 5}, po_id="PO-7", currency="EUR",
                                                terms={"SKU-RED-M": InboundTerms(Decimal("1.20"), "L1", LATER)})
    movement, = apply_scan(scan("receive", 2, reference="ASN-1"), context)
    assert (movement.target.lot, movement.target.expiry) == ("L1", LATER)
    movement, = apply_scan(scan("receive", 3, reference="ASN-1", scan_id="s2", lot="L9", expiry=SOONER), context)
    assert (movement.target.lot, movement.target.expiry) == ("L9", SOONER)  # what the scan says wins
    assert context.receipts["ASN-1"].fully_received


def test_expiry_controlled_units_are_picked_first_expiry_first_out(context):
    from warehouse_service.domain.tasks import PickTask

    context.sku_rules = {"SKU-RED-M": MILK}
    for lot, expiry, where in (("L-late", LATER, "A-01"), ("L-soon", SOONER, "A-02"),
                               ("L-gone", date(2026, 11, 1), "A-02")):
        context.balances.apply(Movement("SKU-RED-M", 2, None, Place("BER1", where, StockStatus.sellable, lot, None,
                                                                    expiry), "receipt", None, "op", None, T0))
    context.tasks = {"t1": PickTask("t1", "o1", "1", "BER1", "SKU-RED-M", 4)}
    pick = partial(scan, "pick", reference="t1")
    for bad, reason in ((pick(1, location="A-01", lot="L-late", expiry=LATER), "not_first_expiry"),
                        (pick(1, location="A-02", lot="L-gone", expiry=date(2026, 11, 1)), "expired"),
                        (pick(1, location="A-02", lot="L-soon"), "missing_expiry")):
        with pytest.raises(ScanRefused) as refused:
            apply_scan(bad, context)
        assert refused.value.reason == reason
    apply_scan(pick(2, location="A-02", lot="L-soon", expiry=SOONER, scan_id="k1"), context)
    apply_scan(pick(2, location="A-01", lot="L-late", expiry=LATER, scan_id="k2"), context)  # the sooner lot is gone
    assert context.tasks["t1"].picked == 4
