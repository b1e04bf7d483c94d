"""The read model's rules without I/O: what each fact states, and that the order facts arrive in never changes the
rows they make (topics are read independently; a rebuild reads them in another interleaving)."""

import itertools
import random
from datetime import UTC, datetime, timedelta

from control_service.domain.alerts import return_rate_alerts, stockout_alerts
from control_service.domain.facts import TABLES, merge
from control_service.domain.inbox import KINDS, CloseItem, OpenItem, ageing, kinds_for
from control_service.domain.projection import Context, Seen, Thresholds, drift_items, project
from ecomops_common.contracts.allocation import OrderAllocated
from ecomops_common.contracts.orders import OrderPlaced, OrderStatusChanged
from ecomops_common.contracts.returns import ReturnAuthorized
from ecomops_common.contracts.warehouse import OrderFulfilmentChanged, ReturnReceived, ShipmentDispatched
from ecomops_common.testing.samples import order_placed

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CONTEXT = Context(Thresholds(stuck={"awaiting_allocation": timedelta(minutes=30)}))


def seen(message, minutes: float = 0, event_id: str | None = None) -> Seen:
    return Seen(event_id or f"e-{type(message).__name__}-{minutes}", "t", type(message).__name__, "test",
                T0 + timedelta(minutes=minutes), message)


def placed(order_id: str = "o-1", held: bool = True) -> OrderPlaced:
    return OrderPlaced.model_validate(order_placed(order_id, [("1", "SKU-A", 2)], placed_at=T0.isoformat(),
                                                   held=held).payload)


def status(from_status: str, to_status: str, holds=()) -> OrderStatusChanged:
    return OrderStatusChanged(order_id="o-1", channel="web-eu", external_order_id="o-1", from_status=from_status,
                              to_status=to_status, holds=list(holds), actor="supervisor:sam")


def allocated(revision: int, backordered: int) -> OrderAllocated:
    return OrderAllocated(order_id="o-1", channel="web-eu", status="partially_allocated", revision=revision,
                          lines=[{"line_id": "1", "sku": "SKU-A", "node": "WH1", "quantity": 2 - backordered or 1}],
                          backordered=[{"line_id": "1", "sku": "SKU-A", "quantity": backordered}] if backordered
                          else [], reason="placed")


def test_rules_combine_statements_of_one_row():
    orders = TABLES["order_facts"]
    held = {"order_id": "o", "channel": "web", "released_at": T0, "picked": 3, "shipments": 1, "status": "picking",
            "status_at": T0}
    new = {"order_id": "o", "channel": "x", "released_at": T0 - timedelta(hours=1), "picked": 2, "shipments": 1,
           "status": "allocated", "status_at": T0 - timedelta(minutes=5)}
    assert merge(orders, held, new) == {"order_id": "o", "channel": "web", "released_at": T0 - timedelta(hours=1),
                                        "picked": 3, "shipments": 2, "status": "picking", "status_at": T0}
    newer = {"order_id": "o", "status": "packed", "status_at": T0 + timedelta(minutes=1)}
    assert merge(orders, held, newer)["status"] == "packed"


def test_a_placed_order_on_hold_opens_its_hold_item_after_the_grace():
    projection = project(seen(placed()), CONTEXT)
    [hold] = [item for item in projection.opened if item.kind == "order_hold"]
    assert (hold.item_id, hold.since, hold.visible_from) == ("order_hold:o-1:payment_hold", T0,
                                                             T0 + timedelta(minutes=30))
    assert hold.reference == {"order_id": "o-1", "hold": "payment_hold"}
    assert "on hold (payment_hold)" in projection.summary
    [(table, row)] = [(t, r) for t, r in projection.rows if t == "order_facts"]
    assert (row["units"], row["holds"], row["status"]) == (2, "payment_hold", "on_hold")
    released = project(seen(status("on_hold", "awaiting_allocation"), 40), CONTEXT)
    assert CloseItem("order_hold:o-1:payment_hold", T0 + timedelta(minutes=40), "supervisor:sam") in released.closed
    [stuck] = released.opened
    assert (stuck.kind, stuck.visible_from) == ("order_stuck", T0 + timedelta(minutes=70))


def test_a_backorder_is_due_at_the_promise_and_ends_with_stock_or_the_order():
    context = Context(Thresholds(), promised={"o-1": datetime(2026, 11, 25).date()})
    [item] = project(seen(allocated(1, 1), 5), context).opened
    assert item.visible_from.date().isoformat() == "2026-11-25" and item.sku == "SKU-A"
    assert project(seen(allocated(2, 0), 9), context).closed == [CloseItem("backorder:o-1", T0 + timedelta(minutes=9))]
    [ended] = [c for c in project(seen(status("shipped", "delivered"), 99), CONTEXT).closed
               if c.kind == "backorder"]
    assert ended.may_precede_open  # read from another topic than the one opening it


