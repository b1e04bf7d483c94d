"""The console's sign-in and sessions, as a backend-for-frontend: the browser holds only a random session id in an
HttpOnly cookie; the provider's tokens stay in console_sessions, and the console calls the other services with
them. Sign-in is the OpenID Connect authorization code flow with PKCE (S256) of the public client ecomops-console;
an access token about to expire is renewed with the refresh token, and a session ends after session_idle_s idle."""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt

from control_service.service_layer.unit_of_work import ControlUnitOfWork
from ecomops_common.auth import ADMIN, IssuerUnavailable, Principal, TokenRefused, TokenVerifier

SESSION_COOKIE = "ecomops_console"
HOME = "/console/"
SIGN_IN_TIMEOUT = timedelta(minutes=10)  # from the redirect to the provider to its callback
RENEW_BEFORE = timedelta(seconds=30)  # an access token is renewed this long before it expires
# The idle expiry is pushed back at most once a minute: a page view is one read, not one read and one write.
TOUCH_EVERY = timedelta(minutes=1)
# Paths a sign-in never returns to (they would start another sign-in, or end the session).
NOT_RETURNED_TO = ("/console/login", "/console/callback", "/console/logout")


class SignInFailed(Exception):
    """The sign-in cannot complete; the message says why, for the person signing in (answered with 400)."""


class ProviderUnavailable(Exception):
    """The identity provider did not answer (answered with 503: try again)."""


def new_code_verifier() -> str:
    """A PKCE code verifier: 86 characters of the unreserved set (RFC 7636 asks for 43 to 128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the console on this origin, else the console's home. Refused: other
    sites (`https://x`, `//x`, `/\\x`), other paths of this host, control characters, the sign-in routes."""
    if not target or len(target) > 500 or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == "/console" or parts.path.startswith("/console/")):
        return HOME
    if parts.path.rstrip("/") in NOT_RETURNED_TO:
        return HOME
    return target


def csrf_matches(expected: str, given: str | None) -> bool:
    """A form's csrf field is the session's token (compared in constant time)."""
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class ConsoleSession:
    session_id: str
    subject: str
    name: str
    roles: frozenset[str]
    csrf_token: str
    access_token: str
    refresh_token: str | None
    id_token: str | None
    access_expires_at: datetime
    expires_at: datetime

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> "ConsoleSession":
        return cls(row["session_id"], row["subject"], row["name"], frozenset(json.loads(row["roles"])),
                   row["csrf_token"], row["access_token"], row["refresh_token"], row["id_token"],
                   row["access_expires_at"], row["expires_at"])

    def has_role(self, *roles: str) -> bool:
        """One of `roles`, or admin."""
        return bool(self.roles & {ADMIN, *roles})

    @property
    def principal(self) -> Principal:
        """The person as the API's checks know them (the roles of their latest token)."""
        return Principal(subject=self.subject, name=self.name, roles=self.roles, client=None, claims={})


