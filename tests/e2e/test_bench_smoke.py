"""Smoke test of tools/bench_intake.py: the benchmark runs end to end in --quick mode, as `make
bench-intake` runs it, and measures every figure with no refused order and no lost OrderPlaced.

Its targets are not checked here: quick sizes are far too small for them, and a shared test machine
too noisy."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEASURED = [
    "topic_orders_per_s", "http_orders_per_s",
    "topic_latency_p50_ms", "topic_latency_p99_ms", "topic_achieved_rate",
    "http_latency_p50_ms", "http_latency_p99_ms", "http_achieved_rate",
]


def test_quick_benchmark_measures_every_figure_without_errors(quick_benchmark):
    output, figures = quick_benchmark("bench_intake", MEASURED)
    assert "| topic orders/s |" in output
    median = figures["median"]
    # The absolute schedule keeps to the requested rate, within what a busy machine allows.
    rate = figures["options"]["rate"]
    assert median["topic_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["http_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["topic_latency_p99_ms"] >= median["topic_latency_p50_ms"]
    assert median["http_latency_p99_ms"] >= median["http_latency_p50_ms"]
    assert set(figures["verdict"]) == {"topic_orders_per_s", "http_orders_per_s", "topic_latency_p99_ms",
                                       "http_latency_p99_ms"}
