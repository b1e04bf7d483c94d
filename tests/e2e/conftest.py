import importlib.util
import json
import sys

import pytest

from ecomops_common.testing import samples
from ecomops_common.testing.infrastructure import repo_root
from ecomops_common.testing.plugin import free_port


def channel_order(external_order_id: str) -> dict:
    return samples.channel_order(external_order_id=external_order_id)


@pytest.fixture
def order_service_env(database_url, kafka_bootstrap, topic_prefix):
    port = free_port()
    return {"ORDER_DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "ECOMOPS_TOPIC_PREFIX": topic_prefix, "ORDER_HTTP_PORT": str(port), "ORDER_LOG_LEVEL": "WARNING"}


@pytest.fixture
def quick_benchmark(kafka_bootstrap, postgres_admin_url, monkeypatch, tmp_path, capsys):
    """Runs tools/<name>.py --quick as `make <name with a dash>` does, checks it ran clean and measured every
    figure named; returns its printed table and its JSON figures."""

    def run(name: str, measured: list[str]) -> tuple[str, dict]:
        # tools/ is not a package: load the script as a module.
        spec = importlib.util.spec_from_file_location(name, repo_root() / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        try:
            spec.loader.exec_module(module)
            # The tool reads the infrastructure from the environment, as under `make`.
            monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
            monkeypatch.setenv("POSTGRES_ADMIN_URL", postgres_admin_url)
            monkeypatch.chdir(repo_root())  # main() moves to the repository root; restored afterwards
            figures_path = tmp_path / "bench.json"
            exit_code = module.main(["--quick", "--json", str(figures_path)])
        finally:
            sys.modules.pop(spec.name, None)
        output = capsys.readouterr().out
        assert exit_code == 0, output
        assert "no errors" in output, output
        figures = json.loads(figures_path.read_text())
        assert figures["error_count"] == 0 and figures["errors"] == []
        assert len(figures["runs"]) == 1
        for figure in measured:
            assert figures["median"][figure] is not None and figures["median"][figure] > 0, (figure, output)
        assert set(figures["verdict"].values()) <= {"PASS", "MISS"}
        return output, figures

    return run