class OidcProvider:
    """The OpenID Connect provider's endpoints, from its discovery document (fetched once, then kept)."""

    def __init__(self, issuer: str, client_id: str, *, timeout_s: float = 10.0, backchannel: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        # Where this service reaches the issuer when the address people use is not reachable from it (a
        # container): discovery is read there, and the token endpoint called there; people's browsers still go
        # to the issuer's own address to sign in and out.
        self.backchannel = (backchannel or issuer).rstrip("/")
        self.client_id = client_id
        self.timeout_s = timeout_s
        self.transport = transport
        self._endpoints: dict[str, Any] | None = None

    def _client(self) -> httpx.AsyncClient:
        # Sign-ins and renewals are a few per person per hour: a client per call, nothing to close at shutdown.
        return httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport)

    async def endpoints(self) -> dict[str, Any]:
        if self._endpoints is None:
            try:
                async with self._client() as http:
                    answer = await http.get(f"{self.backchannel}/.well-known/openid-configuration")
                answer.raise_for_status()
                document = answer.json()
            except (httpx.HTTPError, ValueError) as error:
                raise ProviderUnavailable(f"the identity provider's discovery document could not be read: "
                                          f"{type(error).__name__}") from error
            if "authorization_endpoint" not in document or "token_endpoint" not in document:
                raise ProviderUnavailable("the identity provider publishes no authorization or token endpoint")
            self._endpoints = document
        return self._endpoints

    async def authorization_url(self, *, state: str, challenge: str, nonce: str, redirect_uri: str) -> str:
        endpoints = await self.endpoints()
        return endpoints["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri, "scope": "openid",
            "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})

    async def tokens(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint's answer to a grant; SignInFailed when it refuses the grant."""
        endpoint = (await self.endpoints())["token_endpoint"]
        if endpoint.startswith(self.issuer + "/"):
            endpoint = self.backchannel + endpoint.removeprefix(self.issuer)
        try:
            async with self._client() as http:
                answer = await http.post(endpoint, data={**form, "client_id": self.client_id})
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"the identity provider did not answer: {type(error).__name__}") from error
        if answer.status_code >= 500:
            raise ProviderUnavailable(f"the identity provider answered {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
            raise SignInFailed(f"the identity provider refused: {reason}")
        return body

    async def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """Where the browser ends its session at the provider too (None: the provider has no such endpoint)."""
        try:
            endpoint = (await self.endpoints()).get("end_session_endpoint")
        except ProviderUnavailable:
            return None
        if not endpoint:
            return None
        query = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"


async def start_sign_in(uow: ControlUnitOfWork, provider: OidcProvider, *, redirect_uri: str, return_to: str | None,
                        now: datetime) -> str:
    """Keeps the sign-in's state, PKCE verifier and nonce; answers the provider's URL to send the browser to."""
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), new_code_verifier()
    url = await provider.authorization_url(state=state, challenge=code_challenge(verifier), nonce=nonce,
                                           redirect_uri=redirect_uri)
    await uow.read_model.add_sign_in(state, verifier, nonce, safe_next(return_to), now)
    await uow.commit()
    return url


async def finish_sign_in(uow: ControlUnitOfWork, provider: OidcProvider, verifier: TokenVerifier, *, state: str,
                         code: str, redirect_uri: str, idle: timedelta,
                         now: datetime) -> tuple[ConsoleSession, str]:
    """Redeems the provider's code (with the PKCE verifier of its state), checks the tokens and starts a session;
    answers it and where to go next."""
    sign_in = await uow.read_model.take_sign_in(state, now - SIGN_IN_TIMEOUT)
    await uow.commit()  # a state is used once, whatever follows
    if sign_in is None:
        raise SignInFailed("this sign-in is unknown or expired (started over 10 minutes ago, or used already)")
    tokens = await provider.tokens({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                    "code_verifier": sign_in["code_verifier"]})
    _check_id_token(tokens.get("id_token"), provider, sign_in["nonce"])
    principal = await _verified(verifier, tokens["access_token"])
    session = ConsoleSession(
        session_id=secrets.token_urlsafe(32), subject=principal.subject, name=principal.name, roles=principal.roles,
        csrf_token=secrets.token_urlsafe(32), access_token=tokens["access_token"],
        refresh_token=tokens.get("refresh_token"), id_token=tokens.get("id_token"),
        access_expires_at=datetime.fromtimestamp(principal.claims["exp"], UTC), expires_at=now + idle)
    await uow.read_model.add_console_session({**session.__dict__, "roles": json.dumps(sorted(session.roles))}, now)
    await uow.commit()
    return session, sign_in["return_to"]


def _check_id_token(id_token: str | None, provider: OidcProvider, nonce: str) -> None:
    """The ID token came straight from the token endpoint (so its signature may go unchecked, OpenID Connect Core
    3.1.3.7); its issuer, audience and nonce must be this sign-in's."""
    if not id_token:
        raise SignInFailed("the identity provider sent no ID token (is the scope openid allowed?)")
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.InvalidTokenError as error:
        raise SignInFailed(f"the ID token is malformed: {error}") from None
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience or []
    if claims.get("iss", "").rstrip("/") != provider.issuer or provider.client_id not in audiences:
        raise SignInFailed("the ID token was not issued to the console by its identity provider")
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise SignInFailed("the ID token does not belong to this sign-in (nonce)")


async def _verified(verifier: TokenVerifier, access_token: str) -> Principal:
    try:
        return await verifier.verify(access_token)
    except TokenRefused as refused:
        raise SignInFailed(f"the access token was refused: {refused}") from None
    except IssuerUnavailable as unavailable:
        raise ProviderUnavailable(str(unavailable)) from None


async def current_session(uow: ControlUnitOfWork, provider: OidcProvider | None, verifier: TokenVerifier | None,
                          session_id: str, *, idle: timedelta, now: datetime) -> ConsoleSession | None:
    """The session of a cookie, its access token renewed when about to expire (with the roles of the new token)
    and its idle expiry pushed back; None when there is none, it expired, or the provider refuses to renew it."""
    row = await uow.read_model.console_session(session_id, now)
    if row is None:
        return None
    session = ConsoleSession.of_row(row)
    changes: dict[str, Any] = {}
    if session.access_expires_at - RENEW_BEFORE <= now and session.refresh_token and provider and verifier:
        try:
            changes = await _renewed(provider, verifier, session.refresh_token)
        except SignInFailed:  # the provider ended the session (signed out, idle there, disabled): so does this
            await uow.read_model.end_console_session(session_id)
            await uow.commit()
            return None
        except ProviderUnavailable:
            pass  # pages of the read model still work; calls to the services get the token's 401 until renewed
    if now + idle - session.expires_at >= TOUCH_EVERY:
        changes["expires_at"] = now + idle
    if changes:
        await uow.read_model.update_console_session(session_id, changes)
        await uow.commit()
        if "roles" in changes:
            changes["roles"] = frozenset(json.loads(changes["roles"]))
        session = ConsoleSession(**{**session.__dict__, **changes})
    return session


async def _renewed(provider: OidcProvider, verifier: TokenVerifier, refresh_token: str) -> dict[str, Any]:
    tokens = await provider.tokens({"grant_type": "refresh_token", "refresh_token": refresh_token})
    principal = await _verified(verifier, tokens["access_token"])
    renewed = {"access_token": tokens["access_token"], "refresh_token": tokens.get("refresh_token", refresh_token),
               "roles": json.dumps(sorted(principal.roles)), "name": principal.name,
               "access_expires_at": datetime.fromtimestamp(principal.claims["exp"], UTC)}
    if tokens.get("id_token"):  # the newest one, for signing out at the provider
        renewed["id_token"] = tokens["id_token"]
    return renewed


async def end_session(uow: ControlUnitOfWork, session_id: str) -> ConsoleSession | None:
    """Ends the session (its tokens are forgotten); answers it, for signing out at the provider too."""
    row = await uow.read_model.end_console_session(session_id)
    await uow.commit()
    return ConsoleSession.of_row(row) if row else None
