"""Who may call the warehouse API: a token of the issuer on every route and the roles each route names; a scanner
bound to its node, a carrier to its parcels; four eyes on receipts that matched no expected one, count variances
and large short picks; the actor recorded is the token's subject; rate limits on the scanners' and carriers'
routes."""

import re

import pytest

from ecomops_common.auth import AUDITOR, CARRIER, CONNECTOR, DEVICE, SUPERVISOR, WAREHOUSE_OPERATOR
from ecomops_common.contracts import ALLOCATION_EVENTS
from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, produce_events

pytestmark = pytest.mark.integration
NO_TOKEN = {"authorization": ""}
OPERATOR = test_issuer().bearer("op-15", WAREHOUSE_OPERATOR)
JANE, KIM = (test_issuer().bearer(f"supervisor:{name}", SUPERVISOR) for name in ("jane", "kim"))
AUDITOR_ANN = test_issuer().bearer("auditor:ann", AUDITOR)
SCANNER = test_issuer().bearer("scanner-ber1", DEVICE, client="scanner-ber1", node="BER1")
HAM_SCANNER = test_issuer().bearer("scanner-ham1", DEVICE, client="scanner-ham1", node="HAM1")
READS = ["/v1/stock", "/v1/movements?sku=SKU-RED-M", "/v1/receipts/PO-TEST", "/v1/scan-exceptions",
         "/v1/count-tasks", "/v1/count-variances", "/v1/pick-tasks", "/v1/waves", "/v1/short-picks",
         "/v1/graded-variants", "/v1/recovery/write-offs", "/v1/recovery/actions", "/v1/recovery/qa-queue",
         "/v1/recovery/unit-costs"]


def scan(scan_id: str, kind: str, quantity: int, location: str = "DOCK-IN", **changes) -> dict:
    return {"scan_id": scan_id, "device_id": "dev7", "operator_id": "op-typed", "warehouse_id": "BER1",
            "scanned_at": "2026-11-22T10:00:00Z", "kind": kind, "sku": "SKU-RED-M", "quantity": quantity,
            "location": location, **changes}


async def stock_bin(warehouse, units: int) -> None:
    for body in (scan("in", "receive", units, reference="PO-TEST"), scan("away", "putaway", units,
                                                                        to_location="A-01-03")):
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200


async def pick_task(warehouse, order_id: str, units: int) -> dict:
    """The task allocation's result makes for `units` of SKU-RED-M at BER1."""
    settings = warehouse.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [new_event(
        "OrderAllocated", 1, "allocation", "order", order_id, OrderAllocated(
            order_id=order_id, channel="web-eu", status="allocated", revision=1, reason="placed",
            lines=[AllocatedLine(line_id="1", sku="SKU-RED-M", node="BER1", quantity=units)]))])

    async def tasks() -> list[dict]:
        return (await warehouse.get("/v1/pick-tasks", params={"order_id": order_id})).json()

    await eventually(tasks)
    return (await tasks())[0]


async def units_at(warehouse, location: str) -> int:
    rows = (await warehouse.get("/v1/stock", params={"sku": "SKU-RED-M", "location": location})).json()
    return sum(row["units"] for row in rows)


async def test_every_route_needs_a_token_and_states_its_roles(warehouse):
    operations = (await warehouse.get("/openapi.json")).json()["paths"]
    routes = [(method.upper(), re.sub(r"\{[^}]+\}", "x", path), operation) for path, methods in operations.items()
              for method, operation in methods.items() if path.startswith("/v1/")]
    assert len(routes) == 41  # with the dead-letter routes every service has
    for method, path, operation in routes:
        refused = await warehouse.request(method, path, headers=NO_TOKEN)
        assert refused.status_code == 401, (method, path)
        assert refused.headers["www-authenticate"] == "Bearer"
        roles, = (requirement["oidc"] for requirement in operation["security"])
        assert roles, (method, path)  # no route is open to any authenticated caller
    expired = test_issuer().bearer("op-15", WAREHOUSE_OPERATOR, expires_in=-60)
    assert (await warehouse.get("/v1/stock", headers=expired)).status_code == 401
    assert (await warehouse.get("/healthz", headers=NO_TOKEN)).status_code == 200


