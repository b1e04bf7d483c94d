"""Smoke test of tools/bench_allocation.py: the benchmark runs end to end in --quick mode, as `make
bench-allocation` runs it, and measures every figure with no lost or wrong allocation result and no drift.

Its targets are not checked here: quick sizes are far too small for them, and a shared test machine
too noisy."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEASURED = [
    "allocation_orders_per_s", "allocation_latency_p50_ms", "allocation_latency_p99_ms", "allocation_achieved_rate",
    "allocated_pct", "short_orders_pct",
]


def test_quick_benchmark_measures_every_figure_without_errors(quick_benchmark):
    output, figures = quick_benchmark("bench_allocation", MEASURED)
    assert "| orders/s OrderPlaced -> allocation result |" in output
    assert figures["reconciliation"] == {"ok": True, "drift": []}
    median = figures["median"]
    # The absolute schedule keeps to the requested rate, within what a busy machine allows.
    rate = figures["options"]["rate"]
    assert median["allocation_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["allocation_latency_p99_ms"] >= median["allocation_latency_p50_ms"]
    # The short mix is visible: some orders come back allocated in part or not at all, the rest in full.
    statuses = ("allocated_pct", "partially_allocated_pct", "backordered_pct")
    assert sum(median[status] or 0 for status in statuses) == pytest.approx(100)
    assert (median["partially_allocated_pct"] or 0) + (median["backordered_pct"] or 0) > 0
    assert set(figures["verdict"]) == {"allocation_orders_per_s", "allocation_latency_p99_ms"}
