"""The ops console: pages rendered on the server (Jinja2, entrypoints/templates), a stylesheet and a few lines of
script served from /console/static, charts as inline SVG (charts.py). People sign in at the OpenID Connect provider
(service_layer/console_sessions.py); the console reads the read model and acts through the owning services with
the person's own token, with the same checks as the JSON API (entrypoints/http.py).

Every page answers HTML, errors included: no session -> 303 to /console/login?next=<page>; a role the page needs
-> 403 naming it; a bad parameter -> 422 naming it; every form carries the session's csrf token (403 without)."""

import asyncio
import base64
import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from control_service.domain.inbox import KINDS, kinds_for
from control_service.domain.kpis import KPIS, Window
from control_service.entrypoints.charts import bar_chart, line_chart
from control_service.entrypoints.http import (
    FINANCE_VIEWERS,
    MONEY_KPIS,
    Name,
    Slas,
    act,
    as_csv,
    compute_kpi,
    inbox_page,
    order_view,
    shown_order,
    supplier_kpis,
)
from control_service.service_layer.actions import Outcome, ServiceClient
from control_service.service_layer.console_sessions import (
    HOME,
    SESSION_COOKIE,
    ConsoleSession,
    OidcProvider,
    ProviderUnavailable,
    SignInFailed,
    csrf_matches,
    current_session,
    end_session,
    finish_sign_in,
    safe_next,
    start_sign_in,
)
from control_service.service_layer.unit_of_work import ControlUnitOfWork
from control_service.settings import ControlSettings
from ecomops_common.auth import ADMIN, STAFF_ROLES
from ecomops_common.http import entered_unit_of_work
from ecomops_common.resilience import is_transient

HERE = Path(__file__).parent
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript"}
# The assets' URLs carry their content's hash: browsers keep them for a day and fetch a changed one at once.
STATIC_VERSION = hashlib.sha256(b"".join((HERE / "static" / name).read_bytes()
                                         for name in STATIC_FILES)).hexdigest()[:12]
FLASH_COOKIE = "ecomops_console_flash"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
SHOWN_REPORT_ROWS = 20  # rows per finance report section (the finance service's API has them all)
CHART_SERIES = 6  # lines per KPI chart: the ones with the most rows
UnitOfWork = Annotated[ControlUnitOfWork, Depends(entered_unit_of_work)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def now() -> datetime:
    return datetime.now(UTC)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


# --- formatting --------------------------------------------------------------------------------------------------


def percent(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f} %"


def number(value: Any, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is None and (isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral())):
        return f"{int(value):,}"
    return f"{float(value):,.{2 if digits is None else digits}f}"


def duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return "—" if value is None else str(value)


def cell(value: Any) -> str:
    """A table cell of any column: times in UTC, decimals as they are, nothing as a dash."""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "—" if value is None else str(value)


def iso_time(value: Any) -> str:
    """A time another service answered as ISO 8601, shown like the console's own."""
    try:
        return when(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return cell(value)


def segment(value: Any) -> str:
    """A value as one path segment of a URL."""
    return quote(str(value), safe="")


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None: removed); for pagers and sort links."""
    query = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return request.url.path + ("?" + urlencode(query) if query else "")


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(percent=percent, number=number, duration=duration, when=when, cell=cell,
                             iso_time=iso_time, segment=segment)
templates.env.globals.update(url_with=url_with, static_version=STATIC_VERSION, STAFF_ROLES=STAFF_ROLES)


# --- pages, errors and security headers -----------------------------------------------------------------------------


def settings_of(request: Request) -> ControlSettings:
    return request.app.state.runtime.settings


def content_security_policy(settings: ControlSettings) -> str:
    # Signing out redirects a form's answer to the provider: form-action must allow its origin.
    issuer = urlsplit(settings.oidc_issuer or "")
    provider = f" {issuer.scheme}://{issuer.netloc}" if issuer.netloc else ""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"form-action 'self'{provider}; frame-ancestors 'none'; base-uri 'none'")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the signed-in person's header and the message of the last action (once)."""
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    flash = _read_flash(request.cookies.get(FLASH_COOKIE))
    response = templates.TemplateResponse(request, template, {
        "user": session, "nav": _nav(session), "flash": flash, "current": request.url.path,
        "shown_roles": sorted(session.roles & STAFF_ROLES) if session else [], **context}, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/console")
    return response


def _nav(session: ConsoleSession | None) -> list[tuple[str, str]]:
    if session is None:
        return []
    links = [("/console/", "Overview"), ("/console/inbox", "Inbox"), ("/console/orders", "Orders"),
             ("/console/inventory", "Inventory"), ("/console/returns", "Returns")]
    if session.has_role(*FINANCE_VIEWERS):
        links.append(("/console/finance", "Finance"))
    return [*links, ("/console/kpis", "KPIs")]


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Conflict", 415: "Unsupported form",
              422: "Invalid input", 503: "Temporarily unavailable"}
    return render(request, "error.html", status_code, status=status_code,
                  title=titles.get(status_code, "Error"), message=message)


def _validation_message(error: RequestValidationError) -> str:
    problems = []
    for problem in error.errors()[:5]:
        field = problem["loc"][-1] if problem.get("loc") else "request"
        problems.append(f"{field}: {problem.get('msg', 'invalid')}")
    return "; ".join(problems)


def _without_blank_query(request: Request) -> None:
    """An empty filter field of a form means no filter: dropped before the parameters are validated."""
    raw = request.scope.get("query_string", b"")
    if raw and b"=&" in raw + b"&":
        # latin-1 both ways: the bytes of the values kept are passed on exactly as they came
        pairs = [(key, value) for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True,
                                                          encoding="latin-1") if value]
        request.scope["query_string"] = urlencode(pairs, encoding="latin-1").encode("latin-1")