async def test_staff_read_and_only_the_roles_named_change_anything(warehouse):
    for path in READS:
        for reader in (OPERATOR, JANE, AUDITOR_ANN):
            assert (await warehouse.get(path, headers=reader)).status_code == 200, path
        for machine in (SCANNER, test_issuer().bearer("conn-web", CONNECTOR, channels=["web-eu"])):
            if path != "/v1/pick-tasks":  # a scanner reads its node's tasks (below)
                assert (await warehouse.get(path, headers=machine)).status_code == 403, path
    assert (await warehouse.get("/v1/reconciliation", headers=AUDITOR_ANN)).json()["ok"] is True
    refused = await warehouse.get("/v1/reconciliation", headers=OPERATOR)
    assert (refused.status_code, refused.json()["detail"]) == (403, "needs one of the roles admin, auditor, supervisor")
    receipt = {"reference": "PO-2", "node": "BER1", "lines": [{"sku": "SKU-RED-M", "quantity": 1}]}
    for caller in (OPERATOR, AUDITOR_ANN, SCANNER):
        assert (await warehouse.post("/v1/receipts", json=receipt, headers=caller)).status_code == 403
    assert (await warehouse.put("/v1/warehouses/BER1/locations", headers=JANE, json={"locations": [
        {"code": "X", "kind": "storage"}]})).status_code == 403
    assert (await warehouse.post("/v1/scans", json=scan("a1", "receive", 1, reference="PO-TEST"),
                                 headers=AUDITOR_ANN)).status_code == 403
    created = await warehouse.post("/v1/receipts", json=receipt, headers=JANE)
    assert created.status_code == 201 and created.json()["created_by"] == "supervisor:jane"


async def test_request_fields_that_named_the_actor_are_refused(warehouse):
    for path, body in (("/v1/transfers", {"reference": "TR-1", "from_node": "BER1", "to_node": "HAM1",
                                          "actor": "planner:ana", "lines": [
                                              {"sku": "SKU-RED-M", "from_location": "A-01-03", "quantity": 1}]}),
                       ("/v1/count-tasks", {"node": "BER1", "location": "A-01-03", "actor": "supervisor:jane"}),
                       ("/v1/scan-exceptions/s1/resolve", {"resolution": "done", "actor": "supervisor:jane"}),
                       ("/v1/pick-tasks/t1/short", {"location": "A-01-03", "found": 0, "actor": "op-15"})):
        refused = await warehouse.post(path, json=body)
        assert refused.status_code == 422, path
        assert refused.json()["detail"][0]["loc"] == ["body", "actor"], path


async def test_a_scanner_scans_and_reads_tasks_at_its_own_node_only(warehouse):
    elsewhere = await warehouse.post("/v1/scans", json=scan("h1", "receive", 1, warehouse_id="HAM1"),
                                     headers=SCANNER)
    assert elsewhere.status_code == 403 and elsewhere.json() == {
        "reason": "node", "detail": "scanner-ber1 is a scanner of node BER1, not HAM1"}
    # The refused scan's id is not used up: the right scanner's scan of that id applies.
    assert (await warehouse.post("/v1/scans", json=scan("h1", "receive", 1, reference="PO-TEST"), headers=SCANNER)
            ).json() == {"scan_id": "h1", "outcome": "applied"}
    received, = (await warehouse.get("/v1/movements", params={"sku": "SKU-RED-M"})).json()
    assert received["actor"] == "scanner-ber1"  # the token's subject, not the operator_id sent

    assert (await warehouse.get("/v1/pick-tasks", headers=SCANNER)).status_code == 200
    other = await warehouse.get("/v1/pick-tasks", params={"node": "HAM1"}, headers=SCANNER)
    assert other.status_code == 403 and other.json()["reason"] == "node"
    unbound = test_issuer().bearer("scanner-x", DEVICE, client="scanner-x")  # a device token naming no node
    assert (await warehouse.post("/v1/scans", json=scan("h2", "receive", 1, reference="PO-TEST"), headers=unbound)
            ).status_code == 403


