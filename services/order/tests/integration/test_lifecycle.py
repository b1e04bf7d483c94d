"""Holds, releases, payment updates and cancellation over HTTP and Kafka, on PostgreSQL and Kafka."""

import json

import pytest

from ecomops_common.testing.plugin import consume_until, produce

pytestmark = pytest.mark.integration
SUPERVISOR = {"authorization": "Bearer test-token"}


@pytest.fixture
def order_settings() -> dict:
    return {"fraud_review_threshold": 70}


async def status_changes(settings, count):
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic("order.events.v1"),
                                  lambda rs: sum(dict(r.headers)["event_type"] == b"OrderStatusChanged"
                                                 for r in rs) >= count)
    return [json.loads(r.value)["payload"] for r in records if dict(r.headers)["event_type"] == b"OrderStatusChanged"]


async def test_held_order_is_released_by_a_supervisor_and_the_payment(order_service, order_json):
    body = order_json(fraud_score=85)
    body["payment"]["status"] = "pending"
    del body["ship_to"]["postal_code"]
    order = (await order_service.post("/v1/orders", json=body)).json()
    assert order["status"] == "on_hold"
    assert order["holds"] == ["address_hold", "fraud_review", "payment_hold"]

    release = {"actor": "supervisor:jane", "note": "customer confirmed"}
    assert (await order_service.post(f"/v1/orders/{order['id']}/holds/fraud_review/release",
                                     json=release)).status_code == 401
    assert (await order_service.post(f"/v1/orders/{order['id']}/holds/fraud_review/release", json=release,
                                     headers={"authorization": "Bearer wrong"})).status_code == 403
    for hold in ("fraud_review", "address_hold"):
        response = await order_service.post(f"/v1/orders/{order['id']}/holds/{hold}/release", json=release,
                                            headers=SUPERVISOR)
        assert response.status_code == 200, response.text
    again = await order_service.post(f"/v1/orders/{order['id']}/holds/fraud_review/release", json=release,
                                     headers=SUPERVISOR)
    assert again.status_code == 409 and "no fraud_review" in again.json()["detail"]

    paid = await order_service.post(f"/v1/orders/{order['id']}/payment",
                                    json={"status": "authorized", "amount": "64.96", "reference": "psp-77"})
    assert paid.status_code == 200
    assert paid.json()["status"] == "awaiting_allocation" and paid.json()["holds"] == []
    history = [(t["to_status"], t["actor"]) for t in paid.json()["history"]]
    assert history[-1] == ("awaiting_allocation", "channel:payment")
    assert "payment authorized (amount 64.96, ref psp-77)" in paid.json()["history"][-1]["reason"]
    assert ("on_hold", "supervisor:jane") in history

    changes = await status_changes(order_service.settings, 3)
    assert changes[-1]["to_status"] == "awaiting_allocation" and changes[-1]["holds"] == []
    assert [c["actor"] for c in changes] == ["supervisor:jane", "supervisor:jane", "channel:payment"]


async def test_cancellation_is_audited_and_refused_after_it_is_final(order_service, order_json):
    order = (await order_service.post("/v1/orders", json=order_json())).json()
    cancel = {"actor": "channel:web-eu", "reason": "customer request"}
    cancelled = await order_service.post(f"/v1/orders/{order['id']}/cancel", json=cancel, headers=SUPERVISOR)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["history"][-1]["reason"] == "customer request"
    refused = await order_service.post(f"/v1/orders/{order['id']}/cancel", json=cancel, headers=SUPERVISOR)
    assert refused.status_code == 409
    assert (await order_service.post("/v1/orders/nope/cancel", json=cancel, headers=SUPERVISOR)).status_code == 404
    assert (await order_service.post(f"/v1/orders/{order['id']}/cancel", json={"actor": ""},
                                     headers=SUPERVISOR)).status_code == 422
    (change,) = await status_changes(order_service.settings, 1)
    assert (change["from_status"], change["to_status"]) == ("awaiting_allocation", "cancelled")


async def test_payment_updates_from_the_topic(order_service, order_json):
    settings = order_service.settings
    body = order_json(external_order_id="pay-1")
    body["payment"]["status"] = "pending"
    order = (await order_service.post("/v1/orders", json=body)).json()
    assert order["holds"] == ["payment_hold"]
    update = {"channel": "web-eu", "external_order_id": "pay-1", "status": "captured", "amount": "64.96"}
    unknown = {**update, "external_order_id": "nope"}
    await produce(settings.kafka_bootstrap_servers, settings.topic("channel.payments.v1"),
                  [(b"web-eu:nope", json.dumps(unknown).encode()), (b"web-eu:pay-1", json.dumps(update).encode()),
                   (b"web-eu:pay-1", b"not json")])
    (change,) = await status_changes(settings, 1)
    assert change["to_status"] == "awaiting_allocation" and change["actor"] == "channel:web-eu"
    dead = await consume_until(settings.kafka_bootstrap_servers, settings.topic("channel.payments.v1.dlq"),
                               lambda rs: len(rs) >= 2)
    reasons = {dict(r.headers)["dlq_reason"].decode(): dict(r.headers)["dlq_error"].decode() for r in dead}
    assert "no order web-eu:nope" in reasons["handler_error"] and "unparseable" in reasons
