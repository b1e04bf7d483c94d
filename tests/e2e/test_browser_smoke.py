"""The browser tests' browser works: a demo supervisor signs in through the real provider's login form (Keycloak,
deploy/keycloak/ecomops-realm.json) with the console's authorization code flow and PKCE, and lands back on the
console's redirect URI. A stand-in of the console on `console_port` answers there: it starts a session (a cookie)
and redirects to its home page, as the console does; the code the browser brought back is a token of that
supervisor."""

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from .browser import CONSOLE_URL, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REDIRECT_URI = f"{CONSOLE_URL}/console/callback"


@pytest.fixture
def console_stand_in(console_port) -> Iterator[SimpleNamespace]:
    """The callback keeps the query it got (the code), starts a session in a cookie and redirects to the home page,
    which names the session."""
    callbacks: list[dict[str, list[str]]] = []

    class StandIn(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urlsplit(self.path)
            if path.path == "/console/callback":
                callbacks.append(parse_qs(path.query))
                self.send_response(303)
                self.send_header("location", "/console/")
                self.send_header("set-cookie", "console_session=s1; Path=/console/; HttpOnly; SameSite=Lax")
                self.send_header("content-length", "0")
                self.end_headers()
                return
            session = SimpleCookie(self.headers.get("cookie", "")).get("console_session")
            body = f"<!doctype html><title>Console</title><h1>Session {session.value if session else 'none'}</h1>"
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", console_port), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True, name="console-stand-in").start()
    yield SimpleNamespace(callbacks=callbacks)
    server.shutdown()
    server.server_close()


async def test_a_supervisor_signs_in_through_the_providers_login_form(page, oidc_issuer, console_stand_in):
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    await page.goto(f"{oidc_issuer}/protocol/openid-connect/auth?" + urlencode({
        "client_id": "ecomops-console", "response_type": "code", "scope": "openid", "redirect_uri": REDIRECT_URI,
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}))

    await page.locator("#username").fill("sam.supervisor")
    await page.locator("#password").fill("demo")
    await screenshot(page, "browser-smoke-login-form")
    await page.locator("#kc-login").click()
    await page.wait_for_url(f"{CONSOLE_URL}/console/")
    await screenshot(page, "browser-smoke-signed-in")

    # The callback's redirect and cookie took effect in the browser.
    assert await page.locator("h1").text_content() == "Session s1"
    [returned] = console_stand_in.callbacks
    assert returned["state"] == [state]
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{oidc_issuer}/protocol/openid-connect/token", data={
            "grant_type": "authorization_code", "client_id": "ecomops-console", "code": returned["code"][0],
            "redirect_uri": REDIRECT_URI, "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == "sam.supervisor"
    assert "supervisor" in claims["realm_access"]["roles"]
