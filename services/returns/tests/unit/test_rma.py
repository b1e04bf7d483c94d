"""An RMA through receipt and inspection: unexpected units flagged, dispositions by rule, the timeline."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from returns_service.domain.dispositions import DEFAULT_TABLE
from returns_service.domain.rma import Rma, RmaError, RmaLine, RmaStatus, Stage, cycle_time_summary

T0 = datetime(2026, 11, 22, 9, tzinfo=UTC)


@pytest.fixture
def rma():
    lines = [RmaLine("1", "TSHIRT-M", "apparel", 2, Decimal("19.99")),
             RmaLine("2", "HEADPHONES", "electronics", 1, Decimal("89.00"), shipped_serials=("SN-1",))]
    return Rma("rma-1", "o1", "web-eu", "c-42", "changed_mind", "BER1", lines,
               timeline=[Stage("authorized", T0, "portal")])


def test_receipt_and_inspection_reach_a_disposition_by_rule(rma):
    rma.receive("TSHIRT-M", 2, "like_new", T0 + timedelta(days=3), "dev9")
    assert rma.status is RmaStatus.received
    first = rma.inspect("TSHIRT-M", 1, "A", DEFAULT_TABLE, T0 + timedelta(days=4), "inspector:ola")
    second = rma.inspect("TSHIRT-M", 1, "C", DEFAULT_TABLE, T0 + timedelta(days=4), "inspector:ola")
    assert [(i.disposition, i.rule_id) for i in (first, second)] == [("restock", "like-new-restock"),
                                                                      ("quarantine", "damaged-quarantine")]
    assert rma.status is RmaStatus.inspected  # every received unit is graded; the headphones never came
    assert rma.line_of("TSHIRT-M").dispositions == {"restock": 1, "quarantine": 1}
    assert rma.cycle_times() == {"received": 3 * 86400.0, "inspected": 4 * 86400.0}
    rma.close(T0 + timedelta(days=5), "finance", "refund confirmed")
    assert rma.status is RmaStatus.closed and rma.cycle_times()["closed"] == 5 * 86400.0


def test_unexpected_items_and_quantities_and_serials_are_flagged(rma):
    rma.receive("TSHIRT-M", 3, "new", T0, "dev9")
    rma.receive("SOCKS", 1, "opened", T0, "dev9")
    rma.receive("HEADPHONES", 1, "opened", T0, "dev9")
    rma.inspect("HEADPHONES", 1, "B", DEFAULT_TABLE, T0, "inspector:ola", serial="SN-9")
    assert rma.flags == ["unexpected quantity: 3 of TSHIRT-M received, 2 expected",
                         "unexpected item: 1 × SOCKS (opened)", "serial mismatch: SN-9 was not shipped for HEADPHONES"]


def test_only_received_units_can_be_inspected_and_only_inspected_rmas_close(rma):
    with pytest.raises(RmaError, match="0 received units"):
        rma.inspect("TSHIRT-M", 1, "A", DEFAULT_TABLE, T0, "inspector:ola")
    with pytest.raises(RmaError, match="grade must be"):
        rma.inspect("TSHIRT-M", 1, "E", DEFAULT_TABLE, T0, "inspector:ola")
    with pytest.raises(RmaError, match="only an inspected RMA"):
        rma.close(T0, "finance", "too early")


def test_cycle_times_summarise_many_rmas_per_stage():
    timelines = [[Stage("authorized", T0, "p"), Stage("received", T0 + timedelta(hours=h), "w")] for h in (1, 2, 3)]
    assert cycle_time_summary([*timelines, [Stage("authorized", T0, "p")]]) == {
        "received": {"count": 3, "median_s": 7200.0, "p90_s": 10800.0}}
