"""Who is calling: bearer tokens of an OpenID Connect issuer (Keycloak locally; Entra ID, Okta, Auth0 or any
standard issuer by configuration), checked with the issuer's published keys: signature, issuer, audience,
expiry. The keys are fetched from the issuer's JWKS and cached; a token signed with a key not seen yet fetches
them again (key rotation), at most every KEY_REFRESH_S, so forged key ids cannot make the service hammer the
issuer."""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

KEY_REFRESH_S = 10.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class TokenRefused(Exception):
    """The bearer token is not one this service accepts; the message says why (answered with 401)."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a person (staff) or a machine (a channel connector, a scanner, a carrier)."""

    subject: str  # the issuer's stable id of the caller: what audit trails record
    name: str  # preferred_username, for people reading the audit trail
    roles: frozenset[str]
    client: str | None  # the OAuth2 client the token was issued to (azp)
    claims: Mapping[str, Any]

    @property
    def channels(self) -> frozenset[str]:
        """The sales channels a connector may act for (its `channels` claim)."""
        value = self.claims.get("channels") or ()
        return frozenset([value] if isinstance(value, str) else value)

    @property
    def node(self) -> str | None:
        """The warehouse node a scanner is bound to (its `node` claim)."""
        return self.claims.get("node")


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path, e.g. `realm_access.roles` (Keycloak) or `roles` (Entra ID)."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, *, roles_claim: str = "realm_access.roles",
                 jwks_url: str | None = None, leeway_s: float = 30.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.roles_claim = roles_claim
        self.leeway_s = leeway_s
        self._jwks_url = jwks_url
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._refreshing = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"malformed token: {error}") from None
        key = await self._key(header.get("kid") or "")
        try:
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway_s, options={"require": ["exp", "iat", "iss", "sub"]})
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"{type(error).__name__}: {error}") from None
        roles = claim_at(claims, self.roles_claim) or ()
        return Principal(subject=claims["sub"], name=claims.get("preferred_username") or claims["sub"],
                         roles=frozenset([roles] if isinstance(roles, str) else roles), client=claims.get("azp"),
                         claims=claims)

    async def _key(self, key_id: str) -> Any:
        if key_id not in self._keys:
            async with self._refreshing:
                if key_id not in self._keys and time.monotonic() - self._fetched_at >= KEY_REFRESH_S:
                    await self._refresh()
        try:
            return self._keys[key_id]
        except KeyError:
            raise TokenRefused(f"signed with a key the issuer does not publish ({key_id!r})") from None

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        async with httpx.AsyncClient(timeout=5.0) as http:
            if self._jwks_url is None:
                discovery = await http.get(f"{self.issuer}/.well-known/openid-configuration")
                discovery.raise_for_status()
                self._jwks_url = discovery.json()["jwks_uri"]
            answer = await http.get(self._jwks_url)
            answer.raise_for_status()
        keys = jwt.PyJWKSet.from_dict(answer.json()).keys
        self._keys = {key.key_id: key for key in keys if key.key_id and key.public_key_use in (None, "sig")}
