"""The ops console on the real database and broker: pages for a signed-in person (a session row, or a sign-in at
the real identity provider: Keycloak with deploy/keycloak/ecomops-realm.json), refusals as pages (no session ->
sign in, a role missing -> 403, a forged form -> 403, bad parameters -> 4xx), inbox actions through forms.

The other services the console reads (warehouse, finance) answer through an httpx transport here, which checks
that the console calls them with the person's own token; the identity provider is never stood in for."""

import base64
import html
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from control_service.bootstrap import build_app
from control_service.domain.inbox import OpenItem
from control_service.domain.kpis import KPIS
from control_service.service_layer.actions import ServiceClient
from control_service.service_layer.console_sessions import SESSION_COOKIE
from control_service.settings import ControlSettings
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, serving

from .conftest import order_story, publish, refund_paid, stock_disagreement

pytestmark = pytest.mark.integration
CONSOLE = "http://127.0.0.1:8006"  # the console's public address: a redirect URI of ecomops-console
FINANCE_READERS = {"finance-clerk", "auditor", "admin"}  # the finance service's report readers


class OtherServices:
    """The warehouse and finance APIs as the console sees them, recording who called."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        claims = jwt.decode(request.headers["authorization"].removeprefix("Bearer "),
                            options={"verify_signature": False})
        roles = set(claims["realm_access"]["roles"])
        path = request.url.path
        if request.url.host == "finance.test":
            if not roles & FINANCE_READERS:
                return httpx.Response(403, json={"detail": "needs one of the roles admin, auditor, finance-clerk"})
            return httpx.Response(200, json={
                "/v1/reports/trial-balance": {"from": "2026-11-01", "to": "2026-12-01", "totals": [
                    {"currency": "EUR", "debits": "10.00", "credits": "10.00", "balanced": True}], "accounts": [
                    {"account": "2100", "name": "Refunds payable", "type": "liability", "currency": "EUR",
                     "opening": "0.00", "debits": "10.00", "credits": "10.00", "closing": "0.00"}]},
                "/v1/reports/return-liability": {"approved_not_refunded": [], "authorized_not_received": [],
                                                 "totals": []},
                "/v1/reports/refund-leakage": {"over_policy": [], "duplicate_attempts": [], "fees_not_charged": []},
                "/v1/reports/return-margin": [{"reason": "size_fit", "currency": "EUR", "refunds": "10.00",
                                               "fees_kept": "0.00", "write_offs": "0.00",
                                               "recovered_value": "10.00", "freight": "0.00",
                                               "margin_impact": "0.00"}],
            }[path])
        if not roles & {"warehouse-operator", "supervisor", "auditor", "admin"}:
            return httpx.Response(403, json={"detail": "needs one of the roles admin, auditor, supervisor, "
                                                       "warehouse-operator"})
        if path == "/v1/stock":
            return httpx.Response(200, json=[{"sku": "SKU-A", "node": "WH1", "location": "A-01-1", "status": "sellable",
                                              "lot": "", "serial": "", "expiry": "", "units": 5}])
        return httpx.Response(200, json=[
            {"id": 7, "sku": "SKU-A", "quantity": 5, "from_node": None, "from_location": None, "from_status": None,
             "to_node": "WH1", "to_location": "A-01-1", "to_status": "sellable", "reason": "receipt",
             "reference": "PO-1", "actor": "olga", "scan_id": None, "at": "2026-11-20T10:00:00+00:00"},
            {"id": 8, "sku": "SKU-A", "quantity": 1, "from_node": "WH9", "from_location": "B-1", "from_status":
             "sellable", "to_node": None, "to_location": None, "to_status": None, "reason": "ship",
             "reference": None, "actor": "olga", "scan_id": None, "at": "2026-11-20T11:00:00+00:00"}])


@pytest.fixture
async def console(settings_for):
    """The control service with the console, its warehouse and finance answering through OtherServices."""
    settings = settings_for(ControlSettings, warehouse_url="http://warehouse.test", finance_url="http://finance.test",
                            alert_interval_s=0.5)
    app = build_app(settings)
    others = OtherServices()
    app.state.services = ServiceClient(settings, transport=httpx.MockTransport(others))
    async with serving(app, headers={}) as client:
        client.others = others
        yield client


class Person:
    """A signed-in person's cookie and csrf token."""

    def __init__(self, session_id: str, csrf: str, access_token: str) -> None:
        self.session_id, self.csrf, self.access_token = session_id, csrf, access_token

    @property
    def headers(self) -> dict[str, str]:
        return {"cookie": f"{SESSION_COOKIE}={self.session_id}"}


