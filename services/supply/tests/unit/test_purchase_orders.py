"""The purchase order's rules: creation, four-eyes approval above the threshold, sending, cancelling, advance ship
notices within what is open, receipts closing lines with their discrepancies, closing short; a revision per
change with who made it."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ecomops_common.errors import Forbidden
from supply_service.domain.purchase_orders import (
    APPROVED,
    CANCELLED,
    CLOSED,
    DRAFT,
    FOUR_EYES,
    PARTIALLY_RECEIVED,
    SENT,
    AnnouncedUnits,
    InvalidPurchaseOrder,
    PoLine,
    PurchaseOrderConflict,
    new_purchase_order,
)

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
TODAY = AT.date()
DUE = date(2026, 12, 15)
THRESHOLD = Decimal(1000)


def line(line_id: str, sku: str, quantity: int, cost: str = "10.00") -> PoLine:
    return PoLine(line_id, sku, None, quantity, Decimal(cost), DUE)


def order(*lines: PoLine, by: str = "bob.buyer"):
    return new_purchase_order("PO-1", "acme", "BER1", "EUR", DUE, list(lines) or [line("1", "MUG", 10),
                                                                                  line("2", "TEE", 20)],
                              by, AT, TODAY)


def sent(*lines: PoLine):
    po = order(*lines)
    po.approve("bea.buyer", THRESHOLD, AT)
    po.send("bea.buyer", AT)
    return po


def problems(refusal) -> dict[str, str]:
    return {problem.field: problem.message for problem in refusal.value.problems}


def test_a_new_order_is_a_draft_at_revision_one_with_its_total():
    po = order()
    assert (po.status, po.revision, po.total, po.created_by) == (DRAFT, 1, Decimal("300.00"), "bob.buyer")
    assert [(step.reason, step.actor) for step in po.timeline] == [("created", "bob.buyer")]


def test_creation_refuses_repeated_lines_and_dates_in_the_past():
    with pytest.raises(InvalidPurchaseOrder) as refused:
        new_purchase_order("PO-1", "acme", "BER1", "EUR", date(2026, 11, 1),
                           [line("1", "MUG", 1), line("1", "TEE", 1), line("3", "MUG", 1),
                            PoLine("4", "CUP", None, 1, Decimal(1), date(2026, 11, 30))], "bob", AT, TODAY)
    assert set(problems(refused)) == {"expected_date", "lines.1.line_id", "lines.2.sku", "lines.3.expected_date"}


def test_creation_refuses_a_total_no_money_field_carries():
    with pytest.raises(InvalidPurchaseOrder) as refused:
        order(line("1", "GOLD", 1_000_000, "9999999999999"))
    assert set(problems(refused)) == {"lines"}


def test_above_the_threshold_the_creator_cannot_approve():
    po = order(line("1", "TV", 3, "400.00"))
    with pytest.raises(Forbidden) as refused:
        po.approve("bob.buyer", THRESHOLD, AT)
    assert refused.value.reason == FOUR_EYES and "other than its creator bob.buyer" in refused.value.message
    assert (po.status, po.revision) == (DRAFT, 1)
    po.approve("bea.buyer", THRESHOLD, AT)
    assert (po.status, po.approved_by, po.revision) == (APPROVED, "bea.buyer", 2)


def test_up_to_the_threshold_the_creator_may_approve():
    po = order(line("1", "TV", 2, "500.00"))  # exactly the threshold
    po.approve("bob.buyer", THRESHOLD, AT)
    assert po.approved_by == "bob.buyer"


def test_steps_follow_the_lifecycle():
    po = order()
    with pytest.raises(PurchaseOrderConflict, match="is draft"):
        po.send("bob.buyer", AT)
    with pytest.raises(PurchaseOrderConflict):
        po.close_short("bob.buyer", AT)
    po.approve("bob.buyer", THRESHOLD, AT)
    with pytest.raises(PurchaseOrderConflict, match="is approved"):
        po.approve("bea.buyer", THRESHOLD, AT)
    po.send("bob.buyer", AT)
    assert (po.status, po.revision) == (SENT, 3)
    assert [step.reason for step in po.timeline] == ["created", "approved", "sent"]


def test_cancelled_before_anything_is_announced_only():
    draft = order()
    draft.cancel("bob.buyer", AT, "not needed")
    assert (draft.status, draft.last_step.note) == (CANCELLED, "not needed")
    assert draft.on_order(draft.lines[0]) == 0
    announced = sent()
    announced.issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 5)], "bob.buyer", AT)
    with pytest.raises(PurchaseOrderConflict, match="close it short"):
        announced.cancel("bob.buyer", AT)


def test_a_notice_is_for_a_sent_order():
    with pytest.raises(PurchaseOrderConflict, match="for a sent order"):
        order().issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 1)], "bob.buyer", AT)


def test_a_notice_announces_no_more_than_is_open_on_each_line():
    po = sent()
    po.issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 6)], "bob.buyer", AT)
    with pytest.raises(InvalidPurchaseOrder) as refused:
        po.issue_asn("ASN-2", DUE, [AnnouncedUnits("2", 20), AnnouncedUnits("1", 5), AnnouncedUnits("9", 1),
                                    AnnouncedUnits("2", 1)], "bob.buyer", AT)
    assert problems(refused) == {"lines.1.quantity": "at most 4 units of line 1 (MUG) are open",
                                 "lines.2.po_line_id": "purchase order PO-1 has no line '9'",
                                 "lines.3.po_line_id": "line 2 is on the notice twice"}
    assert [asn.asn_id for asn in po.asns] == ["ASN-1"]


def test_a_notice_sets_its_lines_expected_date():
    po = sent()
    arrives = date(2026, 12, 20)
    asn = po.issue_asn("ASN-1", arrives, [AnnouncedUnits("2", 20, lot="L7", expiry=date(2027, 6, 1))],
                       "bob.buyer", AT)
    assert [(each.line_id, each.expected_date) for each in po.lines] == [("1", DUE), ("2", arrives)]
    assert (asn.lines[0].sku, asn.lines[0].lot, po.in_transit("2")) == ("TEE", "L7", 20)
    assert (po.last_step.reason, po.revision) == ("asn", 4)


def test_receipts_close_lines_and_then_the_order():
    po = sent()
    po.issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 10), AnnouncedUnits("2", 20)], "bob.buyer", AT)
    assert po.receive("ASN-1", "MUG", 12, "op-1", AT)  # two over
    assert (po.status, po.lines[0].discrepancy, po.in_transit("1")) == (PARTIALLY_RECEIVED, 2, 0)
    assert po.on_order(po.lines[1]) == 20
    assert po.receive("ASN-1", "TEE", 20, "op-2", AT)
    assert (po.status, [each.discrepancy for each in po.lines]) == (CLOSED, [2, 0])
    assert [(s.reason, s.actor) for s in po.timeline[-2:]] == [("received", "op-1"), ("received", "op-2")]
    assert po.on_order(po.lines[0]) == 0


def test_a_receipt_of_a_sku_the_order_does_not_list_changes_nothing():
    po = sent()
    revision = po.revision
    assert not po.receive("ASN-1", "LAMP", 3, "op-1", AT)
    assert po.revision == revision


def test_closing_short_keeps_each_lines_discrepancy():
    po = sent()
    po.issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 10)], "bob.buyer", AT)
    po.receive("ASN-1", "MUG", 7, "op-1", AT)
    po.close_short("bea.buyer", AT, "vendor out of stock")
    assert (po.status, [each.discrepancy for each in po.lines]) == (CLOSED, [-3, -20])
    assert po.last_step.reason == "closed_short"
    with pytest.raises(PurchaseOrderConflict):
        po.issue_asn("ASN-2", DUE, [AnnouncedUnits("2", 1)], "bob.buyer", AT)


def test_units_arriving_after_closing_still_count():
    po = sent()
    po.issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 10)], "bob.buyer", AT)
    po.close_short("bea.buyer", AT)
    assert po.receive("ASN-1", "MUG", 10, "op-1", AT)
    assert (po.status, po.lines[0].discrepancy, po.last_step.reason) == (CLOSED, 0, "received_after_close")


def test_every_change_is_a_new_revision():
    po = sent()
    po.issue_asn("ASN-1", DUE, [AnnouncedUnits("1", 10)], "bob.buyer", AT)
    po.receive("ASN-1", "MUG", 4, "op-1", AT)
    po.receive("ASN-1", "MUG", 6, "op-1", AT)
    assert po.revision == len(po.timeline) == 6
