"""Units leaving the recovery statuses: the movements each exit makes, the value threshold, the disposal record of
hazardous units, the QA queue, graded variants and return-to-vendor authorizations (pick, pack, ship)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecomops_common.contracts.warehouse import RecoveryAction
from ecomops_common.errors import Invalid
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Balances, Movement, Place, Reason, StockStatus, replay
from warehouse_service.domain.recovery import (
    GradedVariant,
    QaItem,
    RecoveryMove,
    RtvLine,
    Shortfall,
    VendorReturn,
    answer_qa_items,
    needs_approval,
    recovery_movements,
    require_disposal,
    require_recovery_status,
    write_off_value,
)
from warehouse_service.domain.scans import ScanCommand, ScanContext, ScanRefused, apply_scan

T0 = datetime(2026, 11, 22, 8, tzinfo=UTC)
BENCH = Place("BER1", "RET-1", StockStatus.refurbish)
SERIAL = Place("BER1", "RET-1", StockStatus.refurbish, serial="SN-1")
THRESHOLD = Decimal("250.00")
DISPOSAL = {"method": "recycling", "facility": "EcoCycle GmbH", "certificate": None, "hazard_class": "UN3480"}


def move(action=RecoveryAction.refurbished, quantity=1, to_status=StockStatus.sellable, **changes) -> RecoveryMove:
    fields = dict(action=action, node="BER1", sku="A", location="RET-1", from_status=StockStatus.refurbish,
                  quantity=quantity, to_status=to_status, to_location="A-01")
    return RecoveryMove(**{**fields, **changes})


def scrap(quantity=1, action=RecoveryAction.scrapped, **changes) -> RecoveryMove:
    return move(action, quantity, None, to_location=None, **changes)


def test_refurbished_units_become_sellable_where_they_are_put_keeping_their_serials():
    balances = Balances({("A", BENCH): 2, ("A", SERIAL): 1})
    movements = recovery_movements(balances, move(quantity=3), "sup-kim", T0)
    assert [(m.quantity, m.source, m.target, m.reason, m.actor) for m in movements] == [
        (2, BENCH, Place("BER1", "A-01", StockStatus.sellable), Reason.refurbishment, "sup-kim"),
        (1, SERIAL, Place("BER1", "A-01", StockStatus.sellable, serial="SN-1"), Reason.refurbishment, "sup-kim")]
    assert balances.on_hand("A", "BER1", StockStatus.sellable) == 3


def test_a_graded_variant_is_another_sku_the_units_leave_the_base_for():
    balances = Balances({("A", BENCH): 2})
    movements = recovery_movements(balances, move(quantity=2, to_sku="A-OPENBOX"), "sup-kim", T0)
    assert [(m.sku, m.quantity, m.source, m.target, m.reason) for m in movements] == [
        ("A", 2, BENCH, None, Reason.regrade),
        ("A-OPENBOX", 2, None, Place("BER1", "A-01", StockStatus.sellable), Reason.regrade)]
    assert balances.items() == {("A-OPENBOX", Place("BER1", "A-01", StockStatus.sellable)): 2}
    received = Movement("A", 2, None, BENCH, Reason.disposition, "RMA-1", "returns", None, T0)
    assert balances.items() == replay([received, *movements]).items()  # what left A entered the variant


def test_not_enough_units_in_the_source_status_is_refused_naming_the_shortfall_and_changes_nothing():
    balances = Balances({("A", BENCH): 1, ("A", Place("BER1", "RET-1", StockStatus.quarantined)): 5})
    with pytest.raises(Shortfall, match="holds 1 refurbish units of A, 3 asked: 2 short"):
        recovery_movements(balances, move(quantity=3), "sup-kim", T0)
    assert balances.held("A", BENCH) == 1


def test_scrap_liquidation_and_the_last_rtv_step_leave_the_books():
    balances = Balances({("A", BENCH): 1, ("A", Place("BER1", "L-1", StockStatus.liquidation)): 2})
    scrapped, = recovery_movements(balances, scrap(), "sup-kim", T0)
    assert (scrapped.target, scrapped.reason) == (None, Reason.scrap)
    sold, = recovery_movements(balances, move(RecoveryAction.liquidated, 2, None, location="L-1",
                                              from_status=StockStatus.liquidation, to_location=None,
                                              reference="LOT-1"), "sup-kim", T0)
    assert (sold.target, sold.reason, sold.reference) == (None, Reason.liquidation, "LOT-1")
    assert balances.items() == {}


def test_a_write_off_above_the_threshold_or_of_unknown_value_needs_approval():
    costs = {"A": (Decimal("100.00"), "EUR"), "B": (Decimal("1.00"), "USD")}
    small, large = [scrap(2)], [scrap(3)]
    assert write_off_value(small, costs) == (Decimal("200.00"), "EUR")
    assert not needs_approval(small, write_off_value(small, costs), THRESHOLD)
    assert needs_approval(large, write_off_value(large, costs), THRESHOLD)  # 300 > 250
    assert needs_approval([scrap(1, sku="C")], write_off_value([scrap(1, sku="C")], costs), THRESHOLD)  # no cost
    mixed = [scrap(1), scrap(1, sku="B")]
    assert write_off_value(mixed, costs) is None  # different currencies cannot be summed
    assert not needs_approval([move(quantity=100)], None, THRESHOLD)  # nothing leaves the books


def test_scrapping_hazardous_units_needs_a_disposal_record():
    hazardous = {("A", "BER1")}
    with pytest.raises(Invalid) as refused:
        require_disposal([scrap()], hazardous)
    assert refused.value.problems[0].field == "disposal"
    with pytest.raises(Invalid):
        require_disposal([scrap(action=RecoveryAction.refurbish_failed)], hazardous)
    require_disposal([scrap(disposal=DISPOSAL)], hazardous)
    require_disposal([scrap()], set())  # not hazardous
    require_disposal([move()], hazardous)  # not scrapped


def test_only_recovery_statuses_may_be_scrapped_that_way():
    require_recovery_status(StockStatus.liquidation)
    with pytest.raises(Invalid) as refused:
        require_recovery_status(StockStatus.sellable)
    assert refused.value.problems[0].field == "status"


def test_units_leaving_quarantine_answer_the_oldest_qa_items_first():
    first, second = QaItem("RMA-1/A", "BER1", "A", 2), QaItem("RMA-2/A", "BER1", "A", 3)
    touched = answer_qa_items([first, second], 3)
    assert [(item.id, units, item.remaining) for item, units in touched] == [("RMA-1/A", 2, 0), ("RMA-2/A", 1, 2)]


def test_a_graded_variant_needs_its_own_sku_and_takes_units_of_its_base_only():
    with pytest.raises(Invalid) as refused:
        GradedVariant("A", "A", "B", Decimal("9.00"), "EUR", [])
    assert refused.value.problems[0].field == "base_sku"
    variant = GradedVariant("A-B", "A", "B", Decimal("9.00"), "EUR", ["web-eu"])
    variant.require_base("A")
    with pytest.raises(Invalid) as refused:
        variant.require_base("Z")
    assert refused.value.problems[0].field == "variant_sku"


LOCATIONS = [Location("BER1", "RET-1", LocationKind.returns), Location("BER1", "A-01", LocationKind.storage),
             Location("BER1", "PACK", LocationKind.packing), Location("BER1", "SHIP", LocationKind.shipping)]


def rtv_scan(kind, quantity, location, **changes) -> ScanCommand:
    fields = dict(scan_id=f"v-{kind}-{quantity}", device_id="dev7", operator_id="op-15", node="BER1",
                  scanned_at=T0, kind=kind, sku="A", quantity=quantity, location=location, reference="RTV-1")
    return ScanCommand(**{**fields, **changes})


def test_vendor_return_units_are_picked_packed_and_shipped_against_their_authorization():
    rtv = VendorReturn("RTV-1", "V-1", "BER1", {"A": RtvLine(3)})
    waiting = Place("BER1", "RET-1", StockStatus.vendor_return)
    context = ScanContext({(loc.node, loc.code): loc for loc in LOCATIONS}, {},
                          Balances({("A", waiting): 4, ("B", waiting): 1}), vendor_returns={"RTV-1": rtv})
    picked, = apply_scan(rtv_scan("pick", 2, "RET-1"), context)
    assert (picked.target, picked.reason) == (Place("BER1", "PACK", StockStatus.vendor_return), Reason.rtv_pick)
    for bad, reason in ((rtv_scan("pick", 2, "RET-1"), "over_pick"),  # 1 left on the authorization
                        (rtv_scan("pick", 1, "RET-1", sku="B"), "wrong_item"),
                        (rtv_scan("ship", 1, "SHIP"), "quantity_above_stock"),  # nothing packed yet
                        (rtv_scan("pick", 1, "A-01", reference="RTV-9"), "unknown_task")):
        with pytest.raises(ScanRefused) as refused:
            apply_scan(bad, context)
        assert refused.value.reason == reason
    packed, = apply_scan(rtv_scan("pack", 2, "PACK"), context)
    assert (packed.target, packed.reason) == (Place("BER1", "SHIP", StockStatus.vendor_return), Reason.rtv_pack)
    shipped, = apply_scan(rtv_scan("ship", 2, "SHIP"), context)
    assert (shipped.target, shipped.reason) == (None, Reason.rtv_ship)
    assert rtv.lines["A"] == RtvLine(3, picked=2, packed=2, shipped=2)
    assert context.balances.items() == {("A", waiting): 2, ("B", waiting): 1}


def test_an_authorization_packs_no_more_than_picked_and_ships_no_more_than_packed():
    rtv = VendorReturn("RTV-1", "V-1", "BER1", {"A": RtvLine(3, picked=2, packed=1)})
    for step, quantity in (("pack", 2), ("ship", 2), ("pick", 2)):
        with pytest.raises(ScanRefused) as refused:
            rtv.advance(step, "BER1", "A", quantity)
        assert refused.value.reason == f"over_{step}"
    with pytest.raises(ScanRefused) as refused:
        rtv.advance("pick", "HAM1", "A", 1)
    assert refused.value.reason == "wrong_item"
    assert rtv.lines["A"] == RtvLine(3, picked=2, packed=1)


def test_a_shipping_cost_needs_its_currency():
    context = ScanContext({(loc.node, loc.code): loc for loc in LOCATIONS}, {}, Balances())
    with pytest.raises(ScanRefused) as refused:
        apply_scan(rtv_scan("return_receive", 1, "RET-1", shipping_cost=Decimal("4.50"), reference="RMA-1",
                            condition="damaged"), context)
    assert refused.value.reason == "missing_currency"


STATUSES = [StockStatus.refurbish, StockStatus.quarantined, StockStatus.vendor_return, StockStatus.liquidation]
moves = st.builds(
    lambda action, quantity, from_status, to_status, location, to_sku: RecoveryMove(
        action, "BER1", "A", location, from_status, quantity, to_status, "A-01" if to_status else None,
        to_sku if to_status is StockStatus.sellable else None),
    st.sampled_from(list(RecoveryAction)), st.integers(1, 4), st.sampled_from(STATUSES),
    st.none() | st.sampled_from([StockStatus.sellable, StockStatus.refurbish, StockStatus.vendor_return]),
    st.sampled_from(["RET-1", "A-01"]), st.none() | st.just("A-B"))


@settings(deadline=None, max_examples=200)
@given(stocked=st.dictionaries(st.sampled_from(STATUSES), st.integers(1, 6)), attempts=st.lists(moves, max_size=30))
def test_recovery_moves_keep_the_balances_the_sum_of_the_ledger_and_never_negative(stocked, attempts):
    ledger = [Movement("A", units, None, Place("BER1", "RET-1", status), Reason.disposition, None, "returns", None,
                       T0) for status, units in stocked.items()]
    balances = replay(ledger)
    for attempt in attempts:
        try:
            ledger += recovery_movements(balances, attempt, "sup", T0)
        except (Shortfall, ValueError):  # not there, or a move to where the units are
            continue
    assert balances.items() == replay(ledger).items()
    assert all(units > 0 for units in balances.items().values())
