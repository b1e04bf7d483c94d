"""Promised versus actual delivery per carrier and service, in plain Python."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Delivery:
    carrier: str
    service: str
    delivered_on: date
    promised_date: date | None
    estimated_delivery: date | None


@dataclass(frozen=True)
class Performance:
    carrier: str
    service: str
    delivered: int
    with_promise: int  # delivered parcels that had a promised date
    on_time: int  # delivered by the promised date
    late: int
    on_time_rate: float | None  # on_time / with_promise
    on_estimate: int  # delivered by the carrier service's estimate
    after_estimate: int
    average_days_late: float | None  # calendar days after the promised date, over the late parcels


def delivery_performance(deliveries: Iterable[Delivery]) -> list[Performance]:
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault((delivery.carrier, delivery.service), []).append(delivery)
    figures = []
    for (carrier, service), group in sorted(groups.items()):
        promised = [d for d in group if d.promised_date is not None]
        late_days = [(d.delivered_on - d.promised_date).days for d in promised if d.delivered_on > d.promised_date]
        estimated = [d for d in group if d.estimated_delivery is not None]
        on_estimate = sum(1 for d in estimated if d.delivered_on <= d.estimated_delivery)
        figures.append(Performance(
            carrier, service, len(group), len(promised), len(promised) - len(late_days), len(late_days),
            round((len(promised) - len(late_days)) / len(promised), 4) if promised else None,
            on_estimate, len(estimated) - on_estimate,
            round(sum(late_days) / len(late_days), 2) if late_days else None))
    return figures