async def test_a_receipt_that_matched_no_expected_one_is_booked_only_when_another_supervisor_approves(warehouse):
    unexpected = await warehouse.post("/v1/scans", json=scan("u1", "receive", 100_000), headers=KIM)
    assert unexpected.status_code == 422
    assert unexpected.json()["detail"][0]["type"] == "no_receipt"
    assert (await warehouse.post("/v1/scans", json=scan("u2", "receive", 7, reference="PO-NONE"), headers=OPERATOR)
            ).json()["detail"][0]["type"] == "unknown_receipt"
    assert await units_at(warehouse, "DOCK-IN") == 0
    queue = (await warehouse.get("/v1/scan-exceptions", headers=AUDITOR_ANN)).json()
    assert {(e["scan_id"], e["scanned_by"]) for e in queue} == {("u1", "supervisor:kim"), ("u2", "op-15")}

    note = {"resolution": "delivery note checked"}
    own = await warehouse.post("/v1/scan-exceptions/u1/approve", json=note, headers=KIM)
    assert own.status_code == 403 and own.json()["reason"] == "segregation_of_duties"
    assert (await warehouse.post("/v1/scan-exceptions/u2/approve", json=note, headers=OPERATOR)).status_code == 403
    approved = await warehouse.post("/v1/scan-exceptions/u2/approve", json=note, headers=KIM)
    assert approved.json() == {"scan_id": "u2", "status": "approved"}
    assert await units_at(warehouse, "DOCK-IN") == 7
    booked, = (await warehouse.get("/v1/movements", params={"sku": "SKU-RED-M"})).json()
    assert (booked["reason"], booked["actor"], booked["scan_id"]) == ("receipt", "supervisor:kim", "u2")
    rejected = await warehouse.post("/v1/scan-exceptions/u1/resolve", json={"resolution": "nothing came"},
                                    headers=JANE)
    assert rejected.json()["status"] == "resolved" and await units_at(warehouse, "DOCK-IN") == 7
    decided = (await warehouse.get("/v1/scan-exceptions", params={"open": "false"})).json()
    assert {(e["scan_id"], e["decision"], e["resolved_by"]) for e in decided} == {
        ("u1", "resolved", "supervisor:jane"), ("u2", "approved", "supervisor:kim")}
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True


async def test_by_default_every_count_variance_waits_for_a_supervisor_other_than_the_counter(warehouse):
    await stock_bin(warehouse, 10)
    assert (await warehouse.post("/v1/scans", json=scan("c1", "count", 9, location="A-01-03"), headers=OPERATOR)
            ).status_code == 200
    assert await units_at(warehouse, "A-01-03") == 10
    variance, = (await warehouse.get("/v1/count-variances", headers=OPERATOR)).json()
    assert (variance["counted_by"], variance["expected"], variance["counted"]) == ("op-15", 10, 9)
    assert (await warehouse.post("/v1/count-variances/c1/approve", headers=OPERATOR)).status_code == 403
    assert (await warehouse.post("/v1/count-variances/c1/approve", headers=KIM)).status_code == 200
    assert await units_at(warehouse, "A-01-03") == 9


