"""Pick tasks from allocation results collect in waves; pickers can pick only once a wave is released."""

import pytest

from ecomops_common.auth import SUPERVISOR
from ecomops_common.contracts import ALLOCATION_EVENTS
from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, produce_events

pytestmark = pytest.mark.integration


def allocated(order_id: str, units: int = 1):
    return new_event("OrderAllocated", 1, "allocation", "order", order_id, OrderAllocated(
        order_id=order_id, channel="web-eu", status="allocated", revision=1, reason="placed",
        service_level="express", lines=[AllocatedLine(line_id="1", sku="SKU-RED-M", node="BER1", quantity=units)]))


def pick(scan_id: str, task_id: str) -> dict:
    return {"scan_id": scan_id, "device_id": "dev7", "warehouse_id": "BER1", "scanned_at": "2026-11-22T10:00:00Z",
            "kind": "pick", "sku": "SKU-RED-M", "quantity": 1, "location": "A-01-03", "reference": task_id}


@pytest.mark.parametrize("warehouse_settings", [{"wave_size": 2}])
async def test_waves_are_released_when_full_or_by_a_supervisor(warehouse):
    settings = warehouse.settings
    for n, kind, extra in ((1, "receive", {"location": "DOCK-IN"}),
                           (2, "putaway", {"location": "DOCK-IN", "to_location": "A-01-03"})):
        body = {**pick(f"in-{n}", ""), "kind": kind, "quantity": 5, "reference": "PO-TEST" if n == 1 else None,
                **extra}
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200

    async def tasks_of(order_id: str) -> list[dict]:
        return (await warehouse.get("/v1/pick-tasks", params={"order_id": order_id})).json()

    async def has_task(order_id: str) -> bool:
        return len(await tasks_of(order_id)) == 1

    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [allocated("o1")])
    await eventually(lambda: has_task("o1"))
    first, = await tasks_of("o1")
    wave, = (await warehouse.get("/v1/waves")).json()
    assert (wave["id"], wave["tasks"], wave["service_level"]) == (first["wave_id"], 1, "express")
    refused = await warehouse.post("/v1/scans", json=pick("p1", first["id"]))
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "wave_not_released"

    # A second task fills the wave (size 2): the rule releases it and picking may start.
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [allocated("o2")])
    await eventually(lambda: has_task("o2"))
    assert (await warehouse.get("/v1/waves")).json() == []
    released, = (await warehouse.get("/v1/waves", params={"status": "released"})).json()
    assert (released["tasks"], released["released_by"]) == (2, "rule")
    assert (await warehouse.post("/v1/scans", json=pick("p2", first["id"]))).status_code == 200

    # A supervisor releases the next wave early, once.
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [allocated("o3")])
    await eventually(lambda: has_task("o3"))
    third, = await tasks_of("o3")
    jane = test_issuer().bearer("supervisor:jane", SUPERVISOR)
    assert (await warehouse.post(f"/v1/waves/{third['wave_id']}/release", headers=jane)).status_code == 200
    assert (await warehouse.post(f"/v1/waves/{third['wave_id']}/release", headers=jane)).status_code == 409
    assert (await warehouse.post("/v1/waves/nope/release", headers=jane)).status_code == 404
    assert (await warehouse.get("/v1/waves", params={"status": "released"})).json()[-1]["released_by"] == \
        "supervisor:jane"
    assert (await warehouse.post("/v1/scans", json=pick("p3", third["id"]))).status_code == 200
