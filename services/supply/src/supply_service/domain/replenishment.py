"""When to order a SKU for a node and how much: the reorder point covers the forecast demand over the lead time
plus safety stock (z·σ·√L), the order-up-to level the demand over lead time and review period (z·σ·√(L+R)); when
the position (on hand − reserved + on order) is at or below the reorder point, the suggestion orders up to the
order-up-to level, at least the vendor's minimum, in whole case packs. Plain Python: no I/O."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

from supply_service.domain.forecast import Forecast, fit

_ROUNDING_SLACK = 1e-9  # a float a hair above a whole number is that number


@dataclass(frozen=True)
class ServiceTargets:
    service_level: float  # the chance of not running out within a replenishment cycle, 0.5 < p < 1
    review_period_days: int  # R: how often suggestions are acted on
    default_lead_time_days: int  # L when the catalog names none

    @property
    def z(self) -> float:
        return NormalDist().inv_cdf(self.service_level)


@dataclass(frozen=True)
class OrderRules:
    """The catalog's terms of a SKU."""

    lead_time_days: int | None
    min_order_quantity: int = 1
    case_pack: int = 1
    replenished: bool = True  # False for a discontinued SKU or a bundle (stocked as its components)


@dataclass(frozen=True)
class Position:
    on_hand: int
    reserved: int
    on_order: int  # units on purchase orders not yet received (drafts included: a suggestion drafted is not repeated)

    @property
    def units(self) -> int:
        return self.on_hand - self.reserved + self.on_order


@dataclass(frozen=True)
class Suggestion:
    reorder_point: int
    order_up_to: int
    quantity: int  # 0: nothing to order now
    explanation: dict[str, object]


def whole_units(quantity: float) -> int:
    return max(0, math.ceil(quantity - _ROUNDING_SLACK))


def order_quantity(needed: int, rules: OrderRules) -> int:
    """At least the minimum order quantity, rounded up to whole case packs."""
    if needed <= 0:
        return 0
    quantity = max(needed, rules.min_order_quantity)
    return -(-quantity // rules.case_pack) * rules.case_pack


def suggest(forecast: Forecast, position: Position, rules: OrderRules, targets: ServiceTargets) -> Suggestion:
    lead_time = targets.default_lead_time_days if rules.lead_time_days is None else rules.lead_time_days
    cover = lead_time + targets.review_period_days
    z = targets.z
    over_lead_time, over_cover = forecast.total(lead_time), forecast.total(cover)
    safety_lead_time = z * forecast.sigma * math.sqrt(lead_time)
    safety_cover = z * forecast.sigma * math.sqrt(cover)
    reorder_point = whole_units(over_lead_time + safety_lead_time)
    order_up_to = max(reorder_point, whole_units(over_cover + safety_cover))
    due = rules.replenished and position.units <= reorder_point
    quantity = order_quantity(order_up_to - position.units, rules) if due else 0
    return Suggestion(reorder_point, order_up_to, quantity, {
        "forecast": forecast.explanation(),
        "lead_time_days": lead_time, "lead_time_from": "default" if rules.lead_time_days is None else "catalog",
        "review_period_days": targets.review_period_days, "service_level": targets.service_level,
        "z": round(z, 4), "demand_over_lead_time": round(over_lead_time, 2),
        "safety_stock": round(safety_lead_time, 2), "demand_over_lead_time_and_review": round(over_cover, 2),
        "position": {"on_hand": position.on_hand, "reserved": position.reserved, "on_order": position.on_order,
                     "units": position.units},
        "min_order_quantity": rules.min_order_quantity, "case_pack": rules.case_pack,
        "why": _why(rules, position.units, reorder_point, order_up_to, quantity)})


def _why(rules: OrderRules, units: int, reorder_point: int, order_up_to: int, quantity: int) -> str:
    if not rules.replenished:
        return "not replenished (discontinued, or a bundle stocked as its components)"
    if quantity == 0:
        return f"position {units} is above the reorder point {reorder_point}" if units > reorder_point \
            else f"position {units} already reaches the order-up-to level {order_up_to}"
    return (f"position {units} is at or below the reorder point {reorder_point}: order up to {order_up_to} "
            f"({order_up_to - units} units), at least {rules.min_order_quantity} in cases of {rules.case_pack}")


def net_demand_series(days: Mapping[date, int], first: date, last: date) -> list[int]:
    """Net demand of each day from `first` to `last`, a day without a record as 0."""
    return [days.get(first + timedelta(days=offset), 0) for offset in range((last - first).days + 1)]


def forecast_of(days: Mapping[date, int], last: date, history_days: int) -> Forecast:
    """The forecast from the recorded days (net demand per day) up to `last`, starting at the first recorded day
    within `history_days`."""
    earliest = last - timedelta(days=history_days - 1)
    recorded: Iterable[date] = (day for day in days if earliest <= day <= last)
    first = min(recorded, default=None)
    if first is None:
        return fit([], last)
    return fit(net_demand_series(days, first, last), last)
