import contextlib
import importlib.util
import json
import sys
from types import SimpleNamespace

import httpx
import pytest

from ecomops_common.testing import samples
from ecomops_common.testing.infrastructure import repo_root
from ecomops_common.testing.plugin import eventually, free_port

ADMIN = {"authorization": "Bearer test-token"}
SERVICES = ("order", "allocation", "warehouse", "returns", "finance")


def channel_order(external_order_id: str) -> dict:
    return samples.channel_order(external_order_id=external_order_id)


@pytest.fixture
def service_under_test() -> str:
    return "order"  # database_url: the order service's (order_service_env)


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


def start_service(service_process, service: str, database_url: str, kafka_bootstrap: str, topic_prefix: str,
                  wait: bool = True, **settings: str):
    """`python -m <service>_service` on a free port with its own database; settings are its env without prefix."""
    prefix, port = service.upper(), free_port()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "ECOMOPS_TOPIC_PREFIX": topic_prefix,
           f"{prefix}_DATABASE_URL": database_url, f"{prefix}_HTTP_PORT": str(port),
           f"{prefix}_API_TOKEN": "test-token", f"{prefix}_LOG_LEVEL": "WARNING",
           **{f"{prefix}_{name.upper()}": value for name, value in settings.items()}}
    return service_process(f"{service}_service", env, port, wait=wait)


@pytest.fixture
def payment_provider(service_process):
    """The simulated payment provider as a process of its own: it keeps its payments when finance is killed."""
    port = free_port()
    return service_process("payment_simulator", {"PAYMENT_SIMULATOR_PORT": str(port)},
                           port, ready_path="/healthz")


@pytest.fixture
async def stack(new_database, service_process, payment_provider, kafka_bootstrap, topic_prefix):
    """The services as processes on one broker, each with a database of its own, as in production, and the
    simulated payment provider (`stack.payments`).

    new_database comes before service_process so the processes stop before their databases are dropped."""
    started = {service: start_service(
        service_process, service, await new_database(service), kafka_bootstrap, topic_prefix, wait=False,
        **({"payment_provider_url": payment_provider.base_url} if service == "finance" else {}))
        for service in SERVICES}
    for process in started.values():  # started together, they get ready in the time of the slowest
        process.wait_ready()
    started["payments"] = payment_provider
    async with contextlib.AsyncExitStack() as clients:
        yield SimpleNamespace(**{service: await clients.enter_async_context(httpx.AsyncClient(
            base_url=process.base_url, headers={**ADMIN, "x-actor": "e2e"})) for service, process in started.items()})


async def order_in_status(order_service: httpx.AsyncClient, order_id: str, status: str) -> dict:
    async def reached() -> bool:
        return (await order_service.get(f"/v1/orders/{order_id}")).json()["status"] == status

    await eventually(reached, timeout=30)
    return (await order_service.get(f"/v1/orders/{order_id}")).json()


async def receive_and_put_away(warehouse: httpx.AsyncClient, units_by_node: dict[str, int]) -> None:
    """What happens on the dock: expected receipt, receive scan, putaway scan into a bin."""
    for node, units in units_by_node.items():
        layout = {"locations": [{"code": "DOCK", "kind": "receiving"}, {"code": "BIN-1", "kind": "storage"},
                                {"code": "PACK", "kind": "packing"}, {"code": "SHIP", "kind": "shipping"},
                                {"code": "RET", "kind": "returns"}, {"code": "Q", "kind": "quarantine"}]}
        assert (await warehouse.put(f"/v1/warehouses/{node}/locations", json=layout)).status_code == 200
        assert (await warehouse.post("/v1/receipts", json={"reference": f"PO-{node}", "node": node, "lines": [
            {"sku": "SKU-RED-M", "quantity": units}]})).status_code == 201
        for kind, extra in (("receive", {"reference": f"PO-{node}"}), ("putaway", {"to_location": "BIN-1"})):
            scan = {"scan_id": f"{node}-{kind}", "device_id": "dev1", "warehouse_id": node,
                    "scanned_at": "2026-11-22T09:00:00Z", "kind": kind, "sku": "SKU-RED-M", "quantity": units,
                    "location": "DOCK", **extra}
            assert (await warehouse.post("/v1/scans", json=scan)).status_code == 200