class ConsolePage(APIRoute):
    """Console routes answer HTML whatever happens: errors as pages, no session as a redirect to sign in; and
    every answer carries the console's security headers."""

    def get_route_handler(self) -> Callable:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            _without_blank_query(request)
            try:
                response = await handle(request)
            except SignInRequired as required:
                response = RedirectResponse("/console/login?" + urlencode({"next": required.next_path}), 303)
            except RequestValidationError as invalid:
                response = error_page(request, 422, _validation_message(invalid))
            except HTTPException as refused:
                response = error_page(request, refused.status_code, str(refused.detail))
            except Exception as error:
                if not is_transient(error):
                    raise
                response = error_page(request, 503, "The console's database is not answering; try again shortly.")
            response.headers.setdefault("cache-control", "no-store")
            response.headers["content-security-policy"] = content_security_policy(settings_of(request))
            response.headers["x-content-type-options"] = "nosniff"
            response.headers["referrer-policy"] = "same-origin"
            response.headers["x-frame-options"] = "DENY"
            return response

        return page


router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsolePage)


# --- who is signed in ---------------------------------------------------------------------------------------------


def provider_of(request: Request) -> OidcProvider | None:
    """The provider of the service's issuer (None: no issuer configured, nobody can sign in)."""
    settings = settings_of(request)
    if not settings.oidc_issuer:
        return None
    provider = getattr(request.app.state, "console_provider", None)
    if provider is None:
        provider = request.app.state.console_provider = OidcProvider(
            settings.oidc_issuer, settings.oidc_console_client_id, timeout_s=settings.service_timeout_s,
            backchannel=settings.oidc_backchannel_url)
    return provider


def redirect_uri(settings: ControlSettings) -> str:
    return settings.public_url.rstrip("/") + "/console/callback"


async def signed_in(request: Request, uow: UnitOfWork) -> ConsoleSession:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    session = None
    if 0 < len(session_id) <= 64:
        settings = settings_of(request)
        session = await current_session(uow, provider_of(request), request.app.state.token_verifier, session_id,
                                        idle=timedelta(seconds=settings.session_idle_s), now=now())
    if session is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(here if request.method == "GET" else HOME)
    request.state.console_session = session
    return session


