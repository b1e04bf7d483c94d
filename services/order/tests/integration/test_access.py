"""Who may place and read orders over HTTP: connectors bound to their channels, customer service for phone orders,
staff reading with customers' personal data masked unless their role needs it, and per-client rate limits."""

import pytest

from ecomops_common.auth import (
    AUDITOR,
    CONNECTOR,
    CUSTOMER_SERVICE,
    DEVICE,
    FINANCE_CLERK,
    SUPERVISOR,
    WAREHOUSE_OPERATOR,
)
from ecomops_common.testing.issuer import test_issuer as issuer  # aliased: pytest would collect test_issuer
from ecomops_common.testing.plugin import serving
from order_service.bootstrap import build_app
from order_service.settings import OrderSettings

pytestmark = pytest.mark.integration
WEB_CONNECTOR = issuer().bearer("conn-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])
MARKET_CONNECTOR = issuer().bearer("conn-market", CONNECTOR, client="connector-market", channels=["market-fr"])
AGENT = issuer().bearer("cs-anna", CUSTOMER_SERVICE)


async def test_connectors_place_orders_for_their_own_channels_and_customer_service_for_any(order_service,
                                                                                            anonymously, order_json):
    anonymous = await anonymously("POST", "/v1/orders", json=order_json())
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    for role in (WAREHOUSE_OPERATOR, SUPERVISOR, DEVICE):
        refused = await order_service.post("/v1/orders", json=order_json(), headers=issuer().bearer("x", role))
        assert refused.status_code == 403
        assert refused.json()["detail"] == "needs one of the roles admin, connector, customer-service"
    other_channel = await order_service.post("/v1/orders", json=order_json(), headers=MARKET_CONNECTOR)
    assert other_channel.status_code == 403 and other_channel.json() == {
        "detail": "conn-market acts for the channels market-fr, not web-eu", "reason": "channel"}
    assert (await order_service.get("/v1/orders")).json()["items"] == []

    placed = await order_service.post("/v1/orders", json=order_json(), headers=WEB_CONNECTOR)
    assert placed.status_code == 201 and placed.json()["history"][0]["actor"] == "conn-web"
    by_phone = await order_service.post("/v1/orders", json=order_json(channel="market-fr"), headers=AGENT)
    assert by_phone.status_code == 201 and by_phone.json()["history"][0]["actor"] == "cs-anna"


async def test_connectors_read_only_their_own_channels_orders(order_service, anonymously, order_json):
    web = (await order_service.post("/v1/orders", json=order_json())).json()["id"]
    market = (await order_service.post("/v1/orders", json=order_json(channel="market-fr"))).json()["id"]

    own = (await order_service.get("/v1/orders", headers=MARKET_CONNECTOR)).json()["items"]
    assert [order["id"] for order in own] == [market]
    asked_for_another = await order_service.get("/v1/orders", params={"channel": "web-eu"}, headers=MARKET_CONNECTOR)
    assert asked_for_another.json()["items"] == []
    assert (await order_service.get(f"/v1/orders/{market}", headers=MARKET_CONNECTOR)).status_code == 200
    hidden = await order_service.get(f"/v1/orders/{web}", headers=MARKET_CONNECTOR)
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"order {web} not found"

    auditor = issuer().bearer("audit", AUDITOR)
    assert len((await order_service.get("/v1/orders", headers=auditor)).json()["items"]) == 2
    assert (await order_service.get(f"/v1/orders/{web}", headers=issuer().bearer("s", DEVICE))).status_code == 403
    assert (await anonymously("GET", "/v1/orders")).status_code == 401


async def test_personal_data_is_shown_only_to_customer_service_and_the_orders_own_connector(order_service,
                                                                                            order_json):
    body = order_json()
    body["ship_to"]["phone"] = "+49 30 1234 5678"
    order_id = (await order_service.post("/v1/orders", json=body)).json()["id"]

    for headers in (issuer().bearer("jane", SUPERVISOR), issuer().bearer("fin", FINANCE_CLERK),
                    issuer().bearer("audit", AUDITOR)):
        shown = (await order_service.get(f"/v1/orders/{order_id}", headers=headers)).json()["order"]
        (listed,) = (await order_service.get("/v1/orders", headers=headers)).json()["items"]
        for document in (shown, listed["order"]):
            assert document["customer"]["email"] == "a***@example.com" and document["customer"]["id"] == "c***"
            assert (document["ship_to"]["name"], document["ship_to"]["line1"], document["ship_to"]["postal_code"],
                    document["ship_to"]["phone"]) == ("A***", "M***", "1***", "***78")
            assert document["ship_to"]["city"] == "Berlin" and document["lines"][0]["unit_price"] == "19.99"
    for headers in (AGENT, WEB_CONNECTOR):
        shown = (await order_service.get(f"/v1/orders/{order_id}", headers=headers)).json()["order"]
        (listed,) = (await order_service.get("/v1/orders", headers=headers)).json()["items"]
        assert shown["customer"] == listed["order"]["customer"] == body["customer"]
        assert shown["ship_to"]["name"] == "A. Buyer" and shown["ship_to"]["phone"] == "+49 30 1234 5678"


async def test_order_and_payment_posts_are_rate_limited_per_client(settings_for, order_json):
    async with serving(build_app(settings_for(OrderSettings, rate_limit_per_client="2/minute"))) as client:
        placed = await client.post("/v1/orders", json=order_json(), headers=WEB_CONNECTOR)
        paid = await client.post(f"/v1/orders/{placed.json()['id']}/payment", json={"status": "captured"},
                                 headers=WEB_CONNECTOR)
        assert (placed.status_code, paid.status_code) == (201, 200)
        limited = await client.post("/v1/orders", json=order_json(external_order_id="2"), headers=WEB_CONNECTOR)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert "connector-web-eu" in limited.json()["detail"]
        # Reads are not limited, and other clients have budgets of their own.
        assert (await client.get("/v1/orders", headers=WEB_CONNECTOR)).status_code == 200
        other = await client.post("/v1/orders", json=order_json(channel="market-fr"), headers=MARKET_CONNECTOR)
        assert other.status_code == 201


async def test_the_openapi_document_names_the_roles_of_every_operation(order_service):
    paths = (await order_service.get("/openapi.json")).json()["paths"]
    roles = {(method.upper(), path): operation["security"][0]["oidc"]
             for path, methods in paths.items() if path.startswith("/v1/") for method, operation in methods.items()}
    staff = ["admin", "auditor", "buyer", "customer-service", "finance-clerk", "inspector", "merchandiser",
             "refund-approver", "supervisor", "warehouse-operator"]
    assert roles == {
        ("POST", "/v1/orders"): ["connector", "customer-service"],
        ("GET", "/v1/orders"): sorted(["connector", *staff]),
        ("GET", "/v1/orders/{order_id}"): sorted(["connector", *staff]),
        ("POST", "/v1/orders/{order_id}/holds/{hold}/release"): ["supervisor"],
        ("POST", "/v1/orders/{order_id}/cancel"): ["connector", "customer-service", "supervisor"],
        ("POST", "/v1/orders/{order_id}/payment"): ["connector", "finance-clerk"],
        ("GET", "/v1/rules/unknown-skus/{channel}"): ["supervisor"],
        ("PUT", "/v1/rules/unknown-skus/{channel}"): ["supervisor"],
        ("GET", "/v1/dead-letters"): ["auditor", "supervisor"],  # every service's (ecomops_common.dead_letters)
        ("POST", "/v1/dead-letters/{dlq_topic}/{partition}/{offset}/redrive"): ["supervisor"],
    }
