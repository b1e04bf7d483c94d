from datetime import date, timedelta

from allocation_service.domain.priority import fill_backorders, priority_key
from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.sourcing import Allocation, Backorder, DemandLine
from allocation_service.domain.stock import StockPosition


def ranked(demands):
    return [demand.order_id for demand in sorted(demands, key=priority_key)]


def test_earliest_promise_first_and_unpromised_orders_last(make_demand):
    demands = [make_demand(order_id="none"),
               make_demand(order_id="later", promised_date=date(2026, 11, 25)),
               make_demand(order_id="sooner", promised_date=date(2026, 11, 22))]
    assert ranked(demands) == ["sooner", "later", "none"]


def test_express_before_standard_before_vip_before_age(make_demand, t0):
    demands = [make_demand(order_id="old-standard", placed_at=t0 - timedelta(days=1)),
               make_demand(order_id="vip", customer_tier="vip"),
               make_demand(order_id="express", service_level="express", placed_at=t0 + timedelta(hours=1)),
               make_demand(order_id="express-vip", service_level="express", customer_tier="vip",
                           placed_at=t0 + timedelta(hours=2))]
    assert ranked(demands) == ["express-vip", "express", "vip", "old-standard"]


def test_a_promise_date_outranks_express(make_demand):
    demands = [make_demand(order_id="express", service_level="express"),
               make_demand(order_id="promised", promised_date=date(2026, 12, 1))]
    assert ranked(demands) == ["promised", "express"]


def test_oldest_first_then_order_id(make_demand, t0):
    demands = [make_demand(order_id="b"), make_demand(order_id="new", placed_at=t0 + timedelta(minutes=1)),
               make_demand(order_id="a")]
    assert ranked(demands) == ["a", "b", "new"]


def test_arriving_stock_goes_to_the_most_urgent_order_first(make_demand, t0, stock):
    positions = stock(StockPosition("A", "WH1", on_hand=3))
    standard = make_demand(order_id="standard", lines=[("1", "A", 2)], placed_at=t0 - timedelta(days=2))
    express = make_demand(order_id="express", lines=[("1", "A", 2)], service_level="express")
    plans = fill_backorders([(standard, standard.lines), (express, express.lines)], positions, {})
    assert [plan.order_id for plan in plans] == ["express", "standard"]
    assert plans[0].allocations == (Allocation("1", "A", "WH1", 2),)
    assert plans[1].allocations == (Allocation("1", "A", "WH1", 1),)
    assert plans[1].backordered == (Backorder("1", "A", 1),)
    # The caller's positions are untouched; it applies the plans under lock.
    assert positions["A", "WH1"].reserved == 0


def test_only_the_open_lines_are_planned_under_each_channels_rules(make_demand, t0, stock):
    positions = stock(StockPosition("A", "WH1", on_hand=5), StockPosition("B", "WH1", on_hand=5))
    web = make_demand(order_id="web", lines=[("1", "A", 9), ("2", "B", 1)])
    marketplace = make_demand(order_id="mkt", channel="marketplace", lines=[("1", "B", 4)],
                              placed_at=t0 - timedelta(days=1))
    rules = {"marketplace": SourcingRules(protected_quantity=2, short_stock="backorder")}
    plans = fill_backorders([(web, [DemandLine("2", "B", 1)]), (marketplace, marketplace.lines), (web, [])],
                            positions, rules)
    # The marketplace order is older but may only take B above 2 units: 3 < 4, so it waits whole.
    assert [(plan.order_id, plan.outcome) for plan in plans] == [("mkt", "backordered"), ("web", "allocated")]
    assert plans[1].allocations == (Allocation("2", "B", "WH1", 1),)
