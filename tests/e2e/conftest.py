import contextlib
import importlib.util
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from ecomops_common.contracts import CATALOG_SKUS
from ecomops_common.kafka_security import connection_options
from ecomops_common.testing import samples
from ecomops_common.testing.infrastructure import repo_root
from ecomops_common.testing.issuer import ProviderAuth, client_credentials, provider_token, staff_credentials
from ecomops_common.testing.plugin import committed_offset_total, eventually, free_port

# The browser's fixtures, for every e2e test: a real Chromium (the console's tests).
from .browser import CONSOLE_URL, browser, console_port, page  # noqa: F401

SERVICES = ("order", "allocation", "warehouse", "returns", "finance", "control", "catalog", "supply", "shipping")
# Who calls, as in deploy/keycloak/ecomops-realm.json: machines by client credentials (the connector acts for
# web-eu, the scanner for node WH1, the carrier for dhl), people by the console's password grant.
MACHINES = {"connector": "connector-web-eu", "marketplace": "connector-marketplace", "scanner": "scanner-wh1",
            "carrier": "carrier-dhl"}
PEOPLE = {"admin": "ada.admin", "supervisor": "sam.supervisor", "second_supervisor": "sue.supervisor",
          "operator": "olga.operator", "inspector": "ian.inspector", "approver": "rita.approver",
          "finance": "fred.finance", "second_finance": "fay.finance", "service": "cara.service",
          "auditor": "aud.auditor", "lead": "lee.lead", "buyer": "bob.buyer", "second_buyer": "bea.buyer",
          "merchandiser": "mia.merchandiser"}


def channel_order(external_order_id: str) -> dict:
    return samples.channel_order(external_order_id=external_order_id)


@pytest.fixture
def service_under_test() -> str:
    return "order"  # database_url: the order service's (order_service_env)


@pytest.fixture
def order_service_env(database_url, kafka_bootstrap, topic_prefix, oidc_issuer):
    """The order service for the fault tests: one connector sends it hundreds of orders in seconds, beyond the
    per-client budget a production connector has, so the budget is lifted (the faults are what is tested)."""
    port = free_port()
    return {"ORDER_DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "ECOMOPS_TOPIC_PREFIX": topic_prefix, "ORDER_HTTP_PORT": str(port), "ORDER_LOG_LEVEL": "WARNING",
            "OIDC_ISSUER": oidc_issuer, "ORDER_RATE_LIMIT_PER_CLIENT": "1000000/second"}


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


@pytest.fixture(scope="session")
def identities(oidc_issuer) -> SimpleNamespace:
    """httpx auth for each demo identity, with tokens of the real provider (fetched again as they expire):
    `await client.post(..., auth=identities.connector)`."""
    return SimpleNamespace(
        issuer=oidc_issuer,
        **{role: ProviderAuth(oidc_issuer, **client_credentials(client)) for role, client in MACHINES.items()},
        **{role: ProviderAuth(oidc_issuer, **staff_credentials(user)) for role, user in PEOPLE.items()})


async def subject_of(identity: ProviderAuth) -> str:
    """The `sub` claim of the identity's tokens: what the services record as who did something. The provider
    signs the token; reading the claim needs no check of the signature here."""
    token, _ = await provider_token(identity.issuer, **identity.form)
    return jwt.decode(token, options={"verify_signature": False})["sub"]


def scanner_at(identities: SimpleNamespace, node: str) -> ProviderAuth:
    """Who scans at a node: WH1's handheld (a device client bound to WH1); elsewhere a warehouse operator."""
    return identities.scanner if node == "WH1" else identities.operator


def start_service(service_process, service: str, database_url: str, kafka_bootstrap: str, topic_prefix: str,
                  issuer: str, wait: bool = True, port: int | None = None, **settings: str):
    """`python -m <service>_service` on `port` (default: a free one) with its own database, taking the tokens of
    `issuer` (the `oidc_issuer` fixture's provider); settings are its env without prefix."""
    prefix, port = service.upper(), port or free_port()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "ECOMOPS_TOPIC_PREFIX": topic_prefix, "OIDC_ISSUER": issuer,
           f"{prefix}_DATABASE_URL": database_url, f"{prefix}_HTTP_PORT": str(port), f"{prefix}_LOG_LEVEL": "WARNING",
           **{f"{prefix}_{name.upper()}": value for name, value in settings.items()}}
    return service_process(f"{service}_service", env, port, wait=wait)


