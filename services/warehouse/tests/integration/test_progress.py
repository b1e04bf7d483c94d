"""Order progress (OrderFulfilmentChanged) when two scans finish an order's last lines at the same time."""

import asyncio
import contextlib
import json

import pytest

from ecomops_common.contracts import ALLOCATION_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.allocation import AllocatedLine, OrderAllocated
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events
from warehouse_service.service_layer.scanning import apply_scans, scan_command_of

pytestmark = pytest.mark.integration
SKUS = ("SKU-RED-M", "SKU-BLUE-L")  # two SKUs: the two scans share no stock row to queue on


def scan(scan_id: str, kind: str, sku: str, location: str, **extra) -> dict:
    return {"scan_id": scan_id, "device_id": scan_id, "warehouse_id": "BER1", "scanned_at": "2026-11-22T10:00:00Z",
            "kind": kind, "sku": sku, "quantity": 1, "location": location, **extra}


async def finish_at_once(unit_of_work, first: dict, second: dict) -> None:
    """Applies two scans in concurrent transactions: `first`'s waits before its commit until `second`'s is done,
    or for a second if `second`'s waits for it."""
    at_commit, second_done = asyncio.Event(), asyncio.Event()

    async def apply(body: dict, before_commit=None) -> None:
        async with unit_of_work() as uow:
            if before_commit:
                commit = uow.commit

                async def paused_commit() -> None:
                    await before_commit()
                    await commit()

                uow.commit = paused_commit
            result, = await apply_scans(uow, [(scan_command_of(Scan.model_validate(body)), json.dumps(body))])
            assert result.outcome == "applied", result

    async def wait_for_second() -> None:
        at_commit.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(second_done.wait(), 1)

    first_applied = asyncio.create_task(apply(first, wait_for_second))
    await at_commit.wait()
    await apply(second)
    second_done.set()
    await first_applied


async def test_the_scan_that_finishes_an_order_announces_it_when_another_line_finishes_at_once(warehouse):
    settings = warehouse.settings
    for sku in SKUS:
        for body in (scan(f"in-{sku}", "receive", sku, "DOCK-IN", reference="PO-TEST"),
                     scan(f"away-{sku}", "putaway", sku, "DOCK-IN", to_location="A-01-03")):
            assert (await warehouse.post("/v1/scans", json=body)).status_code == 200
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), [new_event(
        "OrderAllocated", 1, "allocation", "order", "o1", OrderAllocated(
            order_id="o1", channel="web-eu", status="allocated", revision=1, reason="placed", service_level="express",
            lines=[AllocatedLine(line_id=str(n), sku=sku, node="BER1", quantity=1) for n, sku in enumerate(SKUS)]))])

    async def two_tasks() -> bool:
        return len((await warehouse.get("/v1/pick-tasks", params={"order_id": "o1"})).json()) == 2

    await eventually(two_tasks)
    tasks = {task["sku"]: task["id"] for task in (await warehouse.get("/v1/pick-tasks",
                                                                       params={"order_id": "o1"})).json()}
    for sku in SKUS:
        body = scan(f"pick-{sku}", "pick", sku, "A-01-03", reference=tasks[sku])
        assert (await warehouse.post("/v1/scans", json=body)).status_code == 200

    # Two packers pack the two lines at once, then two shippers ship them at once.
    for kind, location, extra in (("pack", "PACK-1", {}), ("ship", "SHIP-1", {"tracking_number": "1Z999"})):
        await finish_at_once(warehouse.unit_of_work, *(
            scan(f"{kind}-{sku}", kind, sku, location, reference=tasks[sku], **extra) for sku in SKUS))

    def stages(records) -> list[str]:
        return [payload["stage"] for payload in (json.loads(r.value)["payload"] for r in records)
                if payload.get("order_id") == "o1" and "stage" in payload]

    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS),
                                  lambda rs: "shipped" in stages(rs), timeout=10)
    assert stages(records) == ["released_to_warehouse", "picking", "packed", "shipped"]
