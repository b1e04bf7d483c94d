"""Daily demand forecasts per SKU×node, explainable: Holt-Winters additive with weekly seasonality when the history
holds at least four weeks, else simple exponential smoothing; the smoothing parameters are the ones whose
one-step-ahead forecasts erred least (squared error) over the history itself. Plain Python: no I/O, no numpy."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import product
from math import sqrt

PERIOD = 7  # days: a week
SEASONAL_MIN_DAYS = 4 * PERIOD  # enough weeks to start the seasonal state and still judge its parameters
HOLT_WINTERS = "holt_winters_additive"
SIMPLE = "simple_exponential_smoothing"
NO_HISTORY = "no_history"
# Grids the parameters are chosen from: small enough to fit a SKU×node's half year in milliseconds.
ALPHAS = (0.05, 0.1, 0.2, 0.35, 0.6)
BETAS = (0.0, 0.02, 0.05, 0.15)
GAMMAS = (0.05, 0.15, 0.3)
SIMPLE_ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Forecast:
    """The state after the last day of history, and what it expects of the days after it."""

    method: str
    parameters: dict[str, float]
    level: float
    trend: float
    season: tuple[float, ...]  # additive: season[i] for the (i+1)-th day after `last_day`, repeating weekly
    sigma: float  # root mean square of the one-step-ahead errors: the uncertainty of one day's demand
    history_days: int
    last_day: date
    errors_judged: int = 0  # one-step-ahead forecasts the parameters were judged by

    def daily(self, days: int) -> list[float]:
        """Expected demand of each of the next `days` days; never below zero."""
        season = self.season or (0.0,)
        return [max(0.0, self.level + h * self.trend + season[(h - 1) % len(season)]) for h in range(1, days + 1)]

    def total(self, days: int) -> float:
        return sum(self.daily(days))

    def explanation(self) -> dict[str, object]:
        """What a buyer reads beside a suggestion: the method, its parameters and state, by weekday."""
        by_weekday = {WEEKDAYS[(self.last_day + timedelta(days=i + 1)).weekday()]: round(value, 3)
                      for i, value in enumerate(self.season)} if self.method == HOLT_WINTERS else {}
        return {"method": self.method, "parameters": self.parameters, "level": round(self.level, 3),
                "trend_per_day": round(self.trend, 4), "season_by_weekday": by_weekday,
                "sigma_one_step": round(self.sigma, 3), "history_days": self.history_days,
                "history_through": self.last_day.isoformat(), "errors_judged": self.errors_judged}


def fit(history: Sequence[float], last_day: date) -> Forecast:
    """The forecast of a daily series ending on `last_day` (oldest first, one value per day, gaps as 0)."""
    values = [float(value) for value in history]
    if not values:
        return Forecast(NO_HISTORY, {}, 0.0, 0.0, (), 0.0, 0, last_day)
    if len(values) >= SEASONAL_MIN_DAYS:
        return _best_holt_winters(values, last_day)
    return _best_simple(values, last_day)


def _best_simple(values: list[float], last_day: date) -> Forecast:
    best = None
    for alpha in SIMPLE_ALPHAS:
        level, squared, judged = values[0], 0.0, 0
        for value in values[1:]:
            squared += (value - level) ** 2
            judged += 1
            level += alpha * (value - level)
        if best is None or squared < best[0]:
            best = (squared, alpha, level, judged)
    squared, alpha, level, judged = best
    return Forecast(SIMPLE, {"alpha": alpha}, level, 0.0, (), _rms(squared, judged), len(values), last_day, judged)


def _initial_state(values: list[float]) -> tuple[float, float, list[float]]:
    """Level and trend from a line through the first four weekly means, the season from the days' deviations
    from that line: the state before the first day."""
    weeks = [sum(values[w * PERIOD:(w + 1) * PERIOD]) / PERIOD for w in range(4)]
    slope_per_week = sum((w - 1.5) * (mean - sum(weeks) / 4) for w, mean in enumerate(weeks)) / 5.0
    trend = slope_per_week / PERIOD
    centre = sum(weeks) / 4  # the line's value mid-way through the four weeks (day 13.5)
    on_line = [centre + (day - 13.5) * trend for day in range(4 * PERIOD)]
    season = [sum(values[w * PERIOD + i] - on_line[w * PERIOD + i] for w in range(4)) / 4 for i in range(PERIOD)]
    mean_season = sum(season) / PERIOD
    return centre - 14.5 * trend, trend, [s - mean_season for s in season]


def _best_holt_winters(values: list[float], last_day: date) -> Forecast:
    start_level, start_trend, start_season = _initial_state(values)
    judged_from = 2 * PERIOD  # the first two weeks mostly echo the initial state
    best = None
    for alpha, beta, gamma in product(ALPHAS, BETAS, GAMMAS):
        level, trend, season, squared = start_level, start_trend, list(start_season), 0.0
        for t, value in enumerate(values):
            i = t % PERIOD
            error = value - (level + trend + season[i])
            if t >= judged_from:
                squared += error * error
            previous = level
            level = alpha * (value - season[i]) + (1 - alpha) * (level + trend)
            trend = beta * (level - previous) + (1 - beta) * trend
            season[i] = gamma * (value - level) + (1 - gamma) * season[i]
            if best is not None and squared >= best[0]:
                break  # already worse than the best: the rest cannot help it
        else:
            best = (squared, (alpha, beta, gamma), level, trend, season)
    squared, (alpha, beta, gamma), level, trend, season = best
    n, judged = len(values), len(values) - judged_from
    ahead = tuple(season[(n + h) % PERIOD] for h in range(PERIOD))  # the days after the last one, in order
    return Forecast(HOLT_WINTERS, {"alpha": alpha, "beta": beta, "gamma": gamma}, level, trend, ahead,
                    _rms(squared, judged), n, last_day, judged)


def _rms(squared: float, count: int) -> float:
    return sqrt(squared / count) if count else 0.0
