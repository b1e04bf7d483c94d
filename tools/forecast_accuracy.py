"""How well the supply service's forecast (supply_service.domain.forecast) predicts net demand, on generated
history whose truth is known: several SKUs with a level, a trend, a weekly pattern and Poisson noise, of whose
shipped units a share comes back sellable a few days later (restocked returns, subtracted: net demand).

The forecast is fitted on each SKU's history and forecasts the next 28 days; the errors (WAPE, MAE, bias) are
measured against the true expected net demand and against the demand that was realised, beside a seasonal-naive
baseline (each day of the last week repeated). Deterministic (a fixed seed), runs in seconds:

    .venv/bin/python tools/forecast_accuracy.py [--seed 19] [--history-days 182]
"""

import argparse
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from supply_service.domain.forecast import PERIOD, fit

HORIZON = 28
RETURN_DELAYS = range(3, 11)  # days between shipping and a return restocked, uniformly


@dataclass(frozen=True)
class Profile:
    """The truth of one SKU's demand: expected units shipped on day t, and the share that comes back sellable."""

    sku: str
    level: float  # expected units shipped per day at day 0
    trend: float  # change of that per day
    weekly: tuple[float, ...]  # multipliers per day of the week, mean 1
    return_rate: float

    def expected_shipped(self, day: int) -> float:
        return max(0.0, (self.level + self.trend * day) * self.weekly[day % PERIOD])

    def expected_net(self, day: int) -> float:
        """Shipped minus the expected restocked returns of the units shipped a few days before."""
        back = sum(self.expected_shipped(day - delay) for delay in RETURN_DELAYS if day - delay >= 0)
        return self.expected_shipped(day) - self.return_rate * back / len(RETURN_DELAYS)


PROFILES = (
    Profile("TEE-BLK-M", 40, 0.02, (1.0, 0.9, 0.9, 1.0, 1.2, 1.3, 0.7), 0.25),
    Profile("MUG-WHT", 12, 0.0, (0.8, 0.8, 0.9, 1.0, 1.1, 1.5, 0.9), 0.05),
    Profile("KETTLE-1L", 6, 0.015, (1.1, 1.0, 1.0, 1.0, 1.0, 1.2, 0.7), 0.1),
    Profile("SNEAKER-42", 25, -0.04, (0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 0.9), 0.35),
    Profile("CABLE-USB-C", 80, 0.1, (1.2, 1.1, 1.0, 1.0, 1.0, 0.9, 0.8), 0.02),
    Profile("LAMP-DESK", 3, 0.0, (1.0,) * PERIOD, 0.08),
)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal beyond (close enough for the noise of demand)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def realised_net(profile: Profile, days: int, rng: random.Random) -> list[int]:
    """Daily shipped units minus the units of earlier shipments restocked that day."""
    shipped = [poisson(rng, profile.expected_shipped(day)) for day in range(days)]
    restocked = [0] * (days + max(RETURN_DELAYS) + 1)
    for day, units in enumerate(shipped):
        for _ in range(units):
            if rng.random() < profile.return_rate:
                restocked[day + rng.choice(RETURN_DELAYS)] += 1
    return [shipped[day] - restocked[day] for day in range(days)]


def seasonal_naive(history: Sequence[float], days: int) -> list[float]:
    last_week = history[-PERIOD:]
    return [max(0.0, last_week[h % len(last_week)]) for h in range(days)]


def errors(forecast: Sequence[float], actual: Sequence[float]) -> dict[str, float]:
    absolute = sum(abs(f - a) for f, a in zip(forecast, actual, strict=True))
    volume = sum(abs(a) for a in actual) or 1.0
    return {"wape": absolute / volume, "mae": absolute / len(actual),
            "bias": sum(f - a for f, a in zip(forecast, actual, strict=True)) / volume}


def _label(fitted) -> str:
    short = {"holt_winters_additive": "holt-winters", "simple_exponential_smoothing": "exp. smoothing"}
    return " ".join([short.get(fitted.method, fitted.method), *(f"{name[0]}={value}"
                                                                for name, value in fitted.parameters.items())])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--history-days", type=int, default=182)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    total_days, history_days = args.history_days + HORIZON, args.history_days
    last_day = date(2026, 11, 30)
    rows, totals = [], {"forecast": [[], [], []], "seasonal_naive": [[], [], []]}
    print(f"seed {args.seed}: {len(PROFILES)} SKUs, {history_days} days of history, {HORIZON} days forecast; "
          f"WAPE and bias as shares of the volume, MAE in units per day\n")
    header = f"{'sku':<12} {'method':<34} {'vs':<9} {'WAPE':>7} {'MAE':>7} {'bias':>7}"
    print(header)
    print("-" * len(header))
    for profile in PROFILES:
        net = realised_net(profile, total_days, rng)
        truth = [profile.expected_net(day) for day in range(history_days, total_days)]
        history, realised = net[:history_days], net[history_days:]
        fitted = fit(history, last_day)
        forecasts = {"forecast": fitted.daily(HORIZON), "seasonal_naive": seasonal_naive(history, HORIZON)}
        for name, forecast in forecasts.items():
            label = _label(fitted) if name == "forecast" else "seasonal naive"
            for against, actual in (("truth", truth), ("realised", realised)):
                figures = errors(forecast, actual)
                rows.append((profile.sku, label, against, figures))
                print(f"{profile.sku:<12} {label:<34} {against:<9} {figures['wape']:>7.3f} "
                      f"{figures['mae']:>7.2f} {figures['bias']:>+7.3f}")
            totals[name][0] += forecast
            totals[name][1] += truth
            totals[name][2] += realised
    print("\nall SKUs (volume-weighted)")
    for name, (forecast, truth, realised) in totals.items():
        for against, actual in (("truth", truth), ("realised", realised)):
            figures = errors(forecast, actual)
            print(f"{name:<15} vs {against:<9} WAPE {figures['wape']:.3f}  MAE {figures['mae']:.2f}  "
                  f"bias {figures['bias']:+.3f}")
    # A short history (three weeks): simple exponential smoothing, the seasonal method needs four.
    profile = PROFILES[1]
    net = realised_net(profile, 21 + HORIZON, rng)
    short = fit(net[:21], last_day)
    truth = [profile.expected_net(day) for day in range(21, 21 + HORIZON)]
    figures = errors(short.daily(HORIZON), truth)
    naive = errors(seasonal_naive(net[:21], HORIZON), truth)
    print(f"\n{profile.sku} with 21 days: {_label(short)} vs truth WAPE {figures['wape']:.3f} "
          f"(seasonal naive {naive['wape']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