def page_for(*roles: str):
    """A page's dependency on the signed-in person having one of `roles` (admin always has)."""
    async def allowed(session: Annotated[ConsoleSession, Depends(signed_in)]) -> ConsoleSession:
        if not session.has_role(*roles):
            needed = ", ".join(sorted({ADMIN, *roles}))
            held = ", ".join(sorted(session.roles & STAFF_ROLES)) or "no console role"
            raise HTTPException(403, f"This page needs one of the roles: {needed}. You have: {held}.")
        return session

    return Depends(allowed)


Staff = Annotated[ConsoleSession, page_for(*STAFF_ROLES)]
FinanceViewer = Annotated[ConsoleSession, page_for(*FINANCE_VIEWERS)]


class Form:
    """A posted form (application/x-www-form-urlencoded): its fields, each possibly repeated."""

    MAX_FIELDS = 250

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields

    def first(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]


async def posted_form(request: Request, session: Annotated[ConsoleSession, Depends(signed_in)]) -> Form:
    """The form of a POST, once its csrf field is the session's token."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise HTTPException(415, "Forms are posted as application/x-www-form-urlencoded.")
    try:
        fields = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True,
                           max_num_fields=Form.MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, f"The form is not URL-encoded UTF-8 of at most {Form.MAX_FIELDS} fields.") from None
    if any("\x00" in key or "\x00" in value for key, value in fields):
        raise HTTPException(422, "The form contains a NUL character.")
    form = Form(fields)
    if not csrf_matches(session.csrf_token, form.first("csrf")):
        raise HTTPException(403, "The form's csrf token is not this session's: reload the page and try again.")
    return form


def services(request: Request) -> ServiceClient:
    return request.app.state.services


# --- flash messages: the outcome of an action, shown once by the page redirected to --------------------------------


def _flash(response: Response, kind: str, message: str) -> Response:
    value = base64.urlsafe_b64encode(json.dumps({"kind": kind, "message": message[:1500]}).encode()).decode()
    response.set_cookie(FLASH_COOKIE, value, max_age=60, path="/console", httponly=True, samesite="lax")
    return response


def _read_flash(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    try:
        flash = json.loads(base64.urlsafe_b64decode(value.encode()))
        return {"kind": "ok" if flash["kind"] == "ok" else "error", "message": str(flash["message"])}
    except (ValueError, KeyError, TypeError):
        return None


# --- sign-in --------------------------------------------------------------------------------------------------------


@router.get("")
async def console_root() -> RedirectResponse:
    return RedirectResponse(HOME, 303)


@router.get("/static/{name}")
async def static_file(name: Annotated[str, PathParam(max_length=32)]) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(404, f"name: no static file {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC_FILES[name],
                        headers={"cache-control": "public, max-age=86400"})


@router.get("/login")
async def login(request: Request, uow: UnitOfWork,
                next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None) -> RedirectResponse:
    """Starts signing in at the provider (authorization code with PKCE), back to `next` afterwards."""
    provider = provider_of(request)
    if provider is None:
        raise HTTPException(503, "No identity provider is configured (OIDC_ISSUER): nobody can sign in.")
    try:
        url = await start_sign_in(uow, provider, redirect_uri=redirect_uri(settings_of(request)),
                                  return_to=next_path, now=now())
    except ProviderUnavailable as unavailable:
        raise HTTPException(503, f"Signing in is not possible right now: {unavailable}.") from None
    return RedirectResponse(url, 303)


@router.get("/callback")
async def callback(request: Request, uow: UnitOfWork, code: Annotated[str | None, Query(max_length=4096)] = None,
                   state: Annotated[str | None, Query(max_length=64)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None,
                   error_description: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """The provider's answer: the code is redeemed, a session starts (a cookie), the browser goes on to `next`."""
    provider, verifier = provider_of(request), request.app.state.token_verifier
    if provider is None or verifier is None:
        raise HTTPException(503, "No identity provider is configured (OIDC_ISSUER): nobody can sign in.")
    if error:
        return error_page(request, 400, f"Signing in did not complete: {error_description or error}.")
    if not code or not state:
        raise HTTPException(400, "code and state: the identity provider's answer lacks them.")
    settings = settings_of(request)
    try:
        session, return_to = await finish_sign_in(
            uow, provider, verifier, state=state, code=code, redirect_uri=redirect_uri(settings),
            idle=timedelta(seconds=settings.session_idle_s), now=now())
    except SignInFailed as failed:
        return error_page(request, 400, f"Signing in failed: {failed}.")
    except ProviderUnavailable as unavailable:
        raise HTTPException(503, f"Signing in is not possible right now: {unavailable}.") from None
    response = RedirectResponse(return_to, 303)
    response.set_cookie(SESSION_COOKIE, session.session_id, path="/console", httponly=True, samesite="lax",
                        secure=settings.secure_cookies)
    return response


