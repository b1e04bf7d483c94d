"""Who may call the allocation API: a token of the issuer on every route, the roles each route names, and a
connector bound to its own channels' orders."""

import pytest

from ecomops_common.auth import ADMIN, AUDITOR, CONNECTOR, CUSTOMER_SERVICE, STAFF_ROLES, SUPERVISOR
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import produce_events
from ecomops_common.testing.samples import order_placed

pytestmark = pytest.mark.integration
NO_TOKEN = {"authorization": ""}


async def test_every_route_needs_a_token_of_the_issuer(allocation):
    routes = [("GET", "/v1/availability?sku=A"), ("GET", "/v1/reservations?order_id=o1"),
              ("GET", "/v1/channels/web-eu/rules"), ("PUT", "/v1/channels/web-eu/rules"), ("PUT", "/v1/stock"),
              ("GET", "/v1/exceptions"), ("GET", "/v1/reconciliation"), ("GET", "/v1/atp/A"),
              ("POST", "/v1/soft-reservations"), ("GET", "/v1/soft-reservations/r1"),
              ("DELETE", "/v1/soft-reservations/r1")]
    for method, path in routes:
        refused = await allocation.request(method, path, headers=NO_TOKEN)
        assert refused.status_code == 401, (method, path)
        assert refused.headers["www-authenticate"] == "Bearer"
    forged = await allocation.get("/v1/exceptions", headers={"authorization": "Bearer not-a-jwt"})
    assert forged.status_code == 401 and forged.json()["detail"].startswith("token refused: malformed token")
    assert (await allocation.get("/healthz", headers=NO_TOKEN)).status_code == 200


async def test_only_an_admin_sets_stock_and_channel_rules(allocation):
    supervisor = test_issuer().bearer("sup-jane", SUPERVISOR)
    levels = {"levels": [{"sku": "A", "node": "WH1", "on_hand": 5}]}
    refused = await allocation.put("/v1/stock", json=levels, headers=supervisor)
    assert refused.status_code == 403 and refused.json()["detail"] == "needs one of the roles admin"
    assert (await allocation.put("/v1/channels/web-eu/rules", json={}, headers=supervisor)).status_code == 403
    assert (await allocation.get("/v1/channels/web-eu/rules", headers=supervisor)).status_code == 200
    assert (await allocation.get("/v1/reconciliation", headers=supervisor)).json()["ok"] is True
    assert (await allocation.put("/v1/stock", json=levels)).json() == {"applied": 1}  # the admin may

    connector = test_issuer().bearer("conn-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])
    assert (await allocation.get("/v1/availability", params={"sku": "A"}, headers=connector)).status_code == 200
    for staff_only in ("/v1/exceptions", "/v1/reconciliation", "/v1/channels/web-eu/rules"):
        assert (await allocation.get(staff_only, headers=connector)).status_code == 403, staff_only


async def test_a_connector_reads_only_its_own_channels_reservations(allocation, allocation_results):
    settings = allocation.settings
    await allocation.put("/v1/stock", json={"levels": [{"sku": "A", "node": "WH1", "on_hand": 5}]})
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS), [
        order_placed("o-web", [("1", "A", 1)], channel="web-eu"),
        order_placed("o-market", [("1", "A", 1)], channel="marketplace")])
    await allocation_results(settings, lambda latest: {"o-web", "o-market"} <= set(latest))

    web = test_issuer().bearer("conn-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])
    own = await allocation.get("/v1/reservations", params={"order_id": "o-web"}, headers=web)
    assert own.status_code == 200 and own.json()["channel"] == "web-eu"
    # Another channel's order is not found, exactly like an unknown one: a connector learns nothing of it.
    other = await allocation.get("/v1/reservations", params={"order_id": "o-market"}, headers=web)
    unknown = await allocation.get("/v1/reservations", params={"order_id": "o-none"}, headers=web)
    assert other.status_code == unknown.status_code == 404
    no_channels = test_issuer().bearer("conn-none", CONNECTOR, client="connector-none")
    assert (await allocation.get("/v1/reservations", params={"order_id": "o-web"}, headers=no_channels)
            ).status_code == 404
    # Staff read every channel's orders.
    staff = test_issuer().bearer("cs-ana", CUSTOMER_SERVICE)
    assert (await allocation.get("/v1/reservations", params={"order_id": "o-market"}, headers=staff)
            ).json()["channel"] == "marketplace"


async def test_the_openapi_document_names_the_roles_of_every_operation(allocation):
    paths = (await allocation.get("/openapi.json", headers=NO_TOKEN)).json()["paths"]
    roles = {(method.upper(), path): operation["security"] for path, operations in paths.items()
             for method, operation in operations.items() if path.startswith("/v1/")}
    staff = sorted(STAFF_ROLES)
    assert roles == {
        ("PUT", "/v1/stock"): [{"oidc": [ADMIN]}],
        ("GET", "/v1/availability"): [{"oidc": sorted({CONNECTOR, *staff})}],
        ("GET", "/v1/reservations"): [{"oidc": sorted({CONNECTOR, *staff})}],
        ("GET", "/v1/atp/{sku}"): [{"oidc": sorted({CONNECTOR, *staff})}],
        ("POST", "/v1/soft-reservations"): [{"oidc": [CONNECTOR, CUSTOMER_SERVICE, SUPERVISOR]}],
        ("GET", "/v1/soft-reservations/{reservation_id}"): [{"oidc": [CONNECTOR, CUSTOMER_SERVICE, SUPERVISOR]}],
        ("DELETE", "/v1/soft-reservations/{reservation_id}"): [{"oidc": [CONNECTOR, CUSTOMER_SERVICE, SUPERVISOR]}],
        ("GET", "/v1/channels/{channel}/rules"): [{"oidc": staff}],
        ("PUT", "/v1/channels/{channel}/rules"): [{"oidc": [ADMIN]}],
        ("GET", "/v1/exceptions"): [{"oidc": staff}],
        ("GET", "/v1/reconciliation"): [{"oidc": [AUDITOR, SUPERVISOR]}],
        ("GET", "/v1/dead-letters"): [{"oidc": [AUDITOR, SUPERVISOR]}],  # every service's (ecomops_common.dead_letters)
        ("POST", "/v1/dead-letters/{dlq_topic}/{partition}/{offset}/redrive"): [{"oidc": [SUPERVISOR]}],
    }