def test_warehouse_progress_counts_each_units_once():
    def progress(picked: int, packed: int, shipped: int) -> OrderFulfilmentChanged:
        return OrderFulfilmentChanged(order_id="o-1", stage="picking", units=2, picked=picked, packed=packed,
                                      shipped=shipped)

    context = Context(Thresholds())
    first = project(seen(progress(2, 0, 0), 1), context)
    context.progress["o-1"] = first.progress
    second = project(seen(progress(2, 2, 0), 2), context)
    work = [row for _, rows in ((first, first.rows), (second, second.rows)) for t, row in rows
            if t == "fulfilment_work"]
    assert [(w["picked"], w["packed"]) for w in work] == [(2, 0), (0, 2)]


def test_any_interleaving_of_the_topics_gives_the_same_rows():
    """Each topic in its own order, the topics interleaved at random: the rows the facts state come out equal."""
    order_topic = [seen(placed(), 0), seen(status("on_hold", "awaiting_allocation"), 40),
                   seen(status("awaiting_allocation", "released_to_warehouse"), 50),
                   seen(status("released_to_warehouse", "shipped"), 120)]
    allocation_topic = [seen(allocated(1, 1), 41), seen(allocated(2, 0), 45)]
    warehouse_topic = [seen(ShipmentDispatched(order_id="o-1", node="WH1", tracking_number="T1", carrier="dhl",
                                               lines=[{"line_id": "1", "sku": "SKU-A", "quantity": 2}],
                                               shipped_at=T0 + timedelta(minutes=120)), 120),
                       seen(ReturnReceived(rma_id="r-1", node="WH1", sku="SKU-A", quantity=1, condition="new",
                                           received_at=T0 + timedelta(days=4)), 4 * 1440)]
    returns_topic = [seen(ReturnAuthorized(rma_id="r-1", order_id="o-1", channel="web-eu", node="WH1",
                                           lines=[{"line_id": "1", "sku": "SKU-A", "quantity": 1}],
                                           authorized_at=T0 + timedelta(days=3)), 3 * 1440)]
    topics = [order_topic, allocation_topic, warehouse_topic, returns_topic]

    def read(interleaving: list[int]) -> dict:
        positions = [0] * len(topics)
        rows: dict[tuple, dict] = {}
        for topic in interleaving:
            fact = topics[topic][positions[topic]]
            positions[topic] += 1
            for table, values in project(fact, CONTEXT).rows:
                key = (table, *(values[c] for c in TABLES[table].key))
                rows[key] = merge(TABLES[table], rows[key], values) if key in rows else dict(values)
        return rows

    schedule = [n for n, topic in enumerate(topics) for _ in topic]
    first = read(schedule)
    shuffle = random.Random(16)
    for _ in range(200):
        shuffle.shuffle(schedule)
        assert read(schedule) == first
    facts = first[("order_facts", "o-1")]
    assert (facts["status"], facts["backordered_units"], facts["first_backordered_units"]) == ("shipped", 0, 1)


def test_drift_opens_after_its_grace_and_closes_when_they_agree():
    opened = drift_items("SKU-A", "WH1", 5, 7, T0, timedelta(minutes=10))
    assert isinstance(opened, OpenItem) and opened.visible_from == T0 + timedelta(minutes=10)
    assert isinstance(drift_items("SKU-A", "WH1", 7, 7, T0, timedelta(minutes=10)), CloseItem)
    assert isinstance(drift_items("SKU-A", "WH1", None, 7, T0, timedelta(minutes=10)), CloseItem)


def test_who_sees_which_queues_and_how_old_an_item_is():
    assert kinds_for(frozenset({"supervisor"})) == list(KINDS)
    assert kinds_for(frozenset({"inspector"})) == ["return_inspection_overdue"]
    assert set(kinds_for(frozenset({"finance-clerk", "refund-approver"}))) == {"refund_failed", "refund_approval"}
    assert kinds_for(frozenset({"device"})) == []
    item = ageing(T0, T0 + timedelta(minutes=30), timedelta(hours=4), T0 + timedelta(hours=5))
    assert item == {"age_s": 5 * 3600, "due_at": T0 + timedelta(hours=4, minutes=30), "breached": True}
    # decided in the owning services' own pages and APIs; their facts close the items
    decided_elsewhere = {"qa_decision", "write_off", "vendor_claim"}
    assert all(kind.actions for kind in KINDS.values() if kind.name not in decided_elsewhere)
    assert all(not KINDS[name].actions for name in decided_elsewhere)


def test_business_alerts():
    rows = [{"sku": "A", "returned_units": 4, "shipped_units": 10}, {"sku": "A", "returned_units": 1,
                                                                      "shipped_units": 5},
            {"sku": "B", "returned_units": 9, "shipped_units": 9}, {"sku": "C", "returned_units": 1,
                                                                     "shipped_units": 20}]
    [spike] = return_rate_alerts(rows, "sku", threshold=0.3, min_units=10)
    assert (spike.alert_id, spike.value) == ("return_rate_spike:sku:A", 0.3333)  # B shipped too few to judge
    [stockout] = stockout_alerts([{"sku": "A", "atp": 3, "per_day": 2.0, "days_of_cover": 1.5}], 3)
    assert stockout.alert_id == "stockout_risk:A" and "1.5 days" in stockout.message
    assert list(itertools.chain(return_rate_alerts([], "reason", 0.3, 10))) == []
