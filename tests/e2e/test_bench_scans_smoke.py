"""Smoke test of tools/bench_scans.py: the benchmark runs end to end in --quick mode, as `make bench-scans`
runs it, and measures every figure with no lost, repeated or wrongly refused scan, the stock exactly what
the scans add up to, and no drift.

Its target is not checked here: quick sizes are far too small for it, and a shared test machine too noisy."""

import importlib.util
import json
import sys

import pytest

from ecomops_common.testing.infrastructure import repo_root

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEASURED = [
    "scans_per_s", "scans_latency_p50_ms", "scans_latency_p99_ms", "scans_achieved_rate", "receive_pct",
    "putaway_pct", "move_pct", "invalid_pct", "refused_pct", "resent_pct",
]


@pytest.fixture(scope="module")
def bench_scans():
    """tools/ is not a package: load the script as a module."""
    spec = importlib.util.spec_from_file_location("bench_scans", repo_root() / "tools" / "bench_scans.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_quick_benchmark_measures_every_figure_without_errors(bench_scans, kafka_bootstrap, postgres_admin_url,
                                                              monkeypatch, tmp_path, capsys):
    # The tool reads the infrastructure from the environment, as under `make bench-scans`.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("POSTGRES_ADMIN_URL", postgres_admin_url)
    monkeypatch.chdir(repo_root())  # main() moves to the repository root; restored afterwards
    figures_path = tmp_path / "bench.json"

    exit_code = bench_scans.main(["--quick", "--json", str(figures_path)])

    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "| scans/s applied or refused, sustained" in output and "no errors" in output, output
    figures = json.loads(figures_path.read_text())
    assert figures["error_count"] == 0 and figures["errors"] == []
    assert figures["reconciliation"] == {"ok": True, "drift": []}
    assert len(figures["runs"]) == 1
    median = figures["median"]
    for figure in MEASURED:
        assert median[figure] is not None and median[figure] > 0, (figure, output)
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
    assert set(figures["verdict"].values()) <= {"PASS", "MISS"}
