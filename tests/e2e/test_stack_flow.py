"""The order, allocation and warehouse services as real processes: stock received and put away in the
warehouse becomes available to promise, an order from a channel is allocated and shown per line with its
node, a held order waits for its payment, and cancelling releases its reservations. Each step is taken by who
takes it in real life, with tokens of the real provider: the web-eu connector places orders and sends the
payment, customer service cancels, WH1's scanner and an operator at WH2 scan, the carrier confirms delivery."""

import json

import httpx
import pytest

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.testing.plugin import consume_until, eventually
from ecomops_common.testing.samples import channel_order

from .conftest import order_in_status, receive_and_put_away, scanner_at

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def allocation_status(allocation: httpx.AsyncClient, order_id: str, status: str) -> bool:
    reservations = await allocation.get("/v1/reservations", params={"order_id": order_id})
    return reservations.status_code == 200 and reservations.json()["status"] == status


async def test_orders_flow_from_channel_to_allocation_and_back(stack, identities, kafka_bootstrap, topic_prefix):
    order_service, allocation, warehouse = stack.order, stack.allocation, stack.warehouse
    await receive_and_put_away(warehouse, identities, {"WH1": 4, "WH2": 2})

    async def sellable_in_allocation() -> bool:
        items = (await allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"]
        return items[0]["atp"] == 6

    await eventually(sellable_in_allocation)

    placed = (await order_service.post("/v1/orders", json=channel_order(external_order_id="e2e-1"),
                                       auth=identities.connector)).json()
    # Allocated, and at once released to the warehouse, which made its pick tasks.
    allocated = await order_in_status(order_service, placed["id"], "released_to_warehouse")
    assert allocated["allocation"] == [
        {"line_id": "1", "sku": "SKU-RED-M", "node": "WH1", "quantity": 3, "promised_date": None}]
    assert [(t["to_status"], t["actor"]) for t in allocated["history"]][-2:] == [
        ("allocated", "allocation"), ("released_to_warehouse", "warehouse")]

    # Payment pending: held, nothing reserved until the payment arrives; then only 3 are left, so it splits.
    held_body = channel_order(external_order_id="e2e-2")
    held_body["payment"]["status"] = "pending"
    held = (await order_service.post("/v1/orders", json=held_body, auth=identities.connector)).json()
    assert held["status"] == "on_hold"
    await eventually(lambda: allocation_status(allocation, held["id"], "held"))
    payment = await order_service.post(f"/v1/orders/{held['id']}/payment", json={"status": "authorized"},
                                       auth=identities.connector)
    assert payment.status_code == 200, payment.text
    split = await order_in_status(order_service, held["id"], "released_to_warehouse")
    assert sorted((a["node"], a["quantity"]) for a in split["allocation"]) == [("WH1", 1), ("WH2", 2)]

    # Cancelling the first order, at the customer's request to customer service, gives its 3 units back.
    cancel = await order_service.post(f"/v1/orders/{placed['id']}/cancel", json={"reason": "customer request"},
                                      auth=identities.service)
    assert cancel.status_code == 200, cancel.text

    await eventually(lambda: allocation_status(allocation, placed["id"], "released"))
    availability = (await allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"][0]
    assert availability["atp"] == 3

    async def allocation_gone_from_the_order() -> bool:  # the order service hears of the release on its own
        return (await order_service.get(f"/v1/orders/{placed['id']}")).json()["allocation"] == []

    await eventually(allocation_gone_from_the_order)
    assert (await allocation.get("/v1/reconciliation")).json()["ok"] is True

    # The warehouse picks the split order's 2 units at WH2: they leave the shelf and the reservation together.
    async def pick_task_at_wh2() -> bool:
        return len((await warehouse.get("/v1/pick-tasks", params={"order_id": held["id"], "node": "WH2"})).json()) == 1

    await eventually(pick_task_at_wh2)
    task, = (await warehouse.get("/v1/pick-tasks", params={"order_id": held["id"], "node": "WH2"})).json()
    assert (task["sku"], task["quantity"], task["suggested_bin"]) == ("SKU-RED-M", 2, "BIN-1")
    pick = {"scan_id": "pick-1", "device_id": "dev2", "warehouse_id": "WH2", "scanned_at": "2026-11-22T11:00:00Z",
            "kind": "pick", "sku": "SKU-RED-M", "quantity": 2, "location": "BIN-1", "reference": task["id"]}
    assert (await warehouse.post("/v1/scans", json=pick, auth=identities.operator)).status_code == 200

    async def picked_in_allocation() -> bool:
        reservations = (await allocation.get("/v1/reservations", params={"order_id": held["id"]})).json()
        return reservations["picked"] == [{"line_id": "1", "sku": "SKU-RED-M", "node": "WH2", "quantity": 2}]

    await eventually(picked_in_allocation)
    nodes = (await allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"][0]["nodes"]
    assert [(n["node"], n["on_hand"], n["reserved"]) for n in nodes] == [("WH1", 4, 1), ("WH2", 0, 0)]
    assert (await allocation.get("/v1/exceptions")).json() == []  # a pick is not shrinkage
    assert (await allocation.get("/v1/reconciliation")).json()["ok"] is True
    assert (await warehouse.get("/v1/pick-tasks", params={"order_id": held["id"], "status": "done"})).json()[0][
        "picked"] == 2
    assert (await order_in_status(order_service, held["id"], "picking"))["history"][-1]["actor"] == "warehouse"

    # The rest of the order is picked at WH1, every unit packed and shipped: the order is shipped, then delivered.
    tasks = {t["node"]: t for status in ("open", "done") for t in (await warehouse.get("/v1/pick-tasks", params={
        "order_id": held["id"], "status": status})).json()}
    steps = [("WH1", "pick", "BIN-1", 1, {}), ("WH1", "pack", "PACK", 1, {}), ("WH2", "pack", "PACK", 2, {}),
             ("WH1", "ship", "SHIP", 1, {"tracking_number": "1Z-1", "carrier": "dhl", "shipping_cost": "4.90",
                                         "currency": "EUR"}),
             ("WH2", "ship", "SHIP", 2, {"tracking_number": "1Z-2", "carrier": "ups"})]
    for n, (node, kind, location, units, extra) in enumerate(steps):
        scan = {"scan_id": f"out-{n}", "device_id": "dev3", "warehouse_id": node, "kind": kind, "sku": "SKU-RED-M",
                "scanned_at": "2026-11-22T12:00:00Z", "quantity": units, "location": location,
                "reference": tasks[node]["id"], **extra}
        response = await warehouse.post("/v1/scans", json=scan, auth=scanner_at(identities, node))
        assert response.status_code == 200, response.text
    shipped = await order_in_status(order_service, held["id"], "shipped")
    assert [t["to_status"] for t in shipped["history"]][-3:] == ["picking", "packed", "shipped"]
    shipments = await consume_until(kafka_bootstrap, topic_prefix + WAREHOUSE_EVENTS, lambda rs: sum(
        dict(r.headers)["event_type"] == b"ShipmentDispatched" for r in rs) >= 2)
    dispatched = [json.loads(r.value)["payload"] for r in shipments
                  if dict(r.headers)["event_type"] == b"ShipmentDispatched"]
    assert [(d["node"], d["carrier"], d["tracking_number"], d["shipping_cost"]) for d in dispatched] == [
        ("WH1", "dhl", "1Z-1", "4.90"), ("WH2", "ups", "1Z-2", None)]
    # DHL's client confirms: the order's parcels left with dhl (WH1) and ups (WH2).
    assert (await warehouse.post(f"/v1/orders/{held['id']}/delivery", auth=identities.carrier)).status_code == 200
    await order_in_status(order_service, held["id"], "delivered")
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True


async def test_a_short_pick_re_sources_the_line_to_another_node(stack, identities):
    order_service, allocation, warehouse = stack.order, stack.allocation, stack.warehouse
    await receive_and_put_away(warehouse, identities, {"WH1": 3, "WH2": 3})

    async def stock_seen() -> bool:
        return (await allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"][0]["atp"] == 6

    await eventually(stock_seen)
    order = (await order_service.post("/v1/orders", json=channel_order(external_order_id="short-1"),
                                      auth=identities.connector)).json()

    async def task_at(node: str) -> dict | None:
        tasks = (await warehouse.get("/v1/pick-tasks", params={"order_id": order["id"], "node": node})).json()
        return tasks[0] if tasks else None

    await eventually(lambda: _is_not_none(task_at("WH1")))
    task = await task_at("WH1")
    # The picker's handheld finds the bin empty: 3 units, within what is written off without a supervisor
    # (WAREHOUSE_SHORT_PICK_APPROVAL_UNITS, 5), so the books are corrected at once and the line goes to WH2.
    short = await warehouse.post(f"/v1/pick-tasks/{task['id']}/short", json={"location": "BIN-1", "found": 0},
                                 auth=identities.scanner)
    assert short.status_code == 200 and short.json()["short"] == 3, short.text
    await eventually(lambda: _is_not_none(task_at("WH2")))
    assert await task_at("WH1") is None  # the WH1 task is cancelled

    async def allocated_at_wh2() -> bool:
        view = (await order_service.get(f"/v1/orders/{order['id']}")).json()
        return view["allocation"] == [
            {"line_id": "1", "sku": "SKU-RED-M", "node": "WH2", "quantity": 3, "promised_date": None}]

    await eventually(allocated_at_wh2)
    exception, = (await allocation.get("/v1/exceptions")).json()
    assert (exception["node"], exception["affected_order_ids"]) == ("WH1", [order["id"]])
    assert (await allocation.get("/v1/reconciliation")).json()["ok"] is True
    assert (await warehouse.get("/v1/reconciliation")).json()["ok"] is True


async def _is_not_none(awaitable) -> bool:
    return await awaitable is not None
