"""Smoke test of tools/bench_pipeline.py: in --quick mode, as `make bench-pipeline` runs it, every service runs as
a process on the shared broker and PostgreSQL, every order sent reaches released_to_warehouse (an order that does
not is an error), and every figure is measured: throughput per stage, latency per stage, CPU per process,
transactions, rows and WAL per order, and the ceilings.

Its targets are not checked here: quick sizes are far too small for them, and a shared test machine too noisy."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

RATES = ("50", "100")  # --quick: --rate 50 and --rates 100
MEASURED = [
    "pipeline_orders_per_s", "placed_orders_per_s", "allocated_orders_per_s",
    *(f"r{rate}_{stage}_latency_{p}_ms" for rate in RATES for stage in ("placed", "allocated", "released")
      for p in ("p50", "p99")),
    *(f"r{rate}_achieved_rate" for rate in RATES),
    "stack_cpu_ms_per_order", "cpu_ms_per_order_order", "cpu_ms_per_order_postgres", "transactions_per_order",
    "statements_per_order", "transactions_per_order_order", "rows_written_per_order", "wal_bytes_per_order",
    "kafka_msgs_per_order",
    "kafka_produce_msgs_per_s", "kafka_consume_msgs_per_s", "pgbench_tps", "ceiling_orders_per_s", "efficiency",
]


def test_quick_benchmark_releases_every_order_and_measures_every_figure(quick_benchmark):
    output, figures = quick_benchmark("bench_pipeline", MEASURED)
    assert "| orders/s flat out, channel → released to warehouse |" in output
    median = figures["median"]
    for rate in RATES:
        for stage in ("placed", "allocated", "released"):
            assert median[f"r{rate}_{stage}_latency_p99_ms"] >= median[f"r{rate}_{stage}_latency_p50_ms"]
        # An order is released after it is allocated, and allocated after it is placed.
        assert (median[f"r{rate}_placed_latency_p50_ms"] <= median[f"r{rate}_allocated_latency_p50_ms"]
                <= median[f"r{rate}_released_latency_p50_ms"])
    assert median["kafka_msgs_per_order"] > 1  # the channel order and the events it causes
    for group in ("order", "allocation", "warehouse", "returns", "finance", "control", "kafka", "postgres"):
        assert median[f"cpu_ms_per_order_{group}"] is not None, group
    assert set(figures["verdict"]) == {"pipeline_orders_per_s", "r50_released_latency_p99_ms",
                                       "stack_cpu_ms_per_order"}
