"""Inbound supply, backorder promises and soft reservations on PostgreSQL and Kafka: purchase orders and
transfers in, promise changes and availability out; soft reservations over HTTP, converted by an order, expired
by the sweeper."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from allocation_service.bootstrap import build_app
from allocation_service.settings import AllocationSettings
from ecomops_common.auth import CONNECTOR, CUSTOMER_SERVICE
from ecomops_common.contracts import ALLOCATION_EVENTS, ORDER_EVENTS, SUPPLY_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.supply import PurchaseOrderChanged
from ecomops_common.contracts.warehouse import TransferChanged
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, produce_events, serving
from ecomops_common.testing.samples import order_placed

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).date()
D1, D2 = TODAY + timedelta(days=5), TODAY + timedelta(days=12)
WEB = test_issuer().bearer("conn-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])


def purchase_order(revision: int, status: str, expected, quantity: int = 5):
    return new_event("PurchaseOrderChanged", 1, "supply", "purchase_order", "po-1", PurchaseOrderChanged(
        po_id="po-1", revision=revision, vendor_id="v-1", node="WH1", status=status, currency="EUR",
        total=Decimal("50.00"), expected_date=expected, created_by="bob", reason=status, changed_by="bob",
        changed_at=datetime.now(UTC), lines=[{"line_id": "1", "sku": "A", "quantity": quantity, "received": 0,
                                              "unit_cost": "10.00", "expected_date": expected}]))


def placed_with_reservation(order_id: str, lines, reservation_id: str):
    envelope = order_placed(order_id, lines)
    payload = OrderPlaced.model_validate(envelope.payload).model_copy(update={"reservation_id": reservation_id})
    return new_event("OrderPlaced", 1, "order", "order", order_id, payload)


async def promise_changes(settings, done) -> list[dict]:
    """Every BackorderPromiseChanged on allocation.events.v1 once `done(changes)`."""
    changes: list[dict] = []

    def collect(records) -> bool:
        changes[:] = [json.loads(r.value)["payload"] for r in records
                      if dict(r.headers)["event_type"] == b"BackorderPromiseChanged"]
        return done(changes)

    await consume_until(settings.kafka_bootstrap_servers, settings.topic(ALLOCATION_EVENTS), collect)
    return changes


async def test_inbound_supply_promises_backorders_moves_their_dates_and_counts_in_atp_by_date(
        allocation, allocation_results):
    settings = allocation.settings
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 1}]})
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS),
                         [order_placed("o-back", [("1", "A", 3)])])
    results = await allocation_results(settings, lambda latest: "o-back" in latest)
    assert results["o-back"]["backordered"] == [{"line_id": "1", "sku": "A", "quantity": 2, "promised_date": None}]

    supply = settings.topic(SUPPLY_EVENTS)
    await produce_events(settings.kafka_bootstrap_servers, supply, [purchase_order(1, "approved", D1)])
    (earlier,) = await promise_changes(settings, lambda changes: len(changes) >= 1)
    assert (earlier["order_id"], earlier["line_id"], earlier["quantity"], earlier["previous_date"],
            earlier["promised_date"], earlier["reason"]) == ("o-back", "1", 2, None, D1.isoformat(), "supply_earlier")

    atp = (await allocation.get("/v1/atp/A", params={"days": 7}, headers=WEB)).json()
    assert atp["backordered"] == 2
    (node,) = atp["nodes"]
    assert [(d["date"], d["inbound"], d["atp"]) for d in node["dates"]][4:6] == [
        ((D1 - timedelta(days=1)).isoformat(), 0, 0), (D1.isoformat(), 3, 3)]
    assert atp["total"] == node["dates"]
    availability = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
    assert availability["nodes"][0]["inbound"] == [{"expected_date": D1.isoformat(), "quantity": 3}]

    await produce_events(settings.kafka_bootstrap_servers, supply, [purchase_order(2, "sent", D2)])
    changes = await promise_changes(settings, lambda changes: len(changes) >= 2)
    assert (changes[1]["previous_date"], changes[1]["promised_date"], changes[1]["reason"]) == (
        D1.isoformat(), D2.isoformat(), "supply_delayed")

    # A transfer to another node arrives earlier: the backorder is promised from it.
    transfer = new_event("TransferChanged", 1, "warehouse", "transfer", "t-1", TransferChanged(
        reference="t-1", from_node="WH3", to_node="WH2", status="dispatched", expected_date=D1,
        lines=[{"sku": "A", "quantity": 2, "received": 0}], at=datetime.now(UTC)))
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [transfer])
    changes = await promise_changes(settings, lambda changes: len(changes) >= 3)
    assert (changes[2]["promised_date"], changes[2]["reason"]) == (D1.isoformat(), "supply_earlier")

    await produce_events(settings.kafka_bootstrap_servers, supply, [purchase_order(3, "cancelled", D2)])

    async def po_gone() -> bool:
        item = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]
        return [n["inbound"] for n in item["nodes"]] == [[], []]

    await eventually(po_gone)
    reservations = (await allocation.get("/v1/reservations", params={"order_id": "o-back"})).json()
    assert reservations["backordered"] == [{"line_id": "1", "sku": "A", "quantity": 2,
                                            "promised_date": D1.isoformat()}]


async def test_soft_reservations_hold_units_refuse_what_is_short_and_convert_into_an_order(
        allocation, allocation_results):
    settings = allocation.settings
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 5}]})
    cart = {"reservation_id": "cart-1", "channel": "web-eu", "lines": [{"sku": "A", "quantity": 3}],
            "expires_in_s": 600}
    held = await allocation.post("/v1/soft-reservations", json=cart, headers=WEB)
    assert held.status_code == 201, held.text
    body = held.json()
    assert (body["status"], body["created_by"], body["holds"]) == (
        "active", "conn-web", [{"sku": "A", "node": "WH1", "quantity": 3}])
    resent = await allocation.post("/v1/soft-reservations", json=cart, headers=WEB)
    assert resent.status_code == 201 and resent.json()["expires_at"] == body["expires_at"]
    changed = await allocation.post("/v1/soft-reservations", json={**cart, "lines": [{"sku": "A", "quantity": 1}]},
                                    headers=WEB)
    assert changed.status_code == 409

    short = await allocation.post("/v1/soft-reservations", headers=WEB, json={
        "channel": "web-eu", "lines": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}]})
    assert short.status_code == 409 and "A (asked 3, 2 available)" in short.json()["detail"]
    assert "B (asked 1, 0 available)" in short.json()["detail"]
    foreign = await allocation.post("/v1/soft-reservations", headers=WEB,
                                    json={**cart, "reservation_id": "cart-2", "channel": "marketplace"})
    assert foreign.status_code == 403 and foreign.json()["reason"] == "channel"
    for bad, field in [({"expires_in_s": 8 * 24 * 3600}, "expires_in_s"),
                       ({"lines": [{"sku": "A", "quantity": 0}]}, "quantity"), ({"lines": []}, "lines"),
                       ({"node": "WH9"}, "node"), ({"channel": "Web EU"}, "channel"),
                       ({"lines": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}]}, "sku"),
                       ({"reservation_id": "a b"}, "reservation_id"), ({"expires_in_s": "soon"}, "expires_in_s")]:
        refused = await allocation.post("/v1/soft-reservations", json={**cart, "reservation_id": "cart-3", **bad},
                                        headers=WEB)
        assert refused.status_code == 422, (bad, refused.text)
        assert field in refused.json()["detail"][0]["loc"], (bad, refused.json())

    node = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]["nodes"][0]
    assert (node["soft_reserved"], node["atp"]) == (3, 2)
    other = test_issuer().bearer("conn-market", CONNECTOR, client="connector-market", channels=["marketplace"])
    assert (await allocation.get("/v1/soft-reservations/cart-1", headers=other)).status_code == 404

    # The order takes all 5 units: the 2 free ones and the 3 its cart held.
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS),
                         [placed_with_reservation("o-cart", [("1", "A", 5)], "cart-1")])
    results = await allocation_results(settings, lambda latest: "o-cart" in latest)
    assert results["o-cart"]["status"] == "allocated"
    converted = (await allocation.get("/v1/soft-reservations/cart-1", headers=WEB)).json()
    assert (converted["status"], converted["order_id"], converted["ended_by"]) == (
        "converted", "o-cart", "channel:web-eu")
    node = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]["nodes"][0]
    assert (node["soft_reserved"], node["reserved"], node["atp"]) == (0, 5, 0)
    assert (await allocation.get("/v1/reconciliation")).json()["ok"] is True


async def test_a_caller_releases_a_soft_reservation(allocation):
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 5}]})
    staff = test_issuer().bearer("cs-ana", CUSTOMER_SERVICE)
    quote = await allocation.post("/v1/soft-reservations", headers=staff, json={
        "channel": "b2b", "node": "WH1", "lines": [{"sku": "A", "quantity": 4}]})
    reservation_id = quote.json()["reservation_id"]
    released = await allocation.delete(f"/v1/soft-reservations/{reservation_id}", headers=staff)
    assert (released.json()["status"], released.json()["ended_by"]) == ("released", "cs-ana")
    again = await allocation.delete(f"/v1/soft-reservations/{reservation_id}")
    assert again.status_code == 200 and again.json()["ended_by"] == "cs-ana"
    assert (await allocation.get("/v1/soft-reservations/none", headers=staff)).status_code == 404
    node = (await allocation.get("/v1/availability", params={"sku": "A"})).json()["items"][0]["nodes"][0]
    assert (node["soft_reserved"], node["atp"]) == (0, 5)


@pytest.fixture
async def sweeping_allocation(settings_for):
    async with serving(build_app(settings_for(AllocationSettings, soft_reservation_sweep_interval_s=0.2))) as client:
        yield client


async def test_the_sweeper_releases_expired_soft_reservations_to_the_backorders(sweeping_allocation,
                                                                              allocation_results):
    allocation = sweeping_allocation
    settings = allocation.settings
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 2}]})
    held = await allocation.post("/v1/soft-reservations", json={
        "reservation_id": "cart-9", "channel": "web-eu", "lines": [{"sku": "A", "quantity": 2}],
        "expires_in_s": 2})
    assert held.status_code == 201
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS),
                         [order_placed("o-wait", [("1", "A", 2)])])
    results = await allocation_results(settings, lambda latest: "o-wait" in latest)
    assert results["o-wait"]["status"] == "backordered"
    results = await allocation_results(settings, lambda latest: latest.get("o-wait", {}).get("status")
                                       == "allocated")
    assert results["o-wait"]["reason"] == "backorder_filled"
    expired = (await allocation.get("/v1/soft-reservations/cart-9")).json()
    assert (expired["status"], expired["ended_by"]) == ("expired", "system:soft-reservation-expiry")
