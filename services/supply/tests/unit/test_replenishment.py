"""The replenishment rules: reorder point and order-up-to level from lead time, review period and service level;
the position; quantities in case packs and at least the minimum; what is not replenished; the demand series."""

from datetime import date, timedelta
from statistics import NormalDist

import pytest

from supply_service.domain.forecast import Forecast
from supply_service.domain.replenishment import (
    OrderRules,
    Position,
    ServiceTargets,
    forecast_of,
    net_demand_series,
    order_quantity,
    suggest,
)

TODAY = date(2026, 12, 1)
TARGETS = ServiceTargets(service_level=0.95, review_period_days=7, default_lead_time_days=14)


def flat(per_day: float, sigma: float) -> Forecast:
    """Demand of `per_day` every day, one day's uncertainty `sigma`."""
    return Forecast("simple_exponential_smoothing", {"alpha": 0.1}, per_day, 0.0, (), sigma, 60, TODAY)


def test_z_comes_from_the_service_level():
    assert TARGETS.z == pytest.approx(NormalDist().inv_cdf(0.95)) == pytest.approx(1.6449, abs=1e-4)
    assert ServiceTargets(0.5001, 7, 14).z == pytest.approx(0, abs=1e-3)


def test_reorder_point_and_order_up_to_cover_lead_time_and_review_with_safety_stock():
    z, sigma = TARGETS.z, 3.0
    suggestion = suggest(flat(10, sigma), Position(0, 0, 0), OrderRules(lead_time_days=9), TARGETS)
    assert suggestion.reorder_point == int(-(-(90 + z * sigma * 3) // 1))  # 10·9 + z·σ·√9, rounded up
    assert suggestion.order_up_to == int(-(-(160 + z * sigma * 4) // 1))  # 10·16 + z·σ·√16
    explained = suggestion.explanation
    assert (explained["lead_time_days"], explained["lead_time_from"], explained["review_period_days"]) == \
        (9, "catalog", 7)
    assert explained["safety_stock"] == pytest.approx(z * sigma * 3, abs=0.01)


def test_without_a_lead_time_in_the_catalog_the_default_applies():
    suggestion = suggest(flat(1, 0), Position(0, 0, 0), OrderRules(lead_time_days=None), TARGETS)
    assert (suggestion.reorder_point, suggestion.order_up_to) == (14, 21)
    assert suggestion.explanation["lead_time_from"] == "default"


def test_the_position_is_on_hand_minus_reserved_plus_on_order():
    assert Position(on_hand=50, reserved=20, on_order=15).units == 45
    rules = OrderRules(lead_time_days=5)
    assert suggest(flat(10, 0), Position(50, 20, 15), rules, TARGETS).quantity == 120 - 45
    assert suggest(flat(10, 0), Position(100, 40, 0), rules, TARGETS).quantity == 0  # 60 > reorder point 50


def test_ordered_when_the_position_is_at_the_reorder_point():
    rules = OrderRules(lead_time_days=5)
    assert suggest(flat(10, 0), Position(50, 0, 0), rules, TARGETS).quantity == 70
    assert suggest(flat(10, 0), Position(51, 0, 0), rules, TARGETS).quantity == 0


def test_quantities_are_whole_case_packs_and_at_least_the_minimum():
    assert order_quantity(7, OrderRules(None, min_order_quantity=1, case_pack=6)) == 12
    assert order_quantity(7, OrderRules(None, min_order_quantity=20, case_pack=1)) == 20
    assert order_quantity(7, OrderRules(None, min_order_quantity=20, case_pack=6)) == 24
    assert order_quantity(0, OrderRules(None, min_order_quantity=20, case_pack=6)) == 0


def test_discontinued_and_bundles_are_not_replenished():
    suggestion = suggest(flat(10, 1), Position(0, 0, 0), OrderRules(5, replenished=False), TARGETS)
    assert suggestion.quantity == 0 and "not replenished" in suggestion.explanation["why"]


def test_every_suggestion_says_why():
    due = suggest(flat(10, 0), Position(0, 0, 0), OrderRules(5, 1, 10), TARGETS)
    assert due.quantity == 120 and "reorder point 50" in due.explanation["why"]
    assert "above the reorder point" in suggest(flat(10, 0), Position(99, 0, 0), OrderRules(5), TARGETS) \
        .explanation["why"]


def test_days_without_demand_count_as_zero():
    days = {TODAY - timedelta(days=3): 5, TODAY - timedelta(days=1): -2}
    assert net_demand_series(days, TODAY - timedelta(days=3), TODAY) == [5, 0, -2, 0]


def test_the_forecast_starts_at_the_first_recorded_day_within_the_window():
    days = {TODAY - timedelta(days=400): 99, TODAY - timedelta(days=9): 4, TODAY: 4}
    forecast = forecast_of(days, TODAY, history_days=182)
    assert forecast.history_days == 10 and forecast.method == "simple_exponential_smoothing"
    assert forecast_of({}, TODAY, 182).method == "no_history"
