"""Starts every entry point of the project as the image installs it: without the dev group, not editable.

Run by scripts/check_runtime.sh (`make lint`) with the Python of that environment (.local/runtime-venv), so a module
only the dev group brings in (httpx for finance, once) fails here as it would in the image:

- `ecomops-migrate upgrade --service all` on fresh SQLite databases; then each service, `python -m x_service`, until
  GET /healthz answers (Kafka is not needed for that: a closed port stands in for it), then `ecomops-healthcheck`;
  the payment simulator likewise; then each is stopped with SIGTERM and must exit;
- every other console script of the workspace distributions runs with --help and must exit 0 (one without an
  option parser does its ordinary work instead, e.g. a reconciliation of the fresh databases).

Every process runs in a scratch directory (the default data dir, .local/data, is relative to it) with none of the
caller's settings, so nothing touches a developer's databases or broker.
"""

import importlib.metadata
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from ecomops_common.healthcheck import probe

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30  # Kubernetes' default grace period before SIGKILL


# Console scripts that serve until stopped, with the variable that sets their port; every other one runs with --help.
SERVERS = {
    "order-service": "ORDER_HTTP_PORT",
    "allocation-service": "ALLOCATION_HTTP_PORT",
    "warehouse-service": "WAREHOUSE_HTTP_PORT",
    "returns-service": "RETURNS_HTTP_PORT",
    "finance-service": "FINANCE_HTTP_PORT",
    "control-service": "CONTROL_HTTP_PORT",
    "catalog-service": "CATALOG_HTTP_PORT",
    "supply-service": "SUPPLY_HTTP_PORT",
    "shipping-service": "SHIPPING_HTTP_PORT",
    "payment-simulator": "PAYMENT_SIMULATOR_PORT",
    "carrier-simulator": "CARRIER_SIMULATOR_PORT",
}


def workspace_distributions() -> list[importlib.metadata.Distribution]:
    """The installed distributions of the workspace members (root pyproject.toml, [tool.uv.workspace])."""
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    names = sorted(tomllib.loads(Path(pyproject).read_text())["project"]["name"]
                   for pattern in members for pyproject in glob(str(ROOT / pattern / "pyproject.toml")))
    return [importlib.metadata.distribution(name) for name in names]


def cause(output: str) -> str:
    """Why a run failed: the module it was missing; else the first error a service logged (as JSON), else the
    last line (a command's traceback ends with its exception)."""
    found = re.findall(r"No module named '([^']+)'", output)
    if found:
        return f"missing module '{found[-1]}'"
    lines = [line for line in output.splitlines() if line.strip()]
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") == "ERROR":
            return str(record.get("msg", line)).splitlines()[0]
    return lines[-1] if lines else "no output"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], what: str, cwd: Path, env: dict[str, str], timeout_s: float = 60) -> str | None:
    """None when `args` exits 0, else why not."""
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"{what}: still running after {timeout_s:.0f} s"
    if done.returncode != 0:
        return f"{what}: exit {done.returncode}, {cause(done.stdout + done.stderr)}"
    return None


def command(entry_point: importlib.metadata.EntryPoint) -> tuple[list[str], str]:
    """What the deployments run, and how to name it: `python -m x_service` for a package's __main__ (as
    docker-compose.yml does), else the console script."""
    if entry_point.module.endswith(".__main__"):
        package = entry_point.module.removesuffix(".__main__")
        return [sys.executable, "-m", package], f"{entry_point.name} (python -m {package})"
    return [str(BIN / entry_point.name)], entry_point.name


@dataclass(frozen=True)
class Running:
    what: str
    port: int
    process: subprocess.Popen
    log: Path


def start(entry_point: importlib.metadata.EntryPoint, port_variable: str, scratch: Path, env: dict[str, str]
          ) -> Running:
    args, what = command(entry_point)
    port = free_port()
    log = scratch / f"{entry_point.name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(args, cwd=scratch, env={**env, port_variable: str(port)},
                                   stdout=out, stderr=subprocess.STDOUT)
    return Running(what, port, process, log)


def healthy(server: Running, scratch: Path, env: dict[str, str]) -> str | None:
    """Waits for GET /healthz, then runs the image's HEALTHCHECK command, here told the port (on this host other
    processes listen too)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while problem := probe("127.0.0.1", server.port):
        if server.process.poll() is not None:
            return f"{server.what}: exit {server.process.returncode} before /healthz answered, " \
                   f"{cause(server.log.read_text())}"
        if time.monotonic() > deadline:
            return f"{server.what}: {problem} {START_TIMEOUT_S} s after start; log:\n{server.log.read_text()[-2000:]}"
        time.sleep(0.2)
    return run([str(BIN / "ecomops-healthcheck"), "--port", str(server.port)],
               f"ecomops-healthcheck for {server.what}", scratch, env)


def stop(servers: list[Running]) -> list[str]:
    """SIGTERM to all, as an orchestrator stops containers; each must exit in time."""
    for server in servers:
        server.process.send_signal(signal.SIGTERM)
    problems = []
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for server in servers:
        try:
            server.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
            problems.append(f"{server.what}: still running {STOP_TIMEOUT_S} s after SIGTERM; log:\n"
                            f"{server.log.read_text()[-3000:]}")
    return problems


def main() -> int:
    started = time.monotonic()
    problems = []
    if importlib.util.find_spec("pytest") is not None:
        problems.append("pytest is installed: a runtime dependency pulls test tools into the image")
    distributions = workspace_distributions()
    scripts = {ep.name: ep for dist in distributions for ep in dist.entry_points if ep.group == "console_scripts"}
    problems += [f"{name}: no such console script in the workspace distributions" for name in SERVERS
                 if name not in scripts]
    servers = {name: port_variable for name, port_variable in SERVERS.items() if name in scripts}
    clis = sorted(name for name in scripts if name not in SERVERS)

    with tempfile.TemporaryDirectory(prefix="ecomops-runtime-") as scratch_dir:
        scratch = Path(scratch_dir)
        # Only what a process needs to run: no database URL, broker or port of the caller's. Nothing listens on
        # the closed port given for Kafka, so consumers and the relay keep retrying while HTTP serves.
        env = {name: os.environ[name] for name in ("HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
        env |= {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
        # Every installed service's schema, as the deployments' migrate step does before the services start.
        if problem := run([str(BIN / "ecomops-migrate"), "upgrade", "--service", "all"],
                          "ecomops-migrate upgrade --service all", scratch, env):
            problems.append(problem)
        # The servers all at once and no longer than needed: each keeps retrying Kafka, which costs CPU.
        running = [start(scripts[name], port_variable, scratch, env) for name, port_variable in servers.items()]
        try:
            with ThreadPoolExecutor(max(1, len(running))) as waiting:
                problems += filter(None, waiting.map(lambda server: healthy(server, scratch, env), running))
        finally:
            problems += stop(running)
        # Short-lived commands one per core: more only makes each of them slower to finish.
        with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            problems += filter(None, pool.map(
                lambda name: run([str(BIN / name), "--help"], f"{name} --help", scratch, env), clis))

    for problem in problems:
        print(f"runtime check: {problem}", file=sys.stderr)
    outcome = f"FAILED ({len(problems)} problems)" if problems else "ok"
    print(f"runtime check of the migrations, {len(servers)} servers and {len(clis)} other console scripts: {outcome} "
          f"in {time.monotonic() - started:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