async def signed_in(client, subject: str, *roles: str, expires_in: timedelta = timedelta(hours=1)) -> Person:
    """A console session as a sign-in starts it, with an access token of the issuer the service trusts."""
    now = datetime.now(UTC)
    person = Person(secrets.token_urlsafe(24), secrets.token_urlsafe(24), test_issuer().token(subject, *roles))
    async with client.unit_of_work() as uow:
        await uow.read_model.add_console_session({
            "session_id": person.session_id, "subject": subject, "name": subject, "roles": json.dumps(roles),
            "access_token": person.access_token, "refresh_token": None, "id_token": None,
            "csrf_token": person.csrf, "access_expires_at": now + timedelta(hours=1),
            "expires_at": now + expires_in}, now)
        await uow.commit()
    return person


async def open_items(client, *items: OpenItem) -> None:
    async with client.unit_of_work() as uow:
        await uow.projection.open_items(list(items))
        await uow.commit()


def acknowledgeable(item_id: str, order_id: str = "o-1") -> OpenItem:
    since = datetime.now(UTC) - timedelta(hours=6)
    return OpenItem(item_id, "order_stuck", since, since, "picking since this morning", {"order_id": order_id},
                    order_id=order_id, node="WH1", channel="web-eu")


async def item_status(client, item_id: str) -> str:
    async with client.unit_of_work() as uow:
        return (await uow.read_model.inbox_item(item_id))["status"]


def tiles(page: str) -> dict[str, str]:
    """The overview's KPI tiles: data-kpi -> the text of their `value` element."""
    return dict(re.findall(r'data-kpi="([a-z_]+)"[^>]*>\s*<span class="label">[^<]*</span>\s*'
                           r'<span class="value">([^<]*)</span>', page))


