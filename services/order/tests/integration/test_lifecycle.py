"""Holds, releases, payment updates and cancellation over HTTP and Kafka, on PostgreSQL and Kafka: who may
do each, and the token's subject recorded as the actor."""

import json

import pytest

from ecomops_common.auth import CONNECTOR, CUSTOMER_SERVICE, FINANCE_CLERK, SUPERVISOR, WAREHOUSE_OPERATOR
from ecomops_common.testing.issuer import test_issuer as issuer  # aliased: pytest would collect test_issuer
from ecomops_common.testing.plugin import consume_until, produce

pytestmark = pytest.mark.integration
JANE = issuer().bearer("jane", SUPERVISOR)
WEB_CONNECTOR = issuer().bearer("conn-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])
MARKET_CONNECTOR = issuer().bearer("conn-market", CONNECTOR, client="connector-market", channels=["market-fr"])


@pytest.fixture
def order_settings() -> dict:
    return {"fraud_review_threshold": 70}


async def status_changes(settings, count):
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic("order.events.v1"),
                                  lambda rs: sum(dict(r.headers)["event_type"] == b"OrderStatusChanged"
                                                 for r in rs) >= count)
    return [json.loads(r.value)["payload"] for r in records if dict(r.headers)["event_type"] == b"OrderStatusChanged"]


async def test_held_order_is_released_by_a_supervisor_and_the_payment(order_service, anonymously, order_json):
    body = order_json(fraud_score=85)
    body["payment"]["status"] = "pending"
    del body["ship_to"]["postal_code"]
    order = (await order_service.post("/v1/orders", json=body, headers=WEB_CONNECTOR)).json()
    assert order["status"] == "on_hold"
    assert order["holds"] == ["address_hold", "fraud_review", "payment_hold"]
    assert order["history"][0]["actor"] == "conn-web"

    release_url = f"/v1/orders/{order['id']}/holds/fraud_review/release"
    release = {"note": "customer confirmed"}
    assert (await anonymously("POST", release_url, json=release)).status_code == 401
    assert (await order_service.post(release_url, json=release,
                                     headers={"authorization": "Bearer wrong"})).status_code == 401
    for role in (WAREHOUSE_OPERATOR, CUSTOMER_SERVICE, CONNECTOR):
        refused = await order_service.post(release_url, json=release, headers=issuer().bearer("someone", role))
        assert refused.status_code == 403 and refused.json()["detail"] == "needs one of the roles admin, supervisor"
    named = await order_service.post(release_url, json={"actor": "supervisor:jane"}, headers=JANE)
    assert named.status_code == 422 and named.json()["detail"][0]["loc"] == ["body", "actor"]
    for hold in ("fraud_review", "address_hold"):
        response = await order_service.post(f"/v1/orders/{order['id']}/holds/{hold}/release", json=release,
                                            headers=JANE)
        assert response.status_code == 200, response.text
    again = await order_service.post(release_url, json=release, headers=JANE)
    assert again.status_code == 409 and "no fraud_review" in again.json()["detail"]

    payment_url = f"/v1/orders/{order['id']}/payment"
    payment = {"status": "authorized", "amount": "64.96", "reference": "psp-77"}
    not_finance = await order_service.post(payment_url, json=payment, headers=JANE)
    assert not_finance.status_code == 403 and "finance-clerk" in not_finance.json()["detail"]
    other_channel = await order_service.post(payment_url, json=payment, headers=MARKET_CONNECTOR)
    assert other_channel.status_code == 403 and other_channel.json() == {
        "detail": "conn-market acts for the channels market-fr, not web-eu", "reason": "channel"}
    paid = await order_service.post(payment_url, json=payment, headers=WEB_CONNECTOR)
    assert paid.status_code == 200
    assert paid.json()["status"] == "awaiting_allocation" and paid.json()["holds"] == []
    history = [(t["to_status"], t["actor"]) for t in paid.json()["history"]]
    assert history[-1] == ("awaiting_allocation", "conn-web")
    assert "payment authorized (amount 64.96, ref psp-77)" in paid.json()["history"][-1]["reason"]
    assert ("on_hold", "jane") in history

    changes = await status_changes(order_service.settings, 3)
    assert changes[-1]["to_status"] == "awaiting_allocation" and changes[-1]["holds"] == []
    assert [c["actor"] for c in changes] == ["jane", "jane", "conn-web"]


async def test_finance_records_a_payment_for_any_channel(order_service, order_json):
    body = order_json()
    body["payment"]["status"] = "pending"
    order = (await order_service.post("/v1/orders", json=body)).json()
    paid = await order_service.post(f"/v1/orders/{order['id']}/payment", json={"status": "captured"},
                                    headers=issuer().bearer("fin-bob", FINANCE_CLERK))
    assert paid.status_code == 200 and paid.json()["history"][-1]["actor"] == "fin-bob"


async def test_cancellation_is_audited_and_refused_after_it_is_final(order_service, order_json):
    order = (await order_service.post("/v1/orders", json=order_json())).json()
    cancel = {"reason": "customer request"}
    cancelled = await order_service.post(f"/v1/orders/{order['id']}/cancel", json=cancel, headers=JANE)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["history"][-1]["reason"] == "customer request"
    assert cancelled.json()["history"][-1]["actor"] == "jane"
    refused = await order_service.post(f"/v1/orders/{order['id']}/cancel", json=cancel, headers=JANE)
    assert refused.status_code == 409
    assert (await order_service.post("/v1/orders/nope/cancel", json=cancel, headers=JANE)).status_code == 404
    named = await order_service.post(f"/v1/orders/{order['id']}/cancel", json={**cancel, "actor": "channel:web-eu"},
                                     headers=JANE)
    assert named.status_code == 422 and named.json()["detail"][0]["loc"] == ["body", "actor"]
    (change,) = await status_changes(order_service.settings, 1)
    assert (change["from_status"], change["to_status"], change["actor"]) == ("awaiting_allocation", "cancelled",
                                                                             "jane")


async def test_customer_service_and_the_orders_own_connector_cancel_and_others_may_not(order_service, order_json):
    first, second = [(await order_service.post("/v1/orders", json=order_json(external_order_id=n))).json()["id"]
                     for n in ("c-1", "c-2")]
    cancel = {"reason": "customer request"}
    other_channel = await order_service.post(f"/v1/orders/{first}/cancel", json=cancel, headers=MARKET_CONNECTOR)
    assert other_channel.status_code == 403 and other_channel.json()["reason"] == "channel"
    finance = await order_service.post(f"/v1/orders/{first}/cancel", json=cancel,
                                       headers=issuer().bearer("fin-bob", FINANCE_CLERK))
    assert finance.status_code == 403
    by_connector = await order_service.post(f"/v1/orders/{first}/cancel", json=cancel, headers=WEB_CONNECTOR)
    assert by_connector.status_code == 200 and by_connector.json()["history"][-1]["actor"] == "conn-web"
    by_agent = await order_service.post(f"/v1/orders/{second}/cancel", json=cancel,
                                        headers=issuer().bearer("cs-anna", CUSTOMER_SERVICE))
    assert by_agent.status_code == 200 and by_agent.json()["history"][-1]["actor"] == "cs-anna"


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