@pytest.fixture
def payment_provider(service_process):
    """The simulated payment provider as a process of its own: it keeps its payments when finance is killed."""
    port = free_port()
    return service_process("payment_simulator", {"PAYMENT_SIMULATOR_PORT": str(port)},
                           port, ready_path="/healthz")


@pytest.fixture
def carrier(service_process):
    """The simulated carrier as a process of its own, its days half a second long so parcels arrive within a test;
    never failing, slow or late here (shipping's own tests cover those)."""
    port = free_port()
    return service_process("carrier_simulator", {
        "CARRIER_SIMULATOR_PORT": str(port), "CARRIER_SIMULATOR_SECONDS_PER_DAY": "0.5",
        **{f"CARRIER_SIMULATOR_{rate}_RATE": "0" for rate in ("LATE", "EXCEPTION", "FAILURE", "SLOW")}},
        port, ready_path="/healthz")


@pytest.fixture
async def stack(new_database, service_process, payment_provider, carrier, kafka_bootstrap, topic_prefix, identities,
                console_port):  # noqa: F811 (the fixture imported above)
    """The services as processes on one broker, each with a database of its own, as in production, and the
    simulated payment provider (`stack.payments`). Their clients call as the demo admin unless a request names
    another identity (`auth=identities.scanner`). The control service listens on `console_port`, its console
    known to the `browser` as CONSOLE_URL, and calls the other services where this stack runs them.

    new_database comes before service_process so the processes stop before their databases are dropped."""
    ports = {service: console_port if service == "control" else free_port() for service in SERVICES}
    settings = {"finance": {"payment_provider_url": payment_provider.base_url},
                "shipping": {"carrier_url": carrier.base_url},
                "control": {"public_url": CONSOLE_URL, **{f"{service}_url": f"http://127.0.0.1:{port}"
                                                          for service, port in ports.items() if service != "control"}}}
    started = {service: start_service(
        service_process, service, await new_database(service), kafka_bootstrap, topic_prefix, identities.issuer,
        wait=False, port=ports[service], **settings.get(service, {}))
        for service in SERVICES}
    for process in started.values():  # started together, they get ready in the time of the slowest
        process.wait_ready()
    started["payments"], started["carrier"] = payment_provider, carrier
    async with contextlib.AsyncExitStack() as clients:
        running = SimpleNamespace(kafka=kafka_bootstrap, topic_prefix=topic_prefix, **{
            service: await clients.enter_async_context(httpx.AsyncClient(
                base_url=process.base_url, auth=identities.admin, timeout=30)) for service, process in started.items()})
        await define_skus(running, identities, {"sku": "SKU-RED-M", "name": "Red shirt, M", "category": "apparel"})
        yield running


async def define_skus(stack: SimpleNamespace, identities: SimpleNamespace, *records: dict,
                      read_by: tuple[str, ...] = ("order",)) -> None:
    """A merchandiser puts the SKUs into the SKU master; then waits until the services named have read every
    SkuChanged published so far (their consumer groups' committed offsets): the order service holds orders for
    SKUs it does not know."""
    for record in records:
        sku, body = record["sku"], {name: value for name, value in record.items() if name != "sku"}
        answer = await stack.catalog.put(f"/v1/skus/{sku}", json=body, auth=identities.merchandiser)
        assert answer.status_code in (200, 201), answer.text
    topic = stack.topic_prefix + CATALOG_SKUS
    consumer = AIOKafkaConsumer(**connection_options(stack.kafka))
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, with the topic's partitions
        partitions = [TopicPartition(topic, partition) for partition in consumer.partitions_for_topic(topic) or ()]
        published = sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()

    async def read() -> bool:
        return all([await committed_offset_total(stack.kafka, f"{stack.topic_prefix}{service}-service.catalog-skus",
                                                 topic) >= published for service in read_by])

    await eventually(read)


async def order_in_status(order_service: httpx.AsyncClient, order_id: str, status: str) -> dict:
    async def reached() -> bool:
        return (await order_service.get(f"/v1/orders/{order_id}")).json()["status"] == status

    await eventually(reached, timeout=30)
    return (await order_service.get(f"/v1/orders/{order_id}")).json()


