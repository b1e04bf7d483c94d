"""Conservation: a random mix of 10,000 scans (duplicates, out-of-order and invalid ones among them) leaves
the warehouse's balances equal to its ledger, nothing negative, and allocation's sellable view equal to the
warehouse's, also when two changes of one SKU×node race; so do random concurrent exits of returned units from
the recovery statuses. Both services run as real processes on Kafka and
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
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from ecomops_common.contracts import FINANCE_EVENTS, RETURNS_EVENTS, WAREHOUSE_SCANS
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided, ReturnLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import committed_offset_total, consume_until, eventually, produce, produce_events

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


async def test_recovery_moves_conserve_stock(services, identities, kafka_bootstrap, topic_prefix):
    """Returned units decided into every recovery status, then 240 random exits at once (refurbishments, QA
    decisions, scraps, liquidations, returns to vendor with their scans, second supervisors approving write-offs),
    some asking for more than is there or selling a lot twice: every answer is a decision (never a 500), the
    balances equal the ledger, nothing is negative, and per SKU what the books hold is what came back less what
    left them by the audited actions."""
    allocation, warehouse = services
    rng = random.Random(18)
    skus = ["SKU-R0", "SKU-R1", "SKU-R2"]
    layout = {"locations": [{"code": "RET", "kind": "returns"}, {"code": "Q", "kind": "quarantine"},
                            {"code": "PACK", "kind": "packing"}, {"code": "SHIP", "kind": "shipping"},
                            *({"code": b, "kind": "storage"} for b in BINS[:3])]}
    assert (await warehouse.put("/v1/warehouses/WH1/locations", json=layout)).status_code == 200
    now = datetime.now(UTC)
    # SKU-R2 is worth 100.00 a unit: scrapping or selling 3 of it is above the 250.00 threshold.
    await produce_events(kafka_bootstrap, topic_prefix + FINANCE_EVENTS, [new_event(
        "UnitCostChanged", 1, "finance", "sku", sku, UnitCostChanged(
            sku=sku, amount=Decimal("100.00" if sku == "SKU-R2" else "1.00"), currency="EUR", at=now))
        for sku in skus])
    returned: dict[str, int] = defaultdict(int)
    decisions = []
    for n in range(12):
        rma_id, sku = f"RMA-C{n}", skus[n % 3]
        authorized = ReturnAuthorized(rma_id=rma_id, order_id=f"o{n}", channel="web-eu", node="WH1",
                                      authorized_at=now, lines=[ReturnLine(line_id="1", sku=sku, quantity=12)])
        await produce_events(kafka_bootstrap, topic_prefix + RETURNS_EVENTS,
                             [new_event("ReturnAuthorized", 1, "returns", "return", rma_id, authorized)])

        async def expected(rma_id: str = rma_id) -> bool:
            return (await warehouse.get(f"/v1/receipts/{rma_id}")).status_code == 200

        await eventually(expected)
        receive = {"scan_id": f"{rma_id}-in", "device_id": "dev1", "warehouse_id": "WH1", "kind": "return_receive",
                   "scanned_at": now.isoformat(), "sku": sku, "quantity": 12, "location": "RET",
                   "reference": rma_id, "condition": "opened"}
        assert (await warehouse.post("/v1/scans", json=receive, auth=identities.scanner)).status_code == 200
        returned[sku] += 12
        for disposition in ("refurbish", "quarantine", "vendor_return", "liquidate", "scrap", "restock"):
            decisions.append(new_event("ReturnDispositionDecided", 1, "returns", "return", rma_id,
                                       ReturnDispositionDecided(rma_id=rma_id, sku=sku, quantity=2,
                                                                disposition=disposition, decided_at=now)))
    await produce_events(kafka_bootstrap, topic_prefix + RETURNS_EVENTS, decisions)

    async def all_decided() -> bool:
        return (await warehouse.get("/v1/stock", params={"status": "return_pending_inspection"})).json() == []

    await eventually(all_decided, timeout=60)

    async def units_at(sku: str, status: str) -> list[tuple[str, int]]:
        rows = (await warehouse.get("/v1/stock", params={"sku": sku, "node": "WH1", "status": status})).json()
        return [(row["location"], row["units"]) for row in rows]

    async def random_exit(n: int) -> list[int]:
        sku = rng.choice(skus)
        kind = rng.choice(["refurbish", "qa", "scrap", "liquidate", "rtv", "approve"])
        quantity = rng.randint(1, 4)
        place = {"node": "WH1", "sku": sku, "quantity": quantity}
        status = {"refurbish": "refurbish", "qa": "quarantined", "scrap": rng.choice(
            ["refurbish", "quarantined", "vendor_return", "liquidation"]), "liquidate": "liquidation"}.get(kind)
        held = await units_at(sku, status) if status else []
        location = held[0][0] if held else "RET"
        if kind == "refurbish":
            body = {**place, "location": location, "outcome": rng.choice(["sellable", "scrap"]),
                    "to_location": rng.choice(BINS[:3])}
            return [(await warehouse.post("/v1/recovery/refurbishments", json=body,
                                          auth=identities.supervisor)).status_code]
        if kind == "qa":
            body = {**place, "location": location, "decision": rng.choice(
                ["sellable", "refurbish", "vendor_return", "scrap"]), "to_location": rng.choice(BINS[:3])}
            if body["decision"] != "sellable":
                body["to_location"] = location
            return [(await warehouse.post("/v1/recovery/qa-decisions", json=body,
                                          auth=identities.inspector)).status_code]
        if kind == "scrap":
            body = {**place, "location": location, "status": status}
            return [(await warehouse.post("/v1/recovery/scraps", json=body, auth=identities.supervisor)).status_code]
        if kind == "liquidate":
            lot = f"LOT-{rng.randint(0, 40)}"  # some lots offered twice
            body = {"lot_id": lot, "node": "WH1", "buyer": "B-Stock", "currency": "EUR",
                    "lines": [{"sku": sku, "location": location, "quantity": quantity, "proceeds": "0.50"}]}
            return [(await warehouse.post("/v1/recovery/liquidations", json=body,
                                          auth=identities.supervisor)).status_code]
        if kind == "rtv":
            rtv_id = f"RTV-C{n}"
            body = {"rtv_id": rtv_id, "vendor_id": "ACME", "node": "WH1", "lines": [{"sku": sku, "quantity": 1}]}
            answers = [(await warehouse.post("/v1/vendor-returns", json=body, auth=identities.supervisor)).status_code]
            if answers[0] == 201:
                waiting = await units_at(sku, "vendor_return")
                for step, at in (("pick", waiting[0][0] if waiting else "RET"), ("pack", "PACK"), ("ship", "SHIP")):
                    scan = {"scan_id": f"{rtv_id}-{step}", "device_id": "dev2", "warehouse_id": "WH1", "kind": step,
                            "scanned_at": now.isoformat(), "sku": sku, "quantity": 1, "location": at,
                            "reference": rtv_id}
                    answers.append((await warehouse.post("/v1/scans", json=scan,
                                                         auth=identities.scanner)).status_code)
            return answers
        pending = (await warehouse.get("/v1/recovery/write-offs", params={"status": "pending_approval"})).json()
        return [(await warehouse.post(f"/v1/recovery/write-offs/{w['id']}/approve", json={},
                                      auth=identities.second_supervisor)).status_code for w in pending[:2]]

    answers = []
    for burst in range(24):  # ten at a time
        for statuses in await asyncio.gather(*(random_exit(burst * 10 + n) for n in range(10))):
            answers += statuses
    assert set(answers) <= {200, 201, 202, 404, 409, 422}, sorted(set(answers))
    assert answers.count(200) > 50  # most exits found units to move

    assert (await warehouse.get("/v1/reconciliation")).json() == {"ok": True, "drift": []}
    actions = (await warehouse.get("/v1/recovery/actions", params={"node": "WH1", "limit": 1000},
                                   auth=identities.supervisor)).json()
    assert {a["action"] for a in actions} >= {"refurbished", "qa_released", "scrapped", "liquidated", "rtv_shipped"}
    assert len({a["action_id"] for a in actions}) == len(actions)
    for sku in skus:
        rows = (await warehouse.get("/v1/stock", params={"sku": sku, "node": "WH1"})).json()
        assert all(row["units"] > 0 for row in rows)
        left_the_books = sum(a["quantity"] for a in actions if a["sku"] == sku and a["to_status"] is None)
        scrapped_at_inspection = 2 * returned[sku] // 12
        assert sum(row["units"] for row in rows) == returned[sku] - scrapped_at_inspection - left_the_books, sku
    lots = [a["reference"] for a in actions if a["action"] == "liquidated"]
    assert len(lots) == len(set(lots))  # no lot sold twice
