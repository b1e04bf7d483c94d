"""Conservation: a random mix of 10,000 scans (duplicates, out-of-order and invalid ones among them) leaves
the warehouse's balances equal to its ledger, nothing negative, and allocation's sellable view equal to the
warehouse's, also when two changes of one SKU×node race. Both services run as real processes on Kafka and
PostgreSQL, with tokens of the real provider: the admin lays out the warehouses, a supervisor expects the
receipts the receive scans name, WH1's scanner and an operator scan over HTTP.

Counts adjust the books at once here (WAREHOUSE_COUNT_AUTO_ADJUST_UNITS, by default 0: every variance waits
for a supervisor's approval): what these tests check is conservation under concurrency, with counts among the
changes; the approval of variances has tests of its own (the warehouse service's and tests/identity)."""

import asyncio
import contextlib
import json
import random
from collections import defaultdict

import httpx
import pytest

from ecomops_common.contracts import WAREHOUSE_SCANS
from ecomops_common.testing.plugin import committed_offset_total, consume_until, eventually, produce

from .conftest import start_service

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
COUNT_AUTO_ADJUST_UNITS = "1000"  # more than any count here differs from the books
NODES = ["BER1", "HAM1"]
BINS = [f"A-{n:02d}" for n in range(6)]
SKUS = [f"SKU-{n:02d}" for n in range(20)]
DEVICES = [f"dev{n}" for n in range(20)]


