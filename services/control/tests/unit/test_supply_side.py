"""The supply side in the read model without I/O (issue 19): carriers' tracking and labels, purchase orders and
backorder promises on the timeline and in the exception inbox, and the parcels promised-versus-actual delivery is
computed from."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from control_service.domain.facts import TABLES, merge
from control_service.domain.inbox import KINDS, CloseItem, kinds_for
from control_service.domain.kpis import KPIS
from control_service.domain.projection import Context, Seen, Thresholds, project
from control_service.service_layer.handlers import handlers
from control_service.settings import ControlSettings
from ecomops_common.contracts import SHIPPING_EVENTS, SHIPPING_TRACKING, SUPPLY_EVENTS
from ecomops_common.contracts.allocation import BackorderPromiseChanged
from ecomops_common.contracts.shipping import LabelPurchased, ReturnLabelIssued, TrackingUpdated
from ecomops_common.contracts.supply import PurchaseOrderChanged

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CONTEXT = Context(Thresholds())


def seen(message, minutes: float = 0) -> Seen:
    return Seen(f"e-{minutes}", "t", type(message).__name__, "test", T0 + timedelta(minutes=minutes), message)


def tracking(status: str, minutes: float = 0, **more) -> TrackingUpdated:
    fields = {"event_id": f"ev-{status}-{minutes}", "tracking_number": "1Z-1", "carrier": "dhl", "service": "ground",
              "status": status, "order_id": "o-1", "parcel_id": "o-1@WH1", "promised_date": date(2026, 11, 22),
              "estimated_delivery": date(2026, 11, 23), "occurred_at": T0 + timedelta(minutes=minutes), **more}
    return TrackingUpdated(**fields)


def label(meets_promise: bool) -> LabelPurchased:
    return LabelPurchased(parcel_id="o-1@WH1", order_id="o-1", node="WH1", carrier="dhl", service="ground",
                          tracking_number="1Z-1", cost=Decimal("5.40"), currency="EUR", ship_date=date(2026, 11, 20),
                          estimated_delivery=date(2026, 11, 23), promised_date=date(2026, 11, 22),
                          meets_promise=meets_promise, purchased_at=T0)


def purchase_order(status: str, minutes: float, by: str = "buyer:bob") -> PurchaseOrderChanged:
    return PurchaseOrderChanged(
        po_id="PO-1", revision=1, vendor_id="acme", node="WH1", status=status, currency="EUR", total=Decimal("120"),
        lines=[{"line_id": "1", "sku": "KETTLE", "quantity": 10, "received": 0, "unit_cost": Decimal("12"),
                "expected_date": date(2026, 12, 1)}], expected_date=date(2026, 12, 1), created_by="buyer:bob",
        reason=status, changed_by=by, changed_at=T0 + timedelta(minutes=minutes))


def test_a_carrier_exception_waits_in_the_inbox_until_the_parcels_next_event():
    opened = project(seen(tracking("exception", 5, description="address unknown")), CONTEXT)
    [item] = opened.opened
    assert (item.item_id, item.kind, item.order_id, item.since) == ("tracking_exception:1Z-1", "tracking_exception",
                                                                    "o-1", T0 + timedelta(minutes=5))
    assert opened.order_id == "o-1" and "exception (address unknown)" in opened.summary
    moving = project(seen(tracking("in_transit", 60)), CONTEXT)
    assert moving.closed == [CloseItem("tracking_exception:1Z-1", T0 + timedelta(minutes=60), "carrier:dhl")]
    assert not moving.rows and not moving.opened


def test_a_delivered_parcel_is_a_row_of_promised_versus_actual_delivery():
    delivered = project(seen(tracking("delivered", 90)), CONTEXT)
    [(table, row)] = delivered.rows
    assert (table, row) == ("control_deliveries", {
        "tracking_number": "1Z-1", "order_id": "o-1", "carrier": "dhl", "service": "ground",
        "promised_date": date(2026, 11, 22), "estimated_delivery": date(2026, 11, 23),
        "delivered_at": T0 + timedelta(minutes=90)})
    # a redelivered or later "delivered" of the same parcel states nothing new: the first stays
    later = {**row, "delivered_at": T0 + timedelta(days=1)}
    assert merge(TABLES["control_deliveries"], row, later)["delivered_at"] == row["delivered_at"]
    returned = project(seen(tracking("delivered", 90, order_id=None, rma_id="RMA-1")), CONTEXT)
    assert not returned.rows and returned.rma_id == "RMA-1"  # a return parcel: on the RMA's timeline only


def test_a_label_that_misses_the_promise_waits_until_its_parcel_is_delivered():
    assert not project(seen(label(meets_promise=True)), CONTEXT).opened
    late = project(seen(label(meets_promise=False)), CONTEXT)
    [item] = late.opened
    assert (item.item_id, item.kind, item.order_id, item.node) == ("late_label:1Z-1", "late_label", "o-1", "WH1")
    assert item.reference == {"order_id": "o-1", "parcel_id": "o-1@WH1", "tracking_number": "1Z-1"}
    assert "misses the promised 2026-11-22" in late.summary and late.order_id == "o-1"
    [ended] = [c for c in project(seen(tracking("delivered", 90)), CONTEXT).closed if c.kind == "late_label"]
    assert ended.may_precede_open  # the label's topic may be read after the tracking's
    on_time = tracking("delivered", 90, estimated_delivery=date(2026, 11, 21))
    assert not [c for c in project(seen(on_time), CONTEXT).closed if c.kind == "late_label"]  # no late label


def test_a_draft_purchase_order_waits_for_a_buyers_approval():
    [item] = project(seen(purchase_order("draft", 0)), CONTEXT).opened
    assert (item.item_id, item.kind, item.node, item.keeps_since) == ("po_approval:PO-1", "po_approval", "WH1", True)
    assert item.reference == {"po_id": "PO-1", "vendor_id": "acme"}
    for status in ("approved", "cancelled"):
        assert project(seen(purchase_order(status, 30, by="buyer:bea")), CONTEXT).closed == [
            CloseItem("po_approval:PO-1", T0 + timedelta(minutes=30), "buyer:bea")]
    assert kinds_for(frozenset({"buyer"})) == ["po_approval"]
    assert [a.name for a in KINDS["po_approval"].actions] == ["approve_purchase_order", "cancel_purchase_order"]


def test_backorder_promises_and_labels_are_on_the_orders_timeline():
    promise = project(seen(BackorderPromiseChanged(
        order_id="o-1", line_id="2", sku="SKU-B", quantity=1, previous_date=date(2026, 11, 28),
        promised_date=date(2026, 12, 2), reason="supply_delayed", changed_at=T0)), CONTEXT)
    assert promise.order_id == "o-1" and promise.summary == (
        "backorder promise of line 2 (1 × SKU-B): 2026-11-28 → 2026-12-02 (supply_delayed)")
    returned = project(seen(ReturnLabelIssued(rma_id="RMA-1", order_id="o-1", carrier="dhl", service="ground",
                                              tracking_number="RT-1", cost=Decimal("4.20"), currency="EUR",
                                              issued_at=T0)), CONTEXT)
    assert (returned.order_id, returned.rma_id) == ("o-1", "RMA-1")


@pytest.mark.parametrize("topic", [SHIPPING_EVENTS, SHIPPING_TRACKING, SUPPLY_EVENTS])
def test_the_new_topics_are_read(topic):
    assert topic in {subscription.topic for subscription in handlers(ControlSettings())}


def test_delivery_performance_is_filtered_by_carrier_service_and_channel():
    assert KPIS["delivery_performance"].filters == ("carrier", "service", "channel")