@router.post("/logout")
async def logout(request: Request, uow: UnitOfWork, session: Annotated[ConsoleSession, Depends(signed_in)],
                 _form: Annotated[Form, Depends(posted_form)]) -> RedirectResponse:
    """Ends the session here, then at the provider (its single sign-on too), which sends the browser back."""
    ended = await end_session(uow, session.session_id)
    settings = settings_of(request)
    provider = provider_of(request)
    target = await provider.end_session_url(ended.id_token if ended else None,
                                            settings.public_url.rstrip("/") + HOME) if provider else None
    response = RedirectResponse(target or HOME, 303)
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="lax",
                           secure=settings.secure_cookies)
    return response


# --- overview -----------------------------------------------------------------------------------------------------


def _tile(name: str, title: str, shown: str, raw: Any, *, link: str, hint: str = "") -> dict[str, Any]:
    return {"name": name, "title": title, "shown": shown, "raw": "" if raw is None else str(raw), "link": link,
            "hint": hint}


@router.get("/")
async def overview(request: Request, uow: UnitOfWork, user: Staff, slas: Slas,
                   days: Annotated[int, Query(ge=1, le=90, description="The KPIs' window")] = 7) -> HTMLResponse:
    at = now()
    start = at - timedelta(days=days)
    figures = await uow.read_model.headline(start, at)
    kinds = set(kinds_for(user.roles))
    backlog = [row for row in await uow.read_model.kpi("backlog_ageing", Window(start, at, "day"), {}, at,
                                                       slas=slas) if row["kind"] in kinds]
    open_items, past_sla = sum(row["open_items"] for row in backlog), sum(row["past_sla"] for row in backlog)
    window = urlencode({"from": start.strftime("%Y-%m-%dT%H:%M"), "to": at.strftime("%Y-%m-%dT%H:%M")})

    def kpi(name: str) -> str:
        return f"/console/kpis/{name}?{window}"

    tiles = [
        _tile("orders_placed", "Orders placed", number(figures["orders_placed"]), figures["orders_placed"],
              link="/console/orders"),
        _tile("order_release_cycle_time", "Release cycle p50", _minutes(figures["release_p50_minutes"]),
              figures["release_p50_minutes"], link=kpi("order_release_cycle_time"), hint="placement to release"),
        _tile("fill_rate", "Fill rate", percent(figures["fill_rate"]), figures["fill_rate"], link=kpi("fill_rate"),
              hint="at first allocation"),
        _tile("backorder_rate", "Backorder rate", percent(figures["backorder_rate"]), figures["backorder_rate"],
              link=kpi("backorder_rate")),
        _tile("cancellation_rate", "Cancellation rate", percent(figures["cancellation_rate"]),
              figures["cancellation_rate"], link=kpi("cancellation_rate")),
        _tile("split_shipment_rate", "Split-shipment rate", percent(figures["split_shipment_rate"]),
              figures["split_shipment_rate"], link=kpi("split_shipment_rate")),
        _tile("order_cycle_time", "Order cycle time p50", _hours(figures["order_cycle_p50_hours"]),
              figures["order_cycle_p50_hours"], link=kpi("order_cycle_time"), hint="placement to shipped"),
        _tile("delivery_performance", "On-time delivery", percent(figures["on_time_delivery"]),
              figures["on_time_delivery"], link=kpi("delivery_performance"), hint="parcels by the promised date"),
        _tile("return_rate", "Return rate", percent(figures["return_rate"]), figures["return_rate"],
              link=kpi("return_rate"), hint="units returned ÷ shipped"),
        _tile("refund_cycle_time", "Refund cycle p50", _hours(figures["refund_cycle_p50_hours"]),
              figures["refund_cycle_p50_hours"], link=kpi("refund_cycle_time"), hint="authorized to refunded"),
    ]
    if user.has_role(*FINANCE_VIEWERS):
        liability = await uow.read_model.kpi("pending_return_liability", Window(start, at, "day"), {}, at)
        value = _total(liability, "value")
        tiles.append(_tile("pending_return_liability", "Pending return liability", number(value, 2), value,
                           link="/console/kpis/pending_return_liability", hint="at selling prices, now"))
    tiles += [
        _tile("inventory_accuracy", "Inventory accuracy", percent(figures["inventory_accuracy"]),
              figures["inventory_accuracy"], link=kpi("inventory_accuracy"), hint="counts matching the books"),
        _tile("open_exceptions", "Open exceptions", f"{open_items:,} / {past_sla:,} past SLA", open_items,
              link="/console/inbox", hint="in your inbox"),
    ]
    daily = await uow.read_model.daily_counts(14, at)
    labels = [row["day"].strftime("%m-%d") for row in daily]
    trend = line_chart(labels, {"placed": [row["placed"] for row in daily],
                                "shipped": [row["shipped"] for row in daily],
                                "returns": [row["returns"] for row in daily]},
                       title="Orders placed, orders shipped and returns authorized per day, last 14 days (UTC)")
    return render(request, "overview.html", days=days, tiles=tiles, trend=trend, past_sla=past_sla,
                  alerts=await uow.read_model.alerts())


