"""Who may call the returns service: every route takes the issuer's token and names its roles; a connector acts for
its own channels only; who did something is the token's subject, never a request field; a write-off above a value
waits for a supervisor who did not grade the units; the public request route is rate limited per client."""

import json
import re
from datetime import UTC, datetime

import pytest

from ecomops_common.auth import (
    AUDITOR,
    CONNECTOR,
    CUSTOMER_SERVICE,
    INSPECTOR,
    REFUND_APPROVER,
    SUPERVISOR,
    WAREHOUSE_OPERATOR,
)
from ecomops_common.contracts import RETURNS_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.warehouse import ReturnReceived
from ecomops_common.envelope import new_event
from ecomops_common.testing.plugin import consume_until, eventually, produce_events, serving
from returns_service.bootstrap import build_app
from returns_service.settings import ReturnsSettings

from .conftest import as_, sold_and_delivered

pytestmark = pytest.mark.integration


def web_connector() -> dict[str, str]:
    return as_("svc-connector-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])


def marketplace_connector() -> dict[str, str]:
    return as_("svc-connector-mp", CONNECTOR, client="connector-marketplace", channels=["marketplace-de"])


def request(channel: str = "web-eu", request_id: str = "req-1", order_id: str = "o-1") -> dict:
    return {"channel": channel, "request_id": request_id, "order_id": order_id, "reason": "changed_mind",
            "lines": [{"sku": "SHIRT", "quantity": 1}]}


async def test_every_route_refuses_a_caller_without_a_valid_token(settings_for):
    app = build_app(settings_for(ReturnsSettings))
    async with serving(app, headers={}) as anonymous:
        routes = [(method.upper(), re.sub(r"{\w+}", "x", path))
                  for path, operations in app.openapi()["paths"].items() if path.startswith("/v1")
                  for method in operations]
        assert len(routes) == 26  # with the dead-letter routes every service has; a SKU's vendor is the catalog's
        for method, path in routes:
            answer = await anonymous.request(method, path, json={})
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
        forged = await anonymous.get("/v1/returns", params={"queue": "awaiting_receipt"},
                                     headers={"authorization": "Bearer not-a-token"})
        assert forged.status_code == 401 and forged.json()["detail"].startswith("token refused")
        assert (await anonymous.get("/healthz")).status_code == 200


async def test_each_route_takes_its_roles_and_records_the_tokens_subject(returns):
    queue = {"queue": "awaiting_receipt"}
    for reader in (as_("aud", AUDITOR), as_("ian", INSPECTOR), as_("cara", CUSTOMER_SERVICE)):
        assert (await returns.get("/v1/returns", params=queue, headers=reader)).status_code == 200
        assert (await returns.get("/v1/returns/cycle-times", headers=reader)).status_code == 200
        assert (await returns.get("/v1/rules/dispositions", headers=reader)).status_code == 200
    for outsider in (as_("olga", WAREHOUSE_OPERATOR), web_connector()):
        refused = await returns.get("/v1/returns", params=queue, headers=outsider)
        assert refused.status_code == 403 and "needs one of the roles" in refused.json()["detail"]
    refused = await returns.post("/v1/returns", json=request(), headers=as_("ian", INSPECTOR))
    assert refused.json()["detail"] == "needs one of the roles admin, connector, customer-service, supervisor"
    for not_inspector in (as_("rita", REFUND_APPROVER), as_("cara", CUSTOMER_SERVICE)):
        body = {"sku": "SHIRT", "quantity": 1, "grade": "A"}
        assert (await returns.post("/v1/returns/RMA-1/inspections", json=body,
                                   headers=not_inspector)).status_code == 403
    write_off = "/v1/returns/RMA-1/inspections/RMA-1-I1/write-off/approve"
    assert (await returns.post(write_off, json={}, headers=as_("rita", REFUND_APPROVER))).status_code == 403

    # Rules: admins only, recorded as changed by the token's subject (an x-actor header changes nothing).
    policy = {"return_window_days": 14}
    by_supervisor = await returns.put("/v1/rules/return-policies/web-eu", json=policy, headers=as_("sam", SUPERVISOR))
    assert by_supervisor.status_code == 403
    stored = await returns.put("/v1/rules/return-policies/web-eu", json=policy,
                               headers={**as_("ada", "admin"), "x-actor": "somebody-else"})
    assert (stored.status_code, stored.json()["updated_by"]) == (200, "ada")
    # Roles are the issuer's: this service keeps no staff table that could grant them.
    assert (await returns.put("/v1/staff/sam", json={"roles": ["refund_approver"]})).status_code == 404


async def test_a_connector_requests_and_reads_returns_of_its_own_channels_only(returns):
    await sold_and_delivered(returns, "o-1", [("1", "SHIRT", 2)])
    other_channel = await returns.post("/v1/returns", json=request(), headers=marketplace_connector())
    assert (other_channel.status_code, other_channel.json()["reason"]) == (403, "channel")
    # Its own channel named, another channel's order: no order of that channel has this id.
    foreign_order = await returns.post("/v1/returns", json=request("marketplace-de"), headers=marketplace_connector())
    assert (foreign_order.status_code, foreign_order.json()["detail"][0]["type"]) == (422, "unknown_order")

    created = await returns.post("/v1/returns", json=request(), headers=web_connector())
    assert created.status_code == 201, created.text
    rma = created.json()
    assert (rma["timeline"][0]["stage"], rma["timeline"][0]["actor"]) == ("authorized", "svc-connector-web")
    assert (await returns.get(f"/v1/returns/{rma['id']}", headers=web_connector())).status_code == 200
    assert (await returns.get(f"/v1/returns/{rma['id']}", headers=marketplace_connector())).status_code == 404
    assert (await returns.get(f"/v1/returns/{rma['id']}", headers=as_("cara", CUSTOMER_SERVICE))).status_code == 200


async def test_return_requests_are_rate_limited_per_client(settings_for):
    async with serving(build_app(settings_for(ReturnsSettings, rate_limit_per_client="2/minute"))) as returns:
        for _ in range(2):  # refused (no such order), but counted
            assert (await returns.post("/v1/returns", json=request(), headers=web_connector())).status_code == 422
        limited = await returns.post("/v1/returns", json=request(), headers=web_connector())
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        other_client = await returns.post("/v1/returns", json=request(), headers=as_("cara", CUSTOMER_SERVICE))
        assert other_client.status_code == 422


async def test_a_write_off_above_the_value_waits_for_a_supervisor_who_did_not_grade_it(settings_for):
    async with serving(build_app(settings_for(ReturnsSettings, write_off_approval_value="5"))) as returns:
        settings = returns.settings
        await sold_and_delivered(returns, "o-1", [("1", "SHIRT", 2)])
        created = await returns.post("/v1/returns", json=request(), headers=as_("cara", CUSTOMER_SERVICE))
        rma_id = created.json()["id"]
        await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), [
            new_event("ReturnReceived", 1, "warehouse", "return", rma_id, ReturnReceived(
                rma_id=rma_id, node="BER1", sku="SHIRT", quantity=1, condition="damaged",
                received_at=datetime.now(UTC)))])

        async def received() -> bool:
            return (await returns.get(f"/v1/returns/{rma_id}")).json()["status"] == "received"

        await eventually(received)
        inspection = {"sku": "SHIRT", "quantity": 1, "grade": "D"}
        inspector = as_("ian", INSPECTOR, SUPERVISOR)  # may supervise, but not their own grading
        named = await returns.post(f"/v1/returns/{rma_id}/inspections", json={**inspection, "inspector": "olga"},
                                   headers=inspector)
        assert (named.status_code, named.json()["detail"][0]["loc"]) == (422, ["body", "inspector"])
        graded = await returns.post(f"/v1/returns/{rma_id}/inspections", json=inspection, headers=inspector)
        assert graded.status_code == 200, graded.text
        [pending] = graded.json()["inspections"]
        assert (pending["inspector"], pending["disposition"], pending["write_off"]) == ("ian", "scrap",
                                                                                        "pending_approval")
        waiting = (await returns.get("/v1/returns", params={"queue": "awaiting_write_off_approval"})).json()
        assert [item["id"] for item in waiting] == [rma_id]

        approve = f"/v1/returns/{rma_id}/inspections/{pending['id']}/write-off/approve"
        own = await returns.post(approve, json={}, headers=inspector)
        assert (own.status_code, own.json()["reason"]) == (403, "segregation_of_duties")
        approved = await returns.post(approve, json={"note": "crushed"}, headers=as_("sam", SUPERVISOR))
        assert approved.status_code == 200, approved.text
        assert approved.json()["inspections"][0]["decided_by"] == "sam"
        actors = [(step["stage"], step["actor"]) for step in approved.json()["timeline"]]
        assert [("authorized", "cara"), ("inspected", "ian"), ("write_off_pending_approval", "policy"),
                ("write_off_approved", "sam")] == [a for a in actors if a[0] in (
                    "authorized", "inspected", "write_off_pending_approval", "write_off_approved")]
        assert not (await returns.get("/v1/returns", params={"queue": "awaiting_write_off_approval"})).json()

        records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(RETURNS_EVENTS), lambda rs: any(
            dict(r.headers)["event_type"] == b"ReturnDispositionDecided" for r in rs))
        [decided] = [json.loads(r.value)["payload"] for r in records
                     if dict(r.headers)["event_type"] == b"ReturnDispositionDecided"]
        assert (decided["disposition"], decided["quantity"], decided["grade"]) == ("scrap", 1, "D")
