"""An RMA through receipt and inspection: unexpected units flagged, dispositions by rule, the timeline."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from returns_service.domain.dispositions import DEFAULT_TABLE
from returns_service.domain.refunds import ApprovalRefused
from returns_service.domain.rma import (
    ReturnLabel,
    Rma,
    RmaError,
    RmaLine,
    RmaStatus,
    Stage,
    WriteOff,
    cycle_time_summary,
)

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


def test_a_write_off_above_the_value_waits_for_a_supervisor_who_did_not_grade_it(rma):
    rma.receive("TSHIRT-M", 2, "damaged", T0, "dev9")
    rma.receive("HEADPHONES", 1, "damaged", T0, "dev9")
    cheap = rma.inspect("TSHIRT-M", 1, "D", DEFAULT_TABLE, T0, "inspector:ola", write_off_approval_value=Decimal(50))
    assert (cheap.disposition, cheap.write_off, cheap.value) == ("scrap", None, Decimal("19.99"))
    costly = rma.inspect("HEADPHONES", 1, "D", DEFAULT_TABLE, T0, "inspector:ola",
                         write_off_approval_value=Decimal(50))
    assert (costly.id, costly.disposition, costly.write_off) == ("rma-1-I2", "scrap", WriteOff.pending_approval)
    assert rma.waiting_write_off and rma.timeline[-1].stage == "write_off_pending_approval"

    with pytest.raises(ApprovalRefused, match="inspector:ola inspected these items") as refused:
        rma.decide_write_off(costly.id, "inspector:ola", T0)
    assert refused.value.reason == "segregation_of_duties"
    approved = rma.decide_write_off(costly.id, "sup:ana", T0 + timedelta(hours=1), note="photos checked")
    assert (approved.write_off, approved.decided_by, approved.disposition) == (WriteOff.approved, "sup:ana", "scrap")
    assert rma.inspections[1] == approved and not rma.waiting_write_off
    assert (rma.timeline[-1].stage, rma.timeline[-1].actor) == ("write_off_approved", "sup:ana")
    with pytest.raises(RmaError, match="no write-off waiting"):
        rma.decide_write_off(costly.id, "sup:ana", T0)
    with pytest.raises(RmaError, match="no write-off waiting"):
        rma.decide_write_off(cheap.id, "sup:ana", T0)


def test_a_refused_write_off_sends_the_units_to_another_disposition(rma):
    rma.receive("TSHIRT-M", 2, "damaged", T0, "dev9")
    inspection = rma.inspect("TSHIRT-M", 2, "D", DEFAULT_TABLE, T0, "inspector:ola",
                             write_off_approval_value=Decimal(0))
    with pytest.raises(RmaError, match="instead of a write-off"):
        rma.decide_write_off(inspection.id, "sup:ana", T0, instead="liquidate")
    with pytest.raises(RmaError, match="has no inspection"):
        rma.decide_write_off("rma-1-I9", "sup:ana", T0, instead="quarantine")
    rejected = rma.decide_write_off(inspection.id, "sup:ana", T0, instead="refurbish", note="repairable")
    assert (rejected.disposition, rejected.write_off) == ("refurbish", WriteOff.rejected)
    assert rma.line_of("TSHIRT-M").dispositions == {"refurbish": 2}
    assert rma.timeline[-1].note == "2 × TSHIRT-M → refurbish, not scrap: repairable"


def test_cycle_times_summarise_many_rmas_per_stage():
    timelines = [[Stage("authorized", T0, "p"), Stage("received", T0 + timedelta(hours=h), "w")] for h in (1, 2, 3)]
    assert cycle_time_summary([*timelines, [Stage("authorized", T0, "p")]]) == {
        "received": {"count": 3, "median_s": 7200.0, "p90_s": 10800.0}}


def test_an_inspected_unit_of_a_hazardous_category_is_forced_to_quarantine(rma):
    rma.lines[0].category = "batteries"
    rma.receive(rma.lines[0].sku, 1, "new", T0, "dev9")
    inspection = rma.inspect(rma.lines[0].sku, 1, "A", DEFAULT_TABLE, T0, "inspector:ola",
                             hazardous_categories={"batteries"}, notes="swollen cell")
    assert (inspection.disposition, inspection.rule_id, inspection.hazardous, inspection.notes) == (
        "quarantine", "hazardous-category", True, "swollen cell")
    assert rma.lines[0].dispositions == {"quarantine": 1}


def test_a_hazmat_class_forces_quarantine_and_marks_the_inspection_hazardous(rma):
    rma.receive("TSHIRT-M", 1, "new", T0, "dev9")
    inspection = rma.inspect("TSHIRT-M", 1, "A", DEFAULT_TABLE, T0, "inspector:ola", hazmat_class="UN3480")
    assert (inspection.disposition, inspection.rule_id, inspection.hazardous) == ("quarantine", "hazmat-class", True)


def test_the_return_label_is_attached_once_and_on_the_timeline(rma):
    label = ReturnLabel("dhl", "ground", "RT-1", None, Decimal("4.20"), "EUR", T0)
    assert rma.attach_label(label) and not rma.attach_label(label)
    assert rma.return_label == label
    assert [(s.stage, s.actor) for s in rma.timeline] == [("authorized", "portal"), ("return_label_issued", "shipping")]
    assert rma.attach_label(ReturnLabel("ups", "ground", "RT-2", None, Decimal("5"), "EUR", T0))  # a new label
    assert rma.return_label.tracking_number == "RT-2"