def is_html_page(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/html") and "<!doctype html>" in response.text


async def test_without_a_session_every_page_sends_to_sign_in(console):
    expired = await signed_in(console, "sam", "supervisor", expires_in=timedelta(seconds=-1))
    for headers in ({}, {"cookie": f"{SESSION_COOKIE}=forged"}, {"cookie": f"{SESSION_COOKIE}={'x' * 500}"},
                    expired.headers):
        response = await console.get("/console/inbox?kind=order_hold", headers=headers)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?next=%2Fconsole%2Finbox%3Fkind%3Dorder_hold"
    assert (await console.get("/console")).headers["location"] == "/console/"
    posted = await console.post("/console/inbox/bulk", data={"action": "acknowledge"})
    assert (posted.status_code, posted.headers["location"]) == (303, "/console/login?next=%2Fconsole%2F")
    # with the test issuer (no authorization endpoint) signing in cannot start: a page says so, not a 500
    login = await console.get("/console/login?next=/console/inbox")
    assert login.status_code == 503 and is_html_page(login) and "authorization" in login.text


async def test_a_supervisor_sees_every_page(console):
    settings = console.settings
    story = order_story("o-1", rma_id="r-1")
    await publish(settings, story)
    await publish(settings, stock_disagreement())
    await publish(settings, refund_paid("o-1", "r-1"))
    events = sum(len(envelopes) for envelopes in story.values()) + 3

    async def projected() -> bool:
        async with console.unit_of_work() as uow:
            return len(await uow.read_model.timeline("o-1")) == events

    await eventually(projected, timeout=60)
    sam = await signed_in(console, "sam", "supervisor")

    async def drift_open() -> bool:  # the stock levels come on topics of their own, read by consumers of their own
        page = await console.get("/console/?days=30", headers=sam.headers)
        return tiles(page.text).get("open_exceptions", "").startswith("1 / ")

    await eventually(drift_open, timeout=60)
    overview = await console.get("/console/?days=30", headers=sam.headers)
    assert overview.status_code == 200 and is_html_page(overview)
    assert 'id="user-name">sam<' in overview.text and 'data-roles="supervisor"' in overview.text
    shown = tiles(overview.text)
    assert set(shown) == {"orders_placed", "order_release_cycle_time", "fill_rate", "backorder_rate",
                          "cancellation_rate", "split_shipment_rate", "order_cycle_time", "delivery_performance",
                          "return_rate", "refund_cycle_time", "pending_return_liability", "inventory_accuracy",
                          "open_exceptions"}
    assert (shown["orders_placed"], shown["fill_rate"], shown["order_release_cycle_time"],
            shown["order_cycle_time"], shown["return_rate"], shown["refund_cycle_time"]) == (
        "1", "66.7 %", "50.0 min", "2.0 h", "50.0 %", "84.0 h")
    assert shown["open_exceptions"].startswith("1 / ")  # the stock disagreement
    assert overview.text.count("<svg") == 1 and 'data-series="placed"' in overview.text
    assert overview.headers["content-security-policy"].startswith("default-src 'none'")
    assert overview.headers["cache-control"] == "no-store"

    order = await console.get("/console/orders/o-1", headers=sam.headers)
    assert order.status_code == 200
    event_types = re.findall(r'data-event-type="([A-Za-z]+)"', order.text)
    assert len(event_types) == events and event_types[0] == "OrderPlaced" and "RefundIssued" in event_types
    assert 'data-rma-id="r-1"' in order.text

    inventory = await console.get("/console/inventory?sku=SKU-A&node=WH1", headers=sam.headers)
    assert inventory.status_code == 200 and 'data-sku="SKU-A" data-node="WH1"' in inventory.text
    assert 'data-location="A-01-1"' in inventory.text
    assert 'data-movement-id="7"' in inventory.text and 'data-movement-id="8"' not in inventory.text  # another node
    assert {call.headers["authorization"] for call in console.others.calls} == {f"Bearer {sam.access_token}"}

    returns = await console.get("/console/returns?days=30", headers=sam.headers)
    assert returns.status_code == 200 and 'data-reason="size_fit"' in returns.text
    assert re.search(r'data-stage="refunded"|data-stage="refund_approved"', returns.text)

    for page in ("/console/inbox", "/console/orders", "/console/orders?q=o-1", "/console/inventory",
                 "/console/finance", "/console/kpis", *(f"/console/kpis/{name}" for name in KPIS)):
        response = await console.get(page, headers=sam.headers)
        assert response.status_code == 200 and is_html_page(response), (page, response.text[-500:])
    found = await console.get("/console/orders?q=o-1", headers=sam.headers)
    assert 'data-order-id="o-1"' in found.text
    kpi = await console.get("/console/kpis/fill_rate?from=2026-11-19T00:00&to=2026-11-30T00:00", headers=sam.headers)
    assert 'id="kpi-rows"' in kpi.text and "0.6667" in kpi.text and "<svg" in kpi.text
    assert 'href="/console/kpis/fill_rate.csv?from=2026-11-19T00%3A00&amp;to=2026-11-30T00%3A00"' in kpi.text
    csv = await console.get("/console/kpis/fill_rate.csv?from=2026-11-19T00:00&to=2026-11-30T00:00",
                            headers=sam.headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("period,channel")


async def test_finance_is_for_the_roles_allowed_money(console):
    olga = await signed_in(console, "olga", "warehouse-operator")
    refused = await console.get("/console/finance", headers=olga.headers)
    assert refused.status_code == 403 and is_html_page(refused)
    assert "finance-clerk" in refused.text and "You have: warehouse-operator" in refused.text
    assert 'id="nav-finance"' not in refused.text
    overview = await console.get("/console/", headers=olga.headers)
    assert "pending_return_liability" not in tiles(overview.text)
    money = await console.get("/console/kpis/margin_impact_of_returns", headers=olga.headers)
    assert money.status_code == 403 and "supervisor" in money.text
    assert (await console.get("/console/kpis/margin_impact_of_returns.csv", headers=olga.headers)).status_code == 403
    # the warehouse lets an operator read stock; a finance clerk it does not: a note, not an error page
    fred = await signed_in(console, "fred", "finance-clerk")
    stock = await console.get("/console/inventory?sku=SKU-A&node=WH1", headers=fred.headers)
    assert stock.status_code == 200 and "Not available to your role." in stock.text

    sam = await signed_in(console, "sam", "supervisor")
    page = await console.get("/console/finance", headers=sam.headers)
    assert page.status_code == 200 and 'data-kpi="pending_return_liability"' in page.text
    assert page.text.count("Not available to your role.") == 4  # the finance service's reports are not a supervisor's
    page = await console.get("/console/finance", headers=fred.headers)
    assert page.status_code == 200 and "Not available" not in page.text
    assert "Refunds payable" in page.text and 'data-kpi="margin_impact_of_returns"' in page.text


async def test_inbox_actions_are_forms_with_the_sessions_csrf_token(console):
    await open_items(console, acknowledgeable("order_stuck:o-1"), acknowledgeable("order_stuck:o-2", "o-2"),
                     acknowledgeable("order_stuck:o-3", "o-3"))
    sam = await signed_in(console, "sam", "supervisor")
    page = await console.get("/console/inbox?node=WH1", headers=sam.headers)
    assert page.status_code == 200
    assert re.findall(r'data-item-id="([^"]+)"', page.text) == ["order_stuck:o-1", "order_stuck:o-2",
                                                                "order_stuck:o-3"]
    assert 'action="/console/inbox/order_stuck%3Ao-1/actions/acknowledge"' in page.text
    assert 'data-action="acknowledge"' in page.text and f'name="csrf" value="{sam.csrf}"' in page.text

    act = "/console/inbox/order_stuck%3Ao-1/actions/acknowledge"
    for form in ({"csrf": "forged"}, {"back": "/console/inbox"},
                 {"csrf": (await signed_in(console, "sue", "supervisor")).csrf}):
        refused = await console.post(act, data=form, headers=sam.headers)
        assert refused.status_code == 403 and is_html_page(refused) and "csrf" in refused.text
    refused = await console.post(act, content=json.dumps({"csrf": sam.csrf}),
                                 headers={**sam.headers, "content-type": "application/json"})
    assert refused.status_code == 415
    assert await item_status(console, "order_stuck:o-1") == "open"

    done = await console.post(act, data={"csrf": sam.csrf, "back": "/console/inbox?node=WH1"}, headers=sam.headers)
    assert (done.status_code, done.headers["location"]) == (303, "/console/inbox?node=WH1")
    assert await item_status(console, "order_stuck:o-1") == "closed"
    flash = done.cookies.get("ecomops_console_flash")
    shown = await console.get("/console/inbox?node=WH1",
                              headers={"cookie": f"{sam.headers['cookie']}; ecomops_console_flash={flash}"})
    assert 'id="flash" role="status" data-kind="ok"' in shown.text and "order_stuck:o-1: acknowledged" in shown.text
    assert 'data-item-id="order_stuck:o-1"' not in shown.text
    again = await console.post(act, data={"csrf": sam.csrf, "back": "https://evil.example/"}, headers=sam.headers)
    assert again.headers["location"] == "/console/inbox"
    assert "refused (409)" in _flash_of(again)

    bulk = await console.post("/console/inbox/bulk", headers=sam.headers, data={
        "csrf": sam.csrf, "action": "acknowledge", "item_ids": ["order_stuck:o-2", "order_stuck:o-3", "nope"]})
    assert bulk.status_code == 303 and "2 of 3 done" in _flash_of(bulk)
    assert [await item_status(console, f"order_stuck:o-{n}") for n in (2, 3)] == ["closed", "closed"]
    not_bulk = await console.post("/console/inbox/bulk", headers=sam.headers,
                                  data={"csrf": sam.csrf, "action": "cancel_order", "item_ids": ["order_stuck:o-2"]})
    assert not_bulk.status_code == 422 and "action" in not_bulk.text
    # an inspector's inbox shows no order items, and acting on one finds nothing
    ian = await signed_in(console, "ian", "inspector")
    await open_items(console, acknowledgeable("order_stuck:o-4", "o-4"))
    assert 'data-item-id' not in (await console.get("/console/inbox", headers=ian.headers)).text
    hidden = await console.post("/console/inbox/order_stuck%3Ao-4/actions/acknowledge", data={"csrf": ian.csrf},
                                headers=ian.headers)
    assert "refused (404)" in _flash_of(hidden) and await item_status(console, "order_stuck:o-4") == "open"


def _flash_of(response: httpx.Response) -> str:
    return json.loads(base64.urlsafe_b64decode(response.cookies["ecomops_console_flash"]))["message"]


async def test_customer_ids_are_masked_and_searchable_only_for_personal_data_roles(console):
    story = order_story("o-9")
    await publish(console.settings, story)

    async def placed() -> bool:  # its OrderPlaced projected (the other topics' consumers may come first)
        async with console.unit_of_work() as uow:
            order = await uow.read_model.order("o-9")
            return order is not None and order["customer_id"] is not None

    await eventually(placed, timeout=60)
    sam, cara = await signed_in(console, "sam", "supervisor"), await signed_in(console, "cara", "customer-service")
    assert 'data-order-id="o-9"' not in (await console.get("/console/orders?q=c-42", headers=sam.headers)).text
    listed = await console.get("/console/orders", headers=sam.headers)
    assert "c***" in listed.text and "c-42" not in listed.text
    assert "c-42" not in (await console.get("/console/orders/o-9", headers=sam.headers)).text
    found = await console.get("/console/orders?q=c-42", headers=cara.headers)
    assert 'data-order-id="o-9"' in found.text and "c-42" in found.text


BAD_PARAMETERS = [
    "/console/?days=0", "/console/?days=abc", "/console/?days=100000000000000000000", "/console/inbox?page=0",
    "/console/inbox?page=-1", "/console/inbox?page_size=101", "/console/inbox?kind=nope",
    "/console/inbox?min_age_hours=nan", "/console/inbox?min_age_hours=-1", "/console/inbox?node=%00",
    "/console/inbox?node=" + "x" * 65, "/console/inbox?channel=a%20b", "/console/orders?q=" + "q" * 129,
    "/console/orders?q=a%00b", "/console/orders/" + "o" * 65, "/console/orders/nope", "/console/orders/%00",
    "/console/inventory?page=1.5", "/console/inventory?sku=%C0", "/console/returns?days=366",
    "/console/kpis/nope", "/console/kpis/fill_rate?from=yesterday", "/console/kpis/fill_rate?grain=year",
    "/console/kpis/fill_rate?from=2026-11-20T00:00&to=2026-11-19T00:00", "/console/kpis/fill_rate?carrier=dhl",
    "/console/kpis/fill_rate?from=0001-01-01T00:00&to=9999-12-31T00:00", "/console/kpis/return_rate?by=colour",
    "/console/kpis/fill_rate?page=999999999", "/console/kpis/nope.csv", "/console/kpis/fill_rate.csv?grain=x",
    "/console/static/nope.css", "/console/login?next=" + "n" * 501, "/console/callback?state=" + "s" * 65,
    "/console/inbox?node=&channel=%E2%82%AC", "/console/inbox?kind=&node=%FF%FE", "/console/orders?q=&status=%00",
    "/console/callback?error=access_denied&error_description=refused", "/console/callback?code=c&state=unknown",
    "/console/callback?code=c"]


async def test_bad_parameters_are_pages_naming_the_field_never_500(console):
    sam = await signed_in(console, "sam", "supervisor")
    for page in BAD_PARAMETERS:
        response = await console.get(page, headers=sam.headers)
        assert 400 <= response.status_code < 500 and is_html_page(response), (page, response.status_code,
                                                                                response.text[-300:])
    named = {"/console/inbox?page=0": "page:", "/console/inbox?kind=nope": "kind:",
             "/console/kpis/fill_rate?carrier=dhl": "carrier:", "/console/?days=abc": "days:",
             "/console/kpis/fill_rate?grain=year": "grain:", "/console/orders/nope": "order_id:"}
    for page, field in named.items():
        assert field in (await console.get(page, headers=sam.headers)).text, page
    # an empty field of a filter form is no filter
    assert (await console.get("/console/inbox?kind=&node=&min_age_hours=", headers=sam.headers)).status_code == 200
    found = await console.get("/console/orders?q=caf%C3%A9&channel=&status=", headers=sam.headers)
    assert found.status_code == 200 and 'value="café"' in found.text


async def test_signing_out_ends_the_session(console):
    sam = await signed_in(console, "sam", "supervisor")
    assert (await console.post("/console/logout", data={"csrf": "x"}, headers=sam.headers)).status_code == 403
    out = await console.post("/console/logout", data={"csrf": sam.csrf}, headers=sam.headers)
    # the test issuer has no end-session endpoint: back to the console, which asks to sign in again
    assert (out.status_code, out.headers["location"]) == (303, "/console/")
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"] and "Path=/console" in out.headers["set-cookie"]
    assert (await console.get("/console/", headers=sam.headers)).status_code == 303
    assert (await console.get("/console/static/console.css")).headers["content-type"].startswith("text/css")


# --- the real identity provider -------------------------------------------------------------------------------


@pytest.fixture
async def console_at_provider(settings_for, oidc_issuer):
    """The control service trusting the real provider, reached at its public address (the redirect URI)."""
    settings = settings_for(ControlSettings, oidc_issuer=oidc_issuer, public_url=CONSOLE,
                            warehouse_url="http://warehouse.test", finance_url="http://finance.test")
    app = build_app(settings)
    app.state.services = ServiceClient(settings, transport=httpx.MockTransport(OtherServices()))
    async with serving(app, headers={}) as client:
        yield client


async def sign_in_at_provider(console, username: str, next_path: str) -> tuple[str, httpx.Response, str]:
    """What a browser does: the console sends it to the provider's login form, the person fills it in, the
    provider sends the browser back to the console's callback; answers the session id, the callback's answer and
    its query (code and state)."""
    start = await console.get("/console/login", params={"next": next_path})
    assert start.status_code == 303, start.text
    authorize = urlsplit(start.headers["location"])
    query = parse_qs(authorize.query)
    assert (query["code_challenge_method"], query["client_id"], query["redirect_uri"]) == (
        ["S256"], ["ecomops-console"], [f"{CONSOLE}/console/callback"])
    async with httpx.AsyncClient(timeout=30) as browser:
        form = await browser.get(start.headers["location"])
        assert form.status_code == 200, form.text[:500]
        action = html.unescape(re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', form.text).group(1))
        # The provider's cookies are Secure: a browser sends them to http://127.0.0.1 (a secure context), httpx not
        cookies = "; ".join(cookie.split(";", 1)[0] for cookie in form.headers.get_list("set-cookie"))
        login = await browser.post(action, data={"username": username, "password": "demo", "credentialId": ""},
                                   headers={"cookie": cookies})
    assert login.status_code == 302, login.text[:500]
    back = urlsplit(login.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{CONSOLE}/console/callback"
    callback = await console.get(f"/console/callback?{back.query}")
    return callback.cookies.get(SESSION_COOKIE), callback, back.query


async def test_signing_in_at_the_real_provider(console_at_provider, oidc_issuer):
    console = console_at_provider
    session_id, callback, code_and_state = await sign_in_at_provider(console, "sam.supervisor",
                                                                     "/console/inbox?kind=order_hold")
    assert (callback.status_code, callback.headers["location"]) == (303, "/console/inbox?kind=order_hold")
    cookie = callback.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie and "Secure" not in cookie
    sam = {"cookie": f"{SESSION_COOKIE}={session_id}"}
    inbox = await console.get("/console/inbox?kind=order_hold", headers=sam)
    assert inbox.status_code == 200 and 'id="user-name">sam.supervisor<' in inbox.text
    assert 'data-roles="supervisor"' in inbox.text
    replayed = await console.get(f"/console/callback?{code_and_state}")
    assert replayed.status_code == 400 and "unknown or expired" in replayed.text

    # an expired access token is renewed with the refresh token, without a new sign-in
    async with console.unit_of_work() as uow:
        before = await uow.read_model.console_session(session_id, datetime.now(UTC))
        await uow.read_model.update_console_session(session_id, {"access_expires_at": datetime.now(UTC)})
        await uow.commit()
    assert (await console.get("/console/", headers=sam)).status_code == 200
    async with console.unit_of_work() as uow:
        after = await uow.read_model.console_session(session_id, datetime.now(UTC))
    assert after["access_token"] != before["access_token"] and after["access_expires_at"] > datetime.now(UTC)

    olga_id, _, _ = await sign_in_at_provider(console, "olga.operator", "/console/finance")
    olga = {"cookie": f"{SESSION_COOKIE}={olga_id}"}
    refused = await console.get("/console/finance", headers=olga)
    assert refused.status_code == 403 and "You have: warehouse-operator" in refused.text
    assert (await console.get("/console/inventory", headers=olga)).status_code == 200

    csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text).group(1)
    out = await console.post("/console/logout", data={"csrf": csrf}, headers=sam)
    assert out.status_code == 303
    end = urlsplit(out.headers["location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{oidc_issuer}/protocol/openid-connect/logout"
    assert parse_qs(end.query)["post_logout_redirect_uri"] == [f"{CONSOLE}/console/"]
    assert parse_qs(end.query)["id_token_hint"][0].count(".") == 2
    assert oidc_issuer.split("/realms")[0] in out.headers.get("content-security-policy", "")
    assert (await console.get("/console/", headers=sam)).status_code == 303