def random_scans(count: int, seed: int = 11) -> list[tuple[str, dict]]:
    """(device, scan): each device works its own SKUs, mostly in a sensible order; some scans are shuffled
    out of order, some resent, some aim at places that do not exist or hold too little."""
    rng = random.Random(seed)
    scans: list[tuple[str, dict]] = []
    for n in range(count):
        device = rng.choice(DEVICES)
        node = NODES[DEVICES.index(device) % 2]
        sku = SKUS[DEVICES.index(device) % len(SKUS)]
        kind = rng.choices(["receive", "putaway", "move", "count"], weights=[30, 35, 25, 10])[0]
        scan = {"scan_id": f"{device}-{n}", "device_id": device, "warehouse_id": node, "operator_id": f"op-{device}",
                "scanned_at": "2026-11-22T10:00:00Z", "kind": kind, "sku": sku, "quantity": rng.randint(1, 4),
                "location": "DOCK" if kind in ("receive", "putaway") else rng.choice(BINS)}
        if kind == "receive":
            scan["reference"] = purchase_order(node, sku)
        if kind in ("putaway", "move"):
            scan["to_location"] = rng.choice(BINS)
        if kind == "count":
            scan["quantity"] = rng.randint(0, 8)
        if rng.random() < 0.02:
            scan["location"] = "NOWHERE"
        scans.append((device, scan))
    for _ in range(count // 50):  # resends of earlier scans
        scans.insert(rng.randrange(len(scans)), rng.choice(scans[: len(scans) // 2]))
    for _ in range(count // 50):  # neighbours swapped: a putaway before its receive, ...
        i = rng.randrange(len(scans) - 1)
        scans[i], scans[i + 1] = scans[i + 1], scans[i]
    return scans[:count]


def purchase_order(node: str, sku: str) -> str:
    return f"PO-{node}-{sku}"


async def expect_receipts(warehouse: httpx.AsyncClient, supervisor, units: dict[tuple[str, str], int]) -> None:
    """A supervisor's expected receipts, (node, SKU) -> units, which receive scans name as their reference."""
    for (node, sku), quantity in units.items():
        receipt = {"reference": purchase_order(node, sku), "node": node, "lines": [{"sku": sku, "quantity": quantity}]}
        response = await warehouse.post("/v1/receipts", json=receipt, auth=supervisor)
        assert response.status_code == 201, response.text


@pytest.fixture
async def services(new_database, service_process, kafka_bootstrap, topic_prefix, identities):
    """Allocation and the warehouse, their clients calling as the admin unless a request names another."""
    started = {service: start_service(service_process, service, await new_database(service), kafka_bootstrap,
                                      topic_prefix, identities.issuer,
                                      **({"count_auto_adjust_units": COUNT_AUTO_ADJUST_UNITS}
                                         if service == "warehouse" else {}))
               for service in ("allocation", "warehouse")}
    async with httpx.AsyncClient(base_url=started["allocation"].base_url, auth=identities.admin) as allocation, \
            httpx.AsyncClient(base_url=started["warehouse"].base_url, auth=identities.admin) as warehouse:
        yield allocation, warehouse


async def test_ten_thousand_scans_conserve_stock(services, identities, kafka_bootstrap, topic_prefix):
    allocation, warehouse = services
    layout = {"locations": [{"code": "DOCK", "kind": "receiving"}] + [{"code": b, "kind": "storage"} for b in BINS]}
    for node in NODES:
        assert (await warehouse.put(f"/v1/warehouses/{node}/locations", json=layout)).status_code == 200

    scans = random_scans(10_000)
    # Every receive names its SKU's purchase order, which expects at least what all of them bring.
    ordered = defaultdict(int)
    for _, scan in scans:
        if scan["kind"] == "receive":
            ordered[scan["warehouse_id"], scan["sku"]] += scan["quantity"]
    await expect_receipts(warehouse, identities.supervisor, ordered)
    topic = topic_prefix + WAREHOUSE_SCANS
    await produce(kafka_bootstrap, topic, [(device.encode(), json.dumps(scan).encode()) for device, scan in scans])

    async def all_scans_handled() -> bool:
        return await committed_offset_total(kafka_bootstrap, topic_prefix + "warehouse-service.scans", topic) >= 10_000

    await eventually(all_scans_handled, timeout=180, interval=1)
    assert (await warehouse.get("/v1/reconciliation")).json() == {"ok": True, "drift": []}
    balances = (await warehouse.get("/v1/stock", params={"limit": 5000})).json()
    assert balances and all(row["units"] > 0 for row in balances)
    applied = {m["scan_id"] for sku in SKUS for m in (await warehouse.get(
        "/v1/movements", params={"sku": sku, "limit": 1000})).json()}
    refused = {e["scan_id"] for e in (await warehouse.get("/v1/scan-exceptions", params={"limit": 500})).json()}
    assert refused and not applied & refused  # each scan applied or refused, never both
    # Every scan was well-formed: none may have failed its way into the dead letters.
    assert await consume_until(kafka_bootstrap, topic + ".dlq", lambda records: False, timeout=2) == []

    sellable = defaultdict(int)
    for row in balances:
        if row["status"] == "sellable":
            sellable[row["sku"], row["node"]] += row["units"]

    async def allocation_agrees() -> bool:
        items = (await allocation.get("/v1/availability", params={"sku": SKUS})).json()["items"]
        seen = {(item["sku"], node["node"]): node["on_hand"] for item in items for node in item["nodes"]}
        return {key: units for key, units in seen.items() if units} == dict(sellable)

    await eventually(allocation_agrees, timeout=60, interval=0.5)


async def test_concurrent_changes_of_one_sku_at_one_node_leave_allocation_with_the_last_level(services, identities):
    """A putaway (WH1's scanner) and a count (an operator) of one SKU at one node at the same time, round after
    round: their transactions may commit in the opposite order of when they started, and still allocation's
    on-hand after every round is the warehouse's sellable (the level committed last), never the other one."""
    allocation, warehouse = services
    layout = {"locations": [{"code": "DOCK", "kind": "receiving"}] + [{"code": b, "kind": "storage"} for b in BINS]}
    assert (await warehouse.put("/v1/warehouses/WH1/locations", json=layout)).status_code == 200
    rounds = 25

    def scan(scan_id: str, kind: str, quantity: int, location: str, **extra) -> dict:
        return {"scan_id": scan_id, "device_id": scan_id, "warehouse_id": "WH1", "scanned_at": "2026-11-22T10:00:00Z",
                "kind": kind, "sku": "SKU-00", "quantity": quantity, "location": location, **extra}

    # Enough on the dock for a bin of `rounds` units to count down and 2 units to put away per round.
    await expect_receipts(warehouse, identities.supervisor, {("WH1", "SKU-00"): 3 * rounds})
    for body in (scan("in", "receive", 3 * rounds, "DOCK", reference=purchase_order("WH1", "SKU-00")),
                 scan("counted", "putaway", rounds, "DOCK", to_location="A-00")):
        response = await warehouse.post("/v1/scans", json=body, auth=identities.scanner)
        assert response.status_code == 200, response.text

    seen = {}

    async def allocation_agrees() -> bool:
        items = (await allocation.get("/v1/availability", params={"sku": "SKU-00"})).json()["items"]
        seen["on_hand"] = sum(node["on_hand"] for node in items[0]["nodes"])
        return seen["on_hand"] == sellable

    for n in range(rounds):
        # Two devices at once: 2 units put away into A-01, and a count finding one unit fewer in A-00.
        applied = await asyncio.gather(
            warehouse.post("/v1/scans", json=scan(f"putaway-{n}", "putaway", 2, "DOCK", to_location="A-01"),
                           auth=identities.scanner),
            warehouse.post("/v1/scans", json=scan(f"count-{n}", "count", rounds - n - 1, "A-00"),
                           auth=identities.operator))
        assert [response.json()["outcome"] for response in applied] == ["applied", "applied"]
        sellable = sum(row["units"] for row in (await warehouse.get("/v1/stock", params={
            "sku": "SKU-00", "node": "WH1", "status": "sellable"})).json())
        assert sellable == rounds + n + 1
        with contextlib.suppress(TimeoutError):
            await eventually(allocation_agrees, timeout=10)
        assert seen["on_hand"] == sellable, f"round {n}: allocation has {seen['on_hand']} on hand, the warehouse " \
                                            f"{sellable} sellable"