def _total(rows: list[dict[str, Any]], column: str) -> float:
    return round(sum(float(row[column] or 0) for row in rows), 2)


def _minutes(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.1f} min"


def _hours(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.1f} h"


# --- the exception inbox ------------------------------------------------------------------------------------------


@router.get("/inbox")
async def inbox(request: Request, uow: UnitOfWork, user: Staff, slas: Slas, kind: Name | None = None,
                node: Name | None = None, channel: Name | None = None,
                min_age_hours: Annotated[float | None, Query(ge=0, le=24 * 3650)] = None,
                escalated: bool | None = None, page: PageNumber = 1,
                page_size: PageSize = PAGE_SIZE) -> HTMLResponse:
    found = await inbox_page(uow, user.principal, slas, kind=kind, node=node, channel=channel,
                             min_age_hours=min_age_hours, escalated=escalated, page=page, page_size=page_size)
    kinds = kinds_for(user.roles)
    bulk_actions = {action.name: action.label for name in kinds for action in KINDS[name].actions if action.bulk}
    return render(request, "inbox.html", found=found, kinds=[KINDS[name] for name in kinds], kind=kind, node=node,
                  channel=channel, min_age_hours=min_age_hours, escalated=escalated, bulk_actions=bulk_actions,
                  back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                  pages=_pages(found.total, page_size))


def _pages(total: int, page_size: int) -> int:
    return max(1, math.ceil(total / page_size))


def _back(form: Form) -> str:
    back = safe_next(form.first("back"))
    return back if back != HOME else "/console/inbox"


def _outcome_message(item_id: str, action: str, outcome: Outcome) -> str:
    if outcome.ok:
        return f"{action.replace('_', ' ').capitalize()} on {item_id}: {outcome.message}."
    return f"{action.replace('_', ' ').capitalize()} on {item_id} refused ({outcome.status}): {outcome.message}"


@router.post("/inbox/{item_id}/actions/{action}")
async def act_on_item(request: Request, uow: UnitOfWork, user: Staff, form: Annotated[Form, Depends(posted_form)],
                      item_id: Annotated[str, PathParam(max_length=300)],
                      action: Annotated[str, PathParam(max_length=64)]) -> RedirectResponse:
    """Done by the owning service with the person's token (as POST /v1/inbox/{item_id}/actions/{action})."""
    note = (form.first("note") or "").strip()[:1000] or None
    outcome = await act(uow, user.principal, user.access_token, services(request), item_id, action, note)
    return _flash(RedirectResponse(_back(form), 303), "ok" if outcome.ok else "error",
                  _outcome_message(item_id, action, outcome))


