"""An OpenID Connect issuer for integration tests and benchmarks: its own RSA key, its discovery document and
JWKS served over HTTP on a free local port (so services check its tokens exactly as a real issuer's, in this
process or in a child), and tokens for any subject, roles and claims. End-to-end tests use the real provider."""

import functools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "ecomops"


class TestIssuer:
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = uuid.uuid4().hex
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        documents: dict[str, bytes] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = documents.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        documents["/.well-known/openid-configuration"] = json.dumps(
            {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"}).encode()
        documents["/jwks"] = json.dumps({"keys": [{**public, "kid": self.key_id, "use": "sig", "alg": "RS256"}]}
                                        ).encode()
        threading.Thread(target=self._server.serve_forever, daemon=True, name="test-issuer").start()

    def token(self, subject: str, *roles: str, client: str | None = None, expires_in: float = 3600,
              **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": AUDIENCE, "sub": subject, "preferred_username": subject,
                   "iat": now, "exp": now + int(expires_in), "realm_access": {"roles": list(roles)}, **claims}
        if client:
            payload["azp"] = client
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.key_id})

    def bearer(self, subject: str, *roles: str, **claims: Any) -> dict[str, str]:
        """Headers of a request by `subject` with `roles` (and claims: channels, node, carrier...)."""
        return {"authorization": f"Bearer {self.token(subject, *roles, **claims)}"}


@functools.cache
def test_issuer() -> TestIssuer:
    """The one test issuer of this process."""
    return TestIssuer()


test_issuer.__test__ = False  # imported into test modules: not a test


test_issuer.__test__ = False  # imported into test modules: not a test either


def admin_headers() -> dict[str, str]:
    return test_issuer().bearer("test-admin", "admin")


# Tokens of the real provider (Keycloak with deploy/keycloak/ecomops-realm.json), obtained as its clients do.

async def provider_token(issuer: str, **form: str) -> tuple[str, float]:
    """An access token of the provider's token endpoint, and its lifetime in seconds."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{issuer}/protocol/openid-connect/token", data=form)
    answer.raise_for_status()
    return answer.json()["access_token"], float(answer.json()["expires_in"])


def client_credentials(client: str) -> dict[str, str]:
    """A machine's grant: a connector, a scanner, a carrier (demo secrets `<client>-secret`)."""
    return {"grant_type": "client_credentials", "client_id": client, "client_secret": f"{client}-secret"}


def staff_credentials(username: str) -> dict[str, str]:
    """A demo staff member's grant (password grant of the console client; demo password `demo`)."""
    return {"grant_type": "password", "client_id": "ecomops-console", "username": username, "password": "demo"}


async def client_token(issuer: str, client: str) -> str:
    return (await provider_token(issuer, **client_credentials(client)))[0]


async def staff_token(issuer: str, username: str) -> str:
    return (await provider_token(issuer, **staff_credentials(username)))[0]


class ProviderAuth(httpx.Auth):
    """An httpx client's bearer tokens from the provider, fetched again shortly before each expires:
    `httpx.AsyncClient(auth=ProviderAuth(issuer, **client_credentials("connector-web-eu")))`."""

    def __init__(self, issuer: str, **form: str) -> None:
        self.issuer, self.form = issuer, form
        self._token: str | None = None
        self._renew_at = 0.0

    async def async_auth_flow(self, request: httpx.Request):
        if self._token is None or time.monotonic() >= self._renew_at:
            self._token, lifetime = await provider_token(self.issuer, **self.form)
            self._renew_at = time.monotonic() + lifetime * 0.8
        request.headers["authorization"] = f"Bearer {self._token}"
        yield request
