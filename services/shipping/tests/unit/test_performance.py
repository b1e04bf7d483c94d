"""Promised versus actual delivery per carrier and service."""

from datetime import date

from shipping_service.domain.performance import Delivery, Performance, delivery_performance

D = date


def test_figures_per_carrier_and_service():
    deliveries = [
        Delivery("simdhl", "ground", D(2026, 12, 4), D(2026, 12, 4), D(2026, 12, 4)),  # on time
        Delivery("simdhl", "ground", D(2026, 12, 7), D(2026, 12, 4), D(2026, 12, 4)),  # 3 days late
        Delivery("simdhl", "ground", D(2026, 12, 5), D(2026, 12, 4), D(2026, 12, 7)),  # late, before the estimate
        Delivery("simdhl", "ground", D(2026, 12, 5), None, None),  # no promise, no estimate
        Delivery("simups", "standard", D(2026, 12, 2), D(2026, 12, 3), D(2026, 12, 2)),
    ]
    assert delivery_performance(deliveries) == [
        Performance("simdhl", "ground", delivered=4, with_promise=3, on_time=1, late=2, on_time_rate=0.3333,
                    on_estimate=2, after_estimate=1, average_days_late=2.0),
        Performance("simups", "standard", delivered=1, with_promise=1, on_time=1, late=0, on_time_rate=1.0,
                    on_estimate=1, after_estimate=0, average_days_late=None),
    ]


def test_nothing_delivered_nothing_to_report():
    assert delivery_performance([]) == []
    [only] = delivery_performance([Delivery("simdhl", "express", D(2026, 12, 2), None, None)])
    assert (only.with_promise, only.on_time_rate, only.average_days_late) == (0, None, None)