@router.post("/inbox/bulk")
async def act_on_items(request: Request, uow: UnitOfWork, user: Staff,
                       form: Annotated[Form, Depends(posted_form)]) -> RedirectResponse:
    """One action on the items ticked, where nothing is decided per item (as POST /v1/inbox/actions/{action})."""
    action, item_ids = form.first("action") or "", list(dict.fromkeys(form.all("item_ids")))
    if not any(a.name == action and a.bulk for kind in KINDS.values() for a in kind.actions):
        raise HTTPException(422, f"action: {action!r} is not an action for many items at once")
    if not item_ids or len(item_ids) > MAX_PAGE_SIZE:
        return _flash(RedirectResponse(_back(form), 303), "error",
                      f"Tick between 1 and {MAX_PAGE_SIZE} items for a bulk action.")
    if any(len(item_id) > 300 for item_id in item_ids):
        raise HTTPException(422, "item_ids: an item id has at most 300 characters")
    outcomes = [(item_id, await act(uow, user.principal, user.access_token, services(request), item_id, action,
                                    None)) for item_id in item_ids]
    refused = [(item_id, outcome) for item_id, outcome in outcomes if not outcome.ok]
    message = f"{action.replace('_', ' ').capitalize()}: {len(outcomes) - len(refused)} of {len(outcomes)} done."
    if refused:
        message += " " + " ".join(_outcome_message(item_id, action, outcome) for item_id, outcome in refused[:5])
    return _flash(RedirectResponse(_back(form), 303), "error" if refused else "ok", message)


# --- orders -------------------------------------------------------------------------------------------------------


@router.get("/orders")
async def orders(request: Request, uow: UnitOfWork, user: Staff,
                 q: Annotated[str | None, Query(max_length=128)] = None, channel: Name | None = None,
                 status: Name | None = None, page: PageNumber = 1, page_size: PageSize = PAGE_SIZE) -> HTMLResponse:
    principal = user.principal
    found = await uow.read_model.orders(query=q.strip() if q else None, channel=channel, status=status,
                                        by_customer=principal.sees_personal_data, page=page, page_size=page_size)
    return render(request, "orders.html", found=found, items=[shown_order(row, principal) for row in found.items],
                  q=q, channel=channel, status=status, by_customer=principal.sees_personal_data,
                  pages=_pages(found.total, page_size))


@router.get("/orders/{order_id}")
async def order(request: Request, uow: UnitOfWork, user: Staff,
                order_id: Annotated[str, PathParam(max_length=64)]) -> HTMLResponse:
    view = await order_view(uow, user.principal, order_id)
    return render(request, "order.html", order_id=order_id, view=view)


# --- inventory ----------------------------------------------------------------------------------------------------


@router.get("/inventory")
async def inventory(request: Request, uow: UnitOfWork, user: Staff, sku: Name | None = None,
                    node: Name | None = None, page: PageNumber = 1,
                    page_size: PageSize = PAGE_SIZE) -> HTMLResponse:
    """ATP and stock by status per SKU and node; for one SKU at one node, the warehouse's locations and moves."""
    found = await uow.read_model.inventory(sku=sku, node=node, page=page, page_size=page_size)
    statuses = sorted({status for row in found.items for status in row["by_status"]})
    warehouse = None
    if sku and node:
        stock, movements = await asyncio.gather(
            services(request).get("warehouse", "/v1/stock?" + urlencode({"sku": sku, "node": node, "limit": 500}),
                                  user.access_token),
            services(request).get("warehouse", "/v1/movements?" + urlencode({"sku": sku, "limit": 100}),
                                  user.access_token))
        warehouse = {"stock": _report(stock), "movements": _report(movements, lambda moves: [
            move for move in moves if node in (move.get("from_node"), move.get("to_node"))])}
    return render(request, "inventory.html", found=found, statuses=statuses, sku=sku, node=node,
                  warehouse=warehouse, pages=_pages(found.total, page_size))


