"""Smoke test of tools/bench_intake.py: the benchmark runs end to end in --quick mode, as `make
bench-intake` runs it, and measures every figure with no refused order and no lost OrderPlaced.

Its targets are not checked here: quick sizes are far too small for them, and a shared test machine
too noisy."""

import importlib.util
import json
import sys

import pytest

from ecomops_common.testing.infrastructure import repo_root

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEASURED = [
    "topic_orders_per_s", "http_orders_per_s",
    "topic_latency_p50_ms", "topic_latency_p99_ms", "topic_achieved_rate",
    "http_latency_p50_ms", "http_latency_p99_ms", "http_achieved_rate",
]


@pytest.fixture(scope="module")
def bench_intake():
    """tools/ is not a package: load the script as a module."""
    spec = importlib.util.spec_from_file_location("bench_intake", repo_root() / "tools" / "bench_intake.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_quick_benchmark_measures_every_figure_without_errors(bench_intake, kafka_bootstrap, postgres_admin_url,
                                                              monkeypatch, tmp_path, capsys):
    # The tool reads the infrastructure from the environment, as under `make bench-intake`.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("POSTGRES_ADMIN_URL", postgres_admin_url)
    monkeypatch.chdir(repo_root())  # main() moves to the repository root; restored afterwards
    figures_path = tmp_path / "bench.json"

    exit_code = bench_intake.main(["--quick", "--json", str(figures_path)])

    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "| topic orders/s |" in output and "no errors" in output, output
    figures = json.loads(figures_path.read_text())
    assert figures["error_count"] == 0 and figures["errors"] == []
    assert len(figures["runs"]) == 1
    median = figures["median"]
    for figure in MEASURED:
        assert median[figure] is not None and median[figure] > 0, (figure, output)
    # The absolute schedule keeps to the requested rate, within what a busy machine allows.
    rate = figures["options"]["rate"]
    assert median["topic_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["http_achieved_rate"] == pytest.approx(rate, rel=0.2)
    assert median["topic_latency_p99_ms"] >= median["topic_latency_p50_ms"]
    assert median["http_latency_p99_ms"] >= median["http_latency_p50_ms"]
    assert set(figures["verdict"]) == {"topic_orders_per_s", "http_orders_per_s", "topic_latency_p99_ms",
                                       "http_latency_p99_ms"}
    assert set(figures["verdict"].values()) <= {"PASS", "MISS"}
