"""Smoke test of tools/bench_allocation.py: the benchmark runs end to end in --quick mode, as `make
bench-allocation` runs it, and measures every figure with no lost or wrong allocation result and no drift.

Its targets are not checked here: quick sizes are far too small for them, and a shared test machine
too noisy."""

import importlib.util
import json
import sys

import pytest

from ecomops_common.testing.infrastructure import repo_root

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEASURED = [
    "allocation_orders_per_s", "allocation_latency_p50_ms", "allocation_latency_p99_ms", "allocation_achieved_rate",
    "allocated_pct", "short_orders_pct",
]


@pytest.fixture(scope="module")
def bench_allocation():
    """tools/ is not a package: load the script as a module."""
    spec = importlib.util.spec_from_file_location("bench_allocation", repo_root() / "tools" / "bench_allocation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_quick_benchmark_measures_every_figure_without_errors(bench_allocation, kafka_bootstrap, postgres_admin_url,
                                                              monkeypatch, tmp_path, capsys):
    # The tool reads the infrastructure from the environment, as under `make bench-allocation`.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("POSTGRES_ADMIN_URL", postgres_admin_url)
    monkeypatch.chdir(repo_root())  # main() moves to the repository root; restored afterwards
    figures_path = tmp_path / "bench.json"

    exit_code = bench_allocation.main(["--quick", "--json", str(figures_path)])

    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "| orders/s OrderPlaced -> allocation result |" in output and "no errors" in output, output
    figures = json.loads(figures_path.read_text())
    assert figures["error_count"] == 0 and figures["errors"] == []
    assert figures["reconciliation"] == {"ok": True, "drift": []}
    assert len(figures["runs"]) == 1
    median = figures["median"]
    for figure in MEASURED:
        assert median[figure] is not None and median[figure] > 0, (figure, output)
    # The absolute schedule keeps to the requested rate, within what a busy machine allows.
    rate = figures["options"]["rate"]
    assert median["allocation_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["allocation_latency_p99_ms"] >= median["allocation_latency_p50_ms"]
    # The short mix is visible: some orders come back allocated in part or not at all, the rest in full.
    statuses = ("allocated_pct", "partially_allocated_pct", "backordered_pct")
    assert sum(median[status] or 0 for status in statuses) == pytest.approx(100)
    assert (median["partially_allocated_pct"] or 0) + (median["backordered_pct"] or 0) > 0
    assert set(figures["verdict"]) == {"allocation_orders_per_s", "allocation_latency_p99_ms"}
    assert set(figures["verdict"].values()) <= {"PASS", "MISS"}