def _report(outcome: Outcome, shape: Callable[[Any], Any] = lambda detail: detail) -> dict[str, Any]:
    """What another service answered, for a page section: its data, or why there is none."""
    if outcome.ok:
        return {"data": shape(outcome.detail)}
    if outcome.status in (401, 403):
        return {"note": "Not available to your role.", "status": outcome.status}
    return {"note": f"Not available right now: {outcome.message}", "status": outcome.status}


# --- returns and finance ---------------------------------------------------------------------------------------------


@router.get("/returns")
async def returns(request: Request, uow: UnitOfWork, user: Staff,
                  days: Annotated[int, Query(ge=1, le=365)] = 30) -> HTMLResponse:
    at = now()
    pipeline = await uow.read_model.returns_pipeline(at)
    by_reason = await uow.read_model.returns_by_reason(at - timedelta(days=days), at)
    chart = bar_chart([(row["reason"], row["value"]) for row in by_reason], shown=lambda v: f"{v * 100:.1f} %",
                      title=f"Return rate by reason, last {days} days: returned units ÷ all units shipped")
    return render(request, "returns.html", pipeline=pipeline, by_reason=by_reason, chart=chart, days=days)


@router.get("/finance")
async def finance(request: Request, uow: UnitOfWork, user: FinanceViewer,
                  days: Annotated[int, Query(ge=1, le=365)] = 30) -> HTMLResponse:
    at = now()
    start = at - timedelta(days=days)
    window = Window(start, at, "day")
    liability = await uow.read_model.kpi("pending_return_liability", window, {}, at)
    margin = await uow.read_model.kpi("margin_impact_of_returns", window, {}, at)
    figures = await uow.read_model.headline(start, at)
    period = urlencode({"from": start.strftime("%Y-%m-%dT%H:%M"), "to": at.strftime("%Y-%m-%dT%H:%M")})
    liability_value, margin_value = _total(liability, "value"), _total(margin, "value")
    tiles = [
        _tile("pending_return_liability", "Pending return liability", number(liability_value, 2), liability_value,
              link="/console/kpis/pending_return_liability",
              hint=f"of which approved, unpaid: {number(_total(liability, 'approved_unpaid'), 2)}"),
        _tile("margin_impact_of_returns", "Margin impact of returns", number(margin_value, 2), margin_value,
              link=f"/console/kpis/margin_impact_of_returns?{period}", hint="refunds paid − value recovered"),
        _tile("refund_cycle_time", "Refund cycle p50", _hours(figures["refund_cycle_p50_hours"]),
              figures["refund_cycle_p50_hours"], link=f"/console/kpis/refund_cycle_time?{period}",
              hint="authorized to refunded"),
    ]
    client, token = services(request), user.access_token
    month = at.strftime("%Y-%m")
    trial_balance, return_liability, leakage, return_margin = await asyncio.gather(
        client.get("finance", f"/v1/reports/trial-balance?period={month}", token),
        client.get("finance", "/v1/reports/return-liability", token),
        client.get("finance", "/v1/reports/refund-leakage", token),
        client.get("finance", "/v1/reports/return-margin?by=reason", token))
    return render(request, "finance.html", days=days, tiles=tiles, month=month, shown_rows=SHOWN_REPORT_ROWS,
                  trial_balance=_report(trial_balance), return_liability=_report(return_liability),
                  leakage=_report(leakage), return_margin=_report(return_margin),
                  vendors=await supplier_kpis(uow, user.principal))


# --- KPIs ------------------------------------------------------------------------------------------------------


@router.get("/kpis")
async def kpis(request: Request, user: Staff) -> HTMLResponse:
    sees_money = user.has_role(*FINANCE_VIEWERS)
    shown = [kpi for name, kpi in KPIS.items() if name not in MONEY_KPIS or sees_money]
    return render(request, "kpis.html", kpis=shown, sees_money=sees_money)


