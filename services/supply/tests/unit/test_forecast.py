"""The forecast's rules: which method for how much history, parameters chosen by one-step-ahead error, what it
expects and how it explains itself; and that it beats a seasonal-naive forecast on generated history."""

import importlib.util
import random
from datetime import date
from pathlib import Path

import pytest

from supply_service.domain.forecast import (
    ALPHAS,
    BETAS,
    GAMMAS,
    HOLT_WINTERS,
    NO_HISTORY,
    SEASONAL_MIN_DAYS,
    SIMPLE,
    fit,
)

MONDAY = date(2026, 11, 30)  # the last day of history in these tests
WEEK = (10, 10, 10, 10, 20, 30, 5)  # Tuesday ... Monday: the history below ends on a Monday


def weeks(count: int, pattern=WEEK, trend: float = 0.0) -> list[float]:
    return [pattern[day % 7] + trend * day for day in range(7 * count)]


def test_without_history_nothing_is_expected():
    forecast = fit([], MONDAY)
    assert (forecast.method, forecast.total(14), forecast.sigma) == (NO_HISTORY, 0, 0)


def test_less_than_four_weeks_is_smoothed_without_season():
    forecast = fit([4, 6] * 13, MONDAY)
    assert forecast.method == SIMPLE and set(forecast.parameters) == {"alpha"}
    assert forecast.season == () and forecast.trend == 0
    assert 4 <= forecast.daily(1)[0] <= 6
    assert forecast.daily(3) == [forecast.level] * 3


def test_four_weeks_and_more_take_the_weekly_season():
    forecast = fit(weeks(SEASONAL_MIN_DAYS // 7), MONDAY)
    assert forecast.method == HOLT_WINTERS
    assert forecast.parameters["alpha"] in ALPHAS and forecast.parameters["beta"] in BETAS \
        and forecast.parameters["gamma"] in GAMMAS


def test_a_clean_weekly_pattern_is_forecast_exactly():
    forecast = fit(weeks(8), MONDAY)
    assert [round(value, 6) for value in forecast.daily(7)] == list(WEEK)
    assert forecast.sigma == pytest.approx(0, abs=1e-9)


def test_the_season_is_explained_by_weekday():
    explained = fit(weeks(8), MONDAY).explanation()
    by_weekday = explained["season_by_weekday"]
    assert list(by_weekday)[0] == "tuesday"  # the first day after the history
    assert by_weekday["sunday"] - by_weekday["monday"] == pytest.approx(25)
    assert {"method", "parameters", "level", "trend_per_day", "sigma_one_step", "history_days",
            "history_through"} <= set(explained)


def test_a_trend_is_carried_forward():
    forecast = fit(weeks(10, trend=0.5), MONDAY)
    assert forecast.trend == pytest.approx(0.5, abs=0.05)
    assert forecast.total(14) == pytest.approx(sum(WEEK) * 2 + 0.5 * sum(range(70, 84)), rel=0.03)


def test_parameters_are_those_with_the_least_one_step_error():
    rng = random.Random(7)
    noisy = [value + rng.gauss(0, 2) for value in weeks(12)]
    chosen = fit(noisy, MONDAY)
    # A pattern that never changes is best followed by slow smoothing: the noise is not mistaken for change.
    assert chosen.parameters["alpha"] <= 0.2 and chosen.parameters["gamma"] <= 0.15


def test_expected_demand_is_never_negative():
    forecast = fit(weeks(6, trend=-0.8), MONDAY)
    assert forecast.trend < 0 and min(forecast.daily(60)) == 0


def _accuracy_tool():
    path = Path(__file__).parents[4] / "tools" / "forecast_accuracy.py"
    spec = importlib.util.spec_from_file_location("forecast_accuracy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 19, 2026])
def test_beats_seasonal_naive_on_generated_history(seed):
    """Against the true expected net demand (shipped minus sellable returns) of every generated SKU together."""
    tool = _accuracy_tool()
    rng = random.Random(seed)
    forecasts, naive, truth = [], [], []
    for profile in tool.PROFILES:
        net = tool.realised_net(profile, 182 + tool.HORIZON, rng)
        forecasts += fit(net[:182], MONDAY).daily(tool.HORIZON)
        naive += tool.seasonal_naive(net[:182], tool.HORIZON)
        truth += [profile.expected_net(day) for day in range(182, 182 + tool.HORIZON)]
    ours, baseline = tool.errors(forecasts, truth), tool.errors(naive, truth)
    assert ours["wape"] < 0.75 * baseline["wape"] and ours["mae"] < baseline["mae"]
    assert abs(ours["bias"]) < 0.1
