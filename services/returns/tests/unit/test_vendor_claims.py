"""Vendor claims in the domain: which returns are claimed, one line per inspection with its evidence, and every
step of draft → submitted → accepted / partially_accepted / rejected → credited, with who took it."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from returns_service.domain.dispositions import DEFAULT_TABLE
from returns_service.domain.rma import Rma, RmaLine, Stage
from returns_service.domain.vendor_claims import (
    ClaimError,
    ClaimRule,
    InvalidClaimStep,
    UnitCost,
    VendorClaim,
    VendorOf,
    claim_line,
    new_claim,
    vendor_change,
)

D = Decimal
T0 = datetime(2026, 11, 22, 9, tzinfo=UTC)
COSTS = {"KETTLE": UnitCost(D("12.50"), "EUR")}


def inspected_rma(grade: str = "C", quantity: int = 2) -> tuple[Rma, object]:
    rma = Rma("rma-1", "o1", "web-eu", "c-42", "defective", "BER1",
              [RmaLine("1", "KETTLE", "kitchen", quantity, D("30.00"), order_quantity=quantity)],
              timeline=[Stage("authorized", T0, "portal")], photos=["s3://photos/1.jpg"])
    rma.receive("KETTLE", quantity, "damaged", T0, "dev9")
    return rma, rma.inspect("KETTLE", quantity, grade, DEFAULT_TABLE, T0, "op-3", serial="SN-9",
                            notes="element burnt out")


def draft(cost: UnitCost | None = None) -> VendorClaim:
    claim = new_claim("VC-1", "acme", T0, "returns")
    rma, inspection = inspected_rma()
    assert claim.add_line(claim_line(rma, inspection, "AC-KET-1", cost), T0, "op-3")
    return claim


def submitted() -> VendorClaim:
    claim = draft()
    claim.submit(COSTS, "sup:sam", T0)
    return claim


@pytest.mark.parametrize("reason, grade, claimed", [
    ("defective", "C", True), ("defective", "B", True), ("defective", "D", True),
    ("defective", "A", False), ("changed_mind", "C", False)])
def test_the_default_rule_claims_defective_units_graded_b_to_d(reason, grade, claimed):
    assert ClaimRule().matches(reason, grade) is claimed


def test_a_rule_naming_unknown_reasons_or_grades_is_invalid():
    problems = ClaimRule(frozenset({"meh"}), frozenset({"E"})).validate()
    assert [p.field for p in problems] == ["reasons", "grades"]
    assert ClaimRule(frozenset({"wrong_item"}), frozenset({"A"})).validate() == []


def test_a_line_carries_the_evidence_of_its_inspection_and_rma():
    rma, inspection = inspected_rma()
    line = claim_line(rma, inspection, "AC-KET-1", COSTS["KETTLE"])
    assert (line.inspection_id, line.rma_id, line.sku, line.vendor_sku, line.quantity, line.grade, line.reason) == (
        "rma-1-I1", "rma-1", "KETTLE", "AC-KET-1", 2, "C", "defective")
    assert (line.serials, line.notes, line.photos) == (("SN-9",), "element burnt out", ("s3://photos/1.jpg",))
    assert (line.unit_cost, line.currency, line.amount) == (D("12.50"), "EUR", D("25.00"))


def test_the_same_inspection_never_adds_a_second_line():
    claim = draft()
    rma, inspection = inspected_rma()
    assert not claim.add_line(claim_line(rma, inspection, None, None), T0, "op-3")
    assert len(claim.lines) == 1 and [s.action for s in claim.timeline] == ["opened", "line_added"]


def test_submitting_fills_the_costs_known_and_names_the_lines_without_one():
    claim = draft()
    assert (claim.currency, claim.claimed_amount) == (None, 0)
    with pytest.raises(ClaimError, match=r"no unit cost known for lines.0 \(KETTLE from rma-1\)"):
        claim.submit({}, "sup:sam", T0)
    assert claim.status == "draft"
    claim.submit(COSTS, "sup:sam", T0, "batch of November")
    assert (claim.status, claim.currency, claim.claimed_amount) == ("submitted", "EUR", D("25.00"))
    assert (claim.last_step.action, claim.last_step.actor) == ("submitted", "sup:sam")


def test_an_empty_draft_or_mixed_currencies_are_not_submitted():
    with pytest.raises(ClaimError, match="no lines"):
        new_claim("VC-2", "acme", T0, "returns").submit(COSTS, "sup:sam", T0)
    claim = draft(UnitCost(D("10"), "USD"))
    rma, inspection = inspected_rma()
    claim.add_line(claim_line(rma, replace(inspection, id="rma-1-I2"), None, COSTS["KETTLE"]), T0, "op-3")
    with pytest.raises(ClaimError, match=r"costed in another currency: lines.1 \(KETTLE: EUR\)"):
        claim.submit(COSTS, "sup:sam", T0)


def test_accepted_means_the_claimed_amount_and_rejected_nothing():
    claim = submitted()
    claim.respond("accepted", None, "clerk:bo", T0)
    assert (claim.status, claim.accepted_amount) == ("accepted", D("25.00"))
    rejected = submitted()
    rejected.respond("rejected", None, "sup:sam", T0, "out of warranty")
    assert (rejected.status, rejected.accepted_amount, rejected.last_step.note) == ("rejected", 0, "out of warranty")
    with pytest.raises(InvalidClaimStep) as wrong:
        submitted().respond("accepted", D("3"), "sup:sam", T0)
    assert [p.field for p in wrong.value.problems] == ["accepted_amount"]


@pytest.mark.parametrize("amount", [None, D(0), D("25.00"), D("30"), D("-1"), D("10.001")])
def test_a_partial_acceptance_is_more_than_nothing_and_less_than_claimed_in_minor_units(amount):
    with pytest.raises(InvalidClaimStep) as refused:
        submitted().respond("partially_accepted", amount, "sup:sam", T0)
    assert [p.field for p in refused.value.problems] == ["accepted_amount"]


def test_a_credit_follows_an_acceptance_and_is_at_most_what_was_accepted():
    claim = submitted()
    claim.respond("partially_accepted", D("20.00"), "sup:sam", T0)
    for amount in (D("20.01"), D(0)):
        with pytest.raises(InvalidClaimStep) as refused:
            claim.credit(amount, "CN-7", "clerk:bo", T0)
        assert [p.field for p in refused.value.problems] == ["amount"]
    claim.credit(D("20.00"), "CN-7", "clerk:bo", T0)
    assert (claim.status, claim.credited_amount, claim.credit_reference) == ("credited", D("20.00"), "CN-7")
    assert [(s.action, s.actor) for s in claim.timeline] == [
        ("opened", "returns"), ("line_added", "op-3"), ("submitted", "sup:sam"), ("partially_accepted", "sup:sam"),
        ("credited", "clerk:bo")]


def test_every_step_out_of_order_is_a_conflict_naming_the_status():
    claim = draft()
    with pytest.raises(ClaimError, match="is draft"):
        claim.respond("accepted", None, "sup:sam", T0)
    with pytest.raises(ClaimError, match="is draft"):
        claim.credit(D(1), "CN", "clerk:bo", T0)
    claim = submitted()
    with pytest.raises(ClaimError, match="is submitted"):
        claim.submit(COSTS, "sup:sam", T0)
    with pytest.raises(ClaimError, match="is submitted"):
        claim.credit(D(1), "CN", "clerk:bo", T0)
    rma, inspection = inspected_rma()
    with pytest.raises(ClaimError, match="is submitted"):
        claim.add_line(claim_line(rma, inspection, None, None), T0, "op-3")
    claim.respond("rejected", None, "sup:sam", T0)
    with pytest.raises(ClaimError, match="is rejected"):
        claim.credit(D(1), "CN", "clerk:bo", T0)
    with pytest.raises(ClaimError, match="is rejected"):
        claim.respond("accepted", None, "sup:sam", T0)
    credited = submitted()
    credited.respond("accepted", None, "sup:sam", T0)
    credited.credit(D("25.00"), "CN-8", "clerk:bo", T0)
    with pytest.raises(ClaimError, match="is credited"):
        credited.credit(D("1.00"), "CN-9", "clerk:bo", T0)


def test_an_unknown_outcome_is_invalid():
    with pytest.raises(InvalidClaimStep) as refused:
        submitted().respond("maybe", None, "sup:sam", T0)
    assert [p.field for p in refused.value.problems] == ["outcome"]


@pytest.mark.parametrize("held, catalog, change", [
    (None, VendorOf("acme", "AC-1"), "assigned"),
    (VendorOf("acme", "AC-1"), VendorOf("acme", "AC-1"), None),
    (VendorOf("acme", "AC-1"), VendorOf("acme", "AC-2"), "assigned"),  # the vendor's own number changed
    (VendorOf("acme"), VendorOf("bolt"), "assigned"),
    (VendorOf("acme"), None, "removed"),
    (None, None, None),
])
def test_what_the_catalogs_vendor_does_to_the_one_held(held, catalog, change):
    assert vendor_change(held, catalog) == change