KpiName = Annotated[str, PathParam(max_length=64)]
From = Annotated[datetime | None, Query(alias="from", description="Default: 7 days before `to`")]
To = Annotated[datetime | None, Query(alias="to", description="Default: now")]
Grain = Annotated[str, Query(pattern="^(hour|day|week|month)$")]
Breakdown = Annotated[str | None, Query(alias="by", max_length=16)]


@router.get("/kpis/{name}.csv")
async def kpi_csv(uow: UnitOfWork, user: Staff, slas: Slas, name: KpiName, start: From = None, end: To = None,
                  grain: Grain = "day", channel: Name | None = None, node: Name | None = None, sku: Name | None = None,
                  category: Name | None = None, carrier: Name | None = None, service: Name | None = None,
                  by: Breakdown = None) -> Response:
    """The KPI's rows as CSV, for a signed-in person (GET /v1/kpis/{name}?format=csv takes a bearer token)."""
    return as_csv(await compute_kpi(uow, user.principal, name, start, end, grain, {
        "channel": channel, "node": node, "sku": sku, "category": category, "carrier": carrier, "service": service},
        by, slas=slas))


@router.get("/kpis/{name}")
async def kpi_page(request: Request, uow: UnitOfWork, user: Staff, slas: Slas, name: KpiName, start: From = None,
                   end: To = None, grain: Grain = "day", channel: Name | None = None, node: Name | None = None,
                   sku: Name | None = None, category: Name | None = None, carrier: Name | None = None,
                   service: Name | None = None, by: Breakdown = None, page: PageNumber = 1,
                   page_size: PageSize = MAX_PAGE_SIZE) -> HTMLResponse:
    given = {"channel": channel, "node": node, "sku": sku, "category": category, "carrier": carrier,
             "service": service}
    result = await compute_kpi(uow, user.principal, name, start, end, grain, given, by, slas=slas)
    kpi = KPIS[name]
    rows = result.rows[(page - 1) * page_size:page * page_size]
    columns = list(result.rows[0]) if result.rows else []
    query = urlencode([(key, value) for key, value in request.query_params.multi_items()
                       if key not in ("page", "page_size")])
    return render(request, "kpi.html", kpi=kpi, result=result, rows=rows, columns=columns, given=given, by=by,
                  grain=grain, chart=_kpi_chart(kpi.title, result.rows) if kpi.per_period else None,
                  csv_url=f"/console/kpis/{segment(name)}.csv" + (f"?{query}" if query else ""),
                  start=result.start.strftime("%Y-%m-%dT%H:%M") if result.start else "",
                  end=result.end.strftime("%Y-%m-%dT%H:%M") if result.end else "",
                  total=len(result.rows), page=page, pages=_pages(len(result.rows), page_size))


def _kpi_chart(title: str, rows: list[dict[str, Any]]):
    """The KPI's main figure per period, one line per value of its breakdown columns (channel, node, carrier and
    service, ...)."""
    if not rows or "period" not in rows[0]:
        return None
    figure = next((column for column in ("value", "p50", "shipped", "units") if column in rows[0]), None)
    if figure is None:
        return None
    dimensions = [column for column in rows[0] if column not in ("period", figure)  # text columns, not figures
                  and all(isinstance(row[column], str | None) for row in rows)
                  and any(isinstance(row[column], str) for row in rows)]
    periods = sorted({row["period"] for row in rows if row["period"] is not None})
    at = {period: index for index, period in enumerate(periods)}
    by_line: dict[str, list[Any]] = {}
    for row in rows:
        if row["period"] is None:
            continue
        name = " / ".join(str(row[dimension]) for dimension in dimensions) if dimensions else figure
        line = by_line.setdefault(name, [None] * len(periods))
        line[at[row["period"]]] = row[figure]
    biggest = sorted(by_line, key=lambda line: -sum(1 for v in by_line[line] if v is not None))[:CHART_SERIES]
    labels = [period.strftime("%m-%d %H:%M" if any(p.hour for p in periods) else "%m-%d") for period in periods]
    return line_chart(labels, {line: by_line[line] for line in sorted(biggest)},
                      title=f"{title}: {figure} per period" + (f" by {' and '.join(dimensions)}" if dimensions
                                                                   else ""))
