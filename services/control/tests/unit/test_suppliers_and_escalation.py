"""Supplier KPIs, vendor claims and the supervisor queues' SLA escalation without I/O (issue 18)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from control_service.domain.facts import TABLES, merge
from control_service.domain.inbox import ESCALATING, KINDS, escalation
from control_service.domain.projection import Context, Seen, Thresholds, project
from control_service.domain.vendors import Claim, claim_wait, vendor_kpis
from control_service.settings import ControlSettings
from ecomops_common.contracts.finance import StoreCreditChanged, UnitCostChanged
from ecomops_common.contracts.returns import SkuVendorAssigned, VendorClaimChanged
from ecomops_common.contracts.warehouse import GradedVariantDefined, RecoveryStockMoved, WarehouseExceptionChanged

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SLAS = {"refund_approval": DAY, "qa_decision": 2 * DAY, "write_off": DAY, "vendor_claim": 7 * DAY}


def seen(message, minutes: float = 0) -> Seen:
    return Seen(f"e-{minutes}", "t", type(message).__name__, "test", T0 + timedelta(minutes=minutes), message)


def claim(status: str, units: int, currency: str | None = "EUR", claimed: str = "0", accepted: str | None = None,
          credited: str | None = None, vendor: str = "V1") -> Claim:
    return Claim(vendor, status, currency, units, Decimal(claimed), accepted and Decimal(accepted),
                 credited and Decimal(credited))


def test_defect_rate_is_defective_units_over_units_shipped_and_recovery_rate_credited_over_claimed():
    claims = [claim("draft", 3, None), claim("draft", 2, "EUR", "30.00"), claim("draft", 0, None),
              claim("submitted", 1, claimed="100.00"), claim("accepted", 2, claimed="100.00", accepted="80.00"),
              claim("credited", 1, claimed="50.00", accepted="50.00", credited="40.00"),
              claim("rejected", 1, claimed="20.00")]
    [row] = vendor_kpis({"V1": 200}, claims)
    assert (row.vendor_id, row.units_shipped, row.defective_units, row.defect_rate) == ("V1", 200, 10, 0.05)
    # drafts are not claimed yet, whatever amount they carry; each claim once, at its latest state
    assert (row.currency, row.claimed, row.accepted, row.credited) == ("EUR", Decimal("270.00"), Decimal("130.00"),
                                                                       Decimal("40.00"))
    assert row.recovery_rate == round(40 / 270, 4)
    assert row.open_claims == 4  # the drafts with lines, the submitted and the accepted claim


def test_rates_are_null_without_a_base():
    rows = {row.vendor_id: row for row in vendor_kpis({"V1": 0, "V2": 10}, [claim("draft", 2, None, vendor="V1")])}
    assert rows["V1"].defect_rate is None and rows["V1"].defective_units == 2  # nothing shipped of its SKUs
    assert (rows["V2"].defect_rate, rows["V2"].currency, rows["V2"].claimed, rows["V2"].recovery_rate) == (
        0.0, None, Decimal("0.00"), None)
    # a vendor only heard of through a claim has shipped nothing
    [only] = vendor_kpis({}, [claim("submitted", 1, claimed="5", vendor="V9")])
    assert (only.units_shipped, only.defect_rate, only.recovery_rate) == (0, None, 0.0)


def test_one_row_per_currency_with_the_vendors_units_on_each():
    rows = vendor_kpis({"V1": 10}, [claim("credited", 1, "EUR", "10", "10", "10"),
                                    claim("submitted", 1, "USD", "20"), claim("draft", 1, None)])
    assert [(r.currency, r.claimed, r.credited, r.recovery_rate, r.defective_units, r.open_claims) for r in rows] == [
        ("EUR", Decimal("10.00"), Decimal("10.00"), 1.0, 3, 2), ("USD", Decimal("20.00"), Decimal("0.00"), 0.0, 3, 2)]


@pytest.mark.parametrize(("status", "units", "waits"), [
    ("draft", 2, "draft"), ("draft", 0, None), ("submitted", 1, "submitted"), ("accepted", 1, "submitted"),
    ("partially_accepted", 1, "submitted"), ("rejected", 1, None), ("credited", 1, None)])
def test_what_a_claim_waits_for(status, units, waits):
    assert claim_wait(status, units) == waits


def test_an_item_escalates_once_older_than_its_queues_age():
    at_age = escalation("refund_approval", T0, None, T0 + DAY, SLAS)
    assert (at_age.escalated, at_age.escalated_at, at_age.sla_seconds, at_age.age_seconds) == (False, None, 86400,
                                                                                                 86400)
    past = escalation("refund_approval", T0, None, T0 + DAY + timedelta(seconds=1), SLAS)
    assert (past.escalated, past.escalated_at) == (True, T0 + DAY)  # the moment it passed, not when it was seen


def test_each_queue_has_its_own_age():
    later = T0 + timedelta(days=1, hours=12)
    assert {queue: escalation(queue, T0, None, later, SLAS).escalated for queue in ESCALATING} == {
        "refund_approval": True, "qa_decision": False, "write_off": True, "vendor_claim": False}
    other = escalation("order_hold", T0, None, T0 + 30 * DAY, SLAS)  # not a supervisor queue: never escalates
    assert (other.escalated, other.sla_seconds) == (False, None)
    immediate = escalation("write_off", T0, None, T0 + timedelta(microseconds=1), {"write_off": timedelta(0)})
    assert immediate.escalated


def test_a_recorded_escalation_stays_whatever_the_ages_become():
    recorded = T0 + DAY
    longer = escalation("write_off", T0, recorded, T0 + DAY, {"write_off": 10 * DAY})
    assert (longer.escalated, longer.escalated_at, longer.sla_seconds) == (True, recorded, 10 * 86400)


def test_escalation_ages_are_configurable_and_never_negative(monkeypatch):
    assert ControlSettings().escalation_slas() == {name: KINDS[name].sla for name in ESCALATING}
    assert ControlSettings().escalation_slas() == SLAS
    monkeypatch.setenv("CONTROL_SLA_QA_DECISION_S", "60")
    assert ControlSettings().escalation_slas()["qa_decision"] == timedelta(minutes=1)
    monkeypatch.setenv("CONTROL_SLA_WRITE_OFF_S", "-1")
    with pytest.raises(ValidationError, match="sla_write_off_s"):
        ControlSettings()


def claim_changed(status: str, *, units: tuple[int, ...] = (1,), minutes: float = 0, **amounts) -> VendorClaimChanged:
    lines = [{"rma_id": f"r-{n}", "sku": "SKU-A", "quantity": q, "grade": "D", "reason": "defective",
              "unit_cost": "10.00"} for n, q in enumerate(units)]
    return VendorClaimChanged(claim_id="vc-1", vendor_id="V1", status=status, currency="EUR",
                              claimed_amount=amounts.pop("claimed", "10.00"), lines=lines, actor="sam",
                              at=T0 + timedelta(minutes=minutes), **amounts)


def items(projection) -> tuple[list[str], list[str]]:
    return [i.item_id for i in projection.opened], [i.item_id for i in projection.closed]


def test_a_vendor_claim_states_its_latest_snapshot_and_waits_in_the_inbox():
    context = Context(Thresholds())
    draft = project(seen(claim_changed("draft", units=(2, 1))), context)
    assert draft.rows == [("supplier_claims", {
        "claim_id": "vc-1", "vendor_id": "V1", "status": "draft", "currency": "EUR",
        "claimed_amount": Decimal("10.00"), "accepted_amount": None, "credited_amount": None, "defective_units": 3,
        "at": T0})]
    assert items(draft) == (["vendor_claim:vc-1:draft"], ["vendor_claim:vc-1:submitted"])
    assert draft.opened[0].keeps_since and draft.opened[0].kind == "vendor_claim"
    assert items(project(seen(claim_changed("draft", units=())), context)) == (
        [], ["vendor_claim:vc-1:draft", "vendor_claim:vc-1:submitted"])
    assert items(project(seen(claim_changed("accepted", accepted_amount="8")), context)) == (
        ["vendor_claim:vc-1:submitted"], ["vendor_claim:vc-1:draft"])
    assert items(project(seen(claim_changed("credited", credited_amount="8")), context))[0] == []
    # an older snapshot read late never replaces a newer one
    claims = TABLES["supplier_claims"]
    newer = {"claim_id": "vc-1", "status": "credited", "credited_amount": Decimal(8), "at": T0 + DAY}
    older = {"claim_id": "vc-1", "status": "submitted", "credited_amount": None, "at": T0}
    assert merge(claims, newer, older) == newer and merge(claims, older, newer) == newer


def test_sku_vendors_and_the_recovery_queues():
    context = Context(Thresholds())
    assigned = project(seen(SkuVendorAssigned(sku="SKU-A", vendor_id="V1", assigned_by="sam", at=T0)), context)
    assert assigned.rows == [("supplier_skus", {"sku": "SKU-A", "vendor_id": "V1", "assigned_at": T0})]
    exception = {"exception_id": "qa-1", "node": "WH1", "sku": "SKU-A", "quantity": 2, "reason": "hazardous",
                 "actor": "ian", "at": T0}
    for kind, decided in (("qa_decision", "resolved"), ("write_off", "approved"), ("write_off", "rejected")):
        opened = project(seen(WarehouseExceptionChanged(kind=kind, status="open", **exception)), context)
        assert [(i.item_id, i.kind) for i in opened.opened] == [(f"{kind}:qa-1", kind)]
        assert opened.rows == []  # supervised recovery decisions are not warehouse exceptions of fulfilment
        closed = project(seen(WarehouseExceptionChanged(kind=kind, status=decided, **{**exception, "actor": "sue"})),
                         context)
        assert [(c.item_id, c.by) for c in closed.closed] == [(f"{kind}:qa-1", "sue")]


def test_recovery_moves_variants_costs_and_store_credit_are_on_the_log():
    context = Context(Thresholds())
    moved = project(seen(RecoveryStockMoved(
        action_id="a-1", action="qa_released", node="WH1", sku="SKU-A", quantity=2, from_status="quarantine",
        to_status="sellable", requested_by="ian", decided_by="sue", at=T0)), context)
    assert moved.summary == "2 × SKU-A at WH1: qa_released from quarantine to sellable, decided by sue"
    variant = project(seen(GradedVariantDefined(variant_sku="SKU-A-B", base_sku="SKU-A", grade="B",
                                                list_price="8.00", currency="EUR", channels=[], defined_by="sam",
                                                at=T0)), context)
    assert "grade B variant of SKU-A" in variant.summary
    cost = project(seen(UnitCostChanged(sku="SKU-A", amount="4.00", currency="EUR", at=T0)), context)
    assert cost.summary == "unit cost of SKU-A: 4.00 EUR" and cost.rows == []
    credit = project(seen(StoreCreditChanged(movement_id="m-1", customer_id="c-1", kind="issued", amount="5.00",
                                             currency="EUR", balance="5.00", order_id="o-1", rma_id="r-1", at=T0)),
                     context)
    assert (credit.order_id, credit.rma_id) == ("o-1", "r-1")  # on the order's timeline
    assert credit.summary.startswith("store credit issued: 5.00 EUR")