async def test_a_large_short_pick_is_written_off_only_when_another_supervisor_approves(warehouse):
    await stock_bin(warehouse, 10)
    task = await pick_task(warehouse, "o1", 3)
    short = f"/v1/pick-tasks/{task['id']}/short"
    elsewhere = await warehouse.post(short, json={"location": "A-01-03", "found": 8}, headers=HAM_SCANNER)
    assert elsewhere.status_code == 403 and elsewhere.json()["reason"] == "node"
    small = await warehouse.post(short, json={"location": "A-01-03", "found": 8}, headers=SCANNER)
    assert small.status_code == 200 and small.json() == {"task_id": task["id"], "short": 2, "short_pick_id": None}
    assert await units_at(warehouse, "A-01-03") == 8

    large = await warehouse.post(short, json={"location": "A-01-03", "found": 0}, headers=KIM)  # 8 > 5 missing
    assert large.status_code == 202 and large.json()["short"] == 0
    waiting_id = large.json()["short_pick_id"]
    assert await units_at(warehouse, "A-01-03") == 8
    waiting, = (await warehouse.get("/v1/short-picks", headers=AUDITOR_ANN)).json()
    assert (waiting["id"], waiting["held"], waiting["found"], waiting["reported_by"]) == (
        waiting_id, 8, 0, "supervisor:kim")
    own = await warehouse.post(f"/v1/short-picks/{waiting_id}/approve", headers=KIM)
    assert own.status_code == 403 and own.json()["reason"] == "segregation_of_duties"
    assert (await warehouse.post(f"/v1/short-picks/{waiting_id}/approve", headers=OPERATOR)).status_code == 403
    approved = await warehouse.post(f"/v1/short-picks/{waiting_id}/approve", headers=JANE)
    assert approved.json() == {"short_pick_id": waiting_id, "decision": "approved", "short": 3}
    assert await units_at(warehouse, "A-01-03") == 0
    history = (await warehouse.get("/v1/movements", params={"sku": "SKU-RED-M"})).json()
    assert [(m["quantity"], m["actor"]) for m in history[:2]] == [(8, "supervisor:jane"), (2, "scanner-ber1")]
    assert (await warehouse.get("/v1/short-picks")).json() == []


async def test_a_carrier_confirms_the_delivery_of_its_own_parcels_only(warehouse):
    await stock_bin(warehouse, 1)
    task = await pick_task(warehouse, "o1", 1)
    for body in (scan("p", "pick", 1, location="A-01-03"), scan("k", "pack", 1, location="PACK-1"),
                 scan("s", "ship", 1, location="SHIP-1", tracking_number="1Z-7", carrier="dhl")):
        assert (await warehouse.post("/v1/scans", json={**body, "reference": task["id"]}, headers=SCANNER)
                ).status_code == 200
    assert (await warehouse.post("/v1/orders/o1/delivery", headers=OPERATOR)).status_code == 403
    ups = test_issuer().bearer("carrier-ups", CARRIER, client="carrier-ups", carrier="ups")
    refused = await warehouse.post("/v1/orders/o1/delivery", headers=ups)
    assert refused.status_code == 403 and refused.json() == {
        "reason": "carrier", "detail": "carrier-ups confirms deliveries for ups; this order left with dhl"}
    dhl = test_issuer().bearer("carrier-dhl", CARRIER, client="carrier-dhl", carrier="dhl")
    assert (await warehouse.post("/v1/orders/o1/delivery", headers=dhl)).json() == {"order_id": "o1",
                                                                                    "stage": "delivered"}


@pytest.mark.parametrize("warehouse_settings", [{"rate_limit_per_client": "2/minute"}])
async def test_each_client_has_its_own_budget_on_the_scan_route(warehouse):
    for n in range(2):
        assert (await warehouse.post("/v1/scans", json=scan(f"r{n}", "receive", 1, reference="PO-TEST"),
                                     headers=SCANNER)).status_code == 200
    limited = await warehouse.post("/v1/scans", json=scan("r2", "receive", 1, reference="PO-TEST"), headers=SCANNER)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert (await warehouse.post("/v1/scans", json=scan("r2", "receive", 1, reference="PO-TEST"), headers=OPERATOR)
            ).status_code == 200
