"""Smoke test of tools/bench_scans.py: the benchmark runs end to end in --quick mode, as `make bench-scans`
runs it, and measures every figure with no lost, repeated or wrongly refused scan, the stock exactly what
the scans add up to, and no drift.

Its target is not checked here: quick sizes are far too small for it, and a shared test machine too noisy."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEASURED = [
    "scans_per_s", "scans_latency_p50_ms", "scans_latency_p99_ms", "scans_achieved_rate", "receive_pct",
    "putaway_pct", "move_pct", "invalid_pct", "refused_pct", "resent_pct",
]


def test_quick_benchmark_measures_every_figure_without_errors(quick_benchmark):
    output, figures = quick_benchmark("bench_scans", MEASURED)
    assert "| scans/s applied or refused, sustained" in output
    assert figures["reconciliation"] == {"ok": True, "drift": []}
    median = figures["median"]
    # The absolute schedule keeps to the requested rate, within what a busy machine allows.
    rate = figures["options"]["rate"]
    assert median["scans_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["scans_latency_p99_ms"] >= median["scans_latency_p50_ms"]
    # Every kind of scan is in the mix, and exactly the invalid ones were refused.
    assert median["receive_pct"] + median["putaway_pct"] + median["move_pct"] == pytest.approx(100)
    unique_share = 1 - median["resent_pct"] / 100
    assert median["refused_pct"] == pytest.approx(median["invalid_pct"] / unique_share)
    # The resends were skipped as duplicates by the service itself.
    throughput_metrics = figures["service_metrics"][0]["throughput"]
    assert throughput_metrics["duplicates_skipped"] > 0 and throughput_metrics["dead_letters"] == 0
    assert set(figures["verdict"]) == {"scans_per_s"}