async def receive_and_put_away(warehouse: httpx.AsyncClient, identities: SimpleNamespace,
                               units_by_node: dict[str, int]) -> None:
    """What happens on the dock: the admin's layout, a supervisor's expected receipt, the receive scan against
    it and the putaway scan into a bin by who scans at the node."""
    for node, units in units_by_node.items():
        layout = {"locations": [{"code": "DOCK", "kind": "receiving"}, {"code": "BIN-1", "kind": "storage"},
                                {"code": "PACK", "kind": "packing"}, {"code": "SHIP", "kind": "shipping"},
                                {"code": "RET", "kind": "returns"}, {"code": "Q", "kind": "quarantine"}]}
        assert (await warehouse.put(f"/v1/warehouses/{node}/locations", json=layout,
                                    auth=identities.admin)).status_code == 200
        receipt = {"reference": f"PO-{node}", "node": node, "lines": [{"sku": "SKU-RED-M", "quantity": units}]}
        assert (await warehouse.post("/v1/receipts", json=receipt, auth=identities.supervisor)).status_code == 201
        for kind, extra in (("receive", {"reference": f"PO-{node}"}), ("putaway", {"to_location": "BIN-1"})):
            scan = {"scan_id": f"{node}-{kind}", "device_id": "dev1", "warehouse_id": node,
                    "scanned_at": "2026-11-22T09:00:00Z", "kind": kind, "sku": "SKU-RED-M", "quantity": units,
                    "location": "DOCK", **extra}
            response = await warehouse.post("/v1/scans", json=scan, auth=scanner_at(identities, node))
            assert response.status_code == 200, response.text


def wh1_scan(scan_id: str, kind: str, location: str, units: int, reference: str | None, **more) -> dict:
    """A scan of SKU-RED-M at WH1, now."""
    return {"scan_id": scan_id, "device_id": "dev5", "warehouse_id": "WH1", "kind": kind, "sku": "SKU-RED-M",
            "scanned_at": datetime.now(UTC).isoformat(), "quantity": units, "location": location,
            "reference": reference, **more}


async def ship_from_wh1(stack: SimpleNamespace, identities: SimpleNamespace, order_id: str, **shipment: str) -> None:
    """WH1's scanner picks, packs and ships the order's task (`shipment`: carrier, tracking_number...); DHL's
    client confirms the delivery."""
    [task] = (await stack.warehouse.get("/v1/pick-tasks", params={"order_id": order_id},
                                        auth=identities.scanner)).json()
    for kind, location in (("pick", "BIN-1"), ("pack", "PACK"), ("ship", "SHIP")):
        scan = wh1_scan(f"{task['id']}-{kind}", kind, location, task["quantity"], task["id"],
                        **(shipment if kind == "ship" else {}))
        response = await stack.warehouse.post("/v1/scans", json=scan, auth=identities.scanner)
        assert response.status_code == 200, response.text
    delivered = await stack.warehouse.post(f"/v1/orders/{order_id}/delivery", auth=identities.carrier)
    assert delivered.status_code == 200, delivered.text
    await order_in_status(stack.order, order_id, "delivered")


async def open_return(stack: SimpleNamespace, identities: SimpleNamespace, request: dict) -> dict:
    """The web-eu connector's return request, once the returns service heard of the delivery; the RMA, once the
    warehouse expects it at the dock."""
    answer = None

    async def accepted() -> bool:
        nonlocal answer
        answer = await stack.returns.post("/v1/returns", json=request, auth=identities.connector)
        return answer.status_code == 201

    await eventually(accepted)
    rma = answer.json()

    async def expected_at_the_dock() -> bool:
        return (await stack.warehouse.get(f"/v1/receipts/{rma['id']}")).status_code == 200

    await eventually(expected_at_the_dock)
    return rma


async def journal_totals(stack: SimpleNamespace, identities: SimpleNamespace) -> dict[str, str]:
    """Account balances (debit − credit) over finance's journal."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in (await stack.finance.get("/v1/journal", params={"limit": 500}, auth=identities.finance)).json():
        for line in entry["lines"]:
            totals[line["account"]] += Decimal(line["debit"]) - Decimal(line["credit"])
    return {account: str(amount) for account, amount in totals.items() if amount}


async def rma_in(returns: httpx.AsyncClient, rma_id: str, check) -> dict:
    """The RMA once `check(rma)` holds."""
    async def reached() -> bool:
        return bool(check((await returns.get(f"/v1/returns/{rma_id}")).json()))

    await eventually(reached)
    return (await returns.get(f"/v1/returns/{rma_id}")).json()
