"""Smoke test of tools/bench_console.py: the benchmark runs end to end in --quick mode, as `make bench-console`
runs it: it seeds the read model in-process, catches up through Kafka with every event, and times every page
(each answering 200) with no error.

Its targets are not checked here: quick sizes are far too small for them, and a shared test machine
too noisy."""

import pytest

from control_service.domain.kpis import KPIS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PAGES = [
    *(f"api_kpi_{name}" for name in KPIS), "api_inbox", "api_inbox_last", "api_orders_by_id",
    "api_orders_by_external_id", "api_orders", "api_orders_deep", "api_order_360", "api_inventory",
    "api_returns_pipeline", "api_alerts", "console_overview", "console_inbox", "console_inbox_last", "console_orders",
    "console_orders_by_id", "console_orders_by_external_id", "console_orders_deep", "console_order_360",
    "console_inventory", "console_returns", *(f"console_kpi_{name}" for name in KPIS),
]
MEASURED = [
    "seed_events_per_s", "seed_orders_per_s", "kafka_events_per_s", "kafka_produce_events_per_s",
    "orders_in_read_model", "events_in_read_model", "open_inbox_items", "database_mb", "alerts_evaluation_ms",
    "slowest_page_p50_ms", *(f"{page}_{figure}" for page in PAGES for figure in ("p50_ms", "p95_ms")),
]


def test_quick_benchmark_measures_every_page_without_errors(quick_benchmark):
    output, figures = quick_benchmark("bench_console", MEASURED)
    assert "| projection events/s via Kafka (first send -> all in the events table) |" in output
    median = figures["median"]
    options = figures["options"]
    # Every order of the Kafka run came on top of the seeded ones.
    assert median["orders_in_read_model"] == options["orders"] + options["kafka_orders"]
    assert median["slowest_page_p50_ms"] == max(median[f"{page}_p50_ms"] for page in PAGES)
    for page in PAGES:
        assert median[f"{page}_p95_ms"] >= median[f"{page}_p50_ms"], page
    assert set(figures["verdict"]) == {"slowest_page_p50_ms", *(f"{page}_p50_ms" for page in PAGES)}
    assert figures["target_order"]
