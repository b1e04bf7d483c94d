"""Who is calling: bearer tokens of an OpenID Connect issuer (Keycloak locally; Entra ID, Okta, Auth0 or any
standard issuer by configuration), checked with the issuer's published keys: signature, issuer, audience,
expiry. The keys are fetched from the issuer's JWKS and cached; a token signed with a key not seen yet fetches
them again (key rotation), at most every KEY_REFRESH_S, so forged key ids cannot make the service hammer the
issuer."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

KEY_REFRESH_S = 10.0
VERIFIED_TOKENS_KEPT = 10_000
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


# The roles of docs/identity.md. Admin may do what every staff role may (role grants included); machines (connector,
# device, carrier) are bound by their token's claims to the channels, node or carrier they act for.
ADMIN = "admin"
SUPERVISOR = "supervisor"
WAREHOUSE_OPERATOR = "warehouse-operator"
INSPECTOR = "inspector"
REFUND_APPROVER = "refund-approver"
FINANCE_CLERK = "finance-clerk"
CUSTOMER_SERVICE = "customer-service"
AUDITOR = "auditor"
CONNECTOR = "connector"
DEVICE = "device"
CARRIER = "carrier"
BUYER = "buyer"  # replenishment and purchase orders
MERCHANDISER = "merchandiser"  # the SKU master
STAFF_ROLES = frozenset({ADMIN, SUPERVISOR, WAREHOUSE_OPERATOR, INSPECTOR, REFUND_APPROVER, FINANCE_CLERK,
                         CUSTOMER_SERVICE, AUDITOR, BUYER, MERCHANDISER})
# Customers' names, emails, addresses and phones are shown to these (and to a connector for its own channels'
# orders); every other caller sees them masked.
PERSONAL_DATA_ROLES = frozenset({ADMIN, CUSTOMER_SERVICE})


class TokenRefused(Exception):
    """The bearer token is not one this service accepts; the message says why (answered with 401)."""


class IssuerUnavailable(ConnectionError):
    """The issuer's keys could not be fetched, so no token can be checked for now: the service's problem, not the
    caller's (transient, answered with 503 and Retry-After)."""


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

    @property
    def carrier(self) -> str | None:
        """The carrier a carrier client confirms deliveries for (its `carrier` claim)."""
        return self.claims.get("carrier")

    def has_role(self, *roles: str) -> bool:
        """One of `roles`, or admin."""
        return bool(self.roles & {ADMIN, *roles})

    @property
    def sees_personal_data(self) -> bool:
        """Staff allowed to read customers' personal data unmasked (connectors: see `acts_for`)."""
        return bool(self.roles & PERSONAL_DATA_ROLES)

    def acts_for(self, channel: str) -> bool:
        """May act for (and read the orders of) this sales channel: any staff; a connector of that channel; no
        other machine (a scanner or a carrier acts for no channel)."""
        return bool(self.roles & STAFF_ROLES) or channel in self.channels


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
        self._unavailable: str | None = None  # why the last refresh failed
        self._refreshing = asyncio.Lock()
        # A caller sends the same token until it expires: its signature is checked once (about 145 µs with RS256),
        # then the principal is reused until the token's expiry (within the same leeway as the check).
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and time.time() <= known[1]:
            self._verified.move_to_end(token)
            return known[0]
        principal = await self._checked(token)
        self._verified[token] = (principal, principal.claims["exp"] + self.leeway_s)
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return principal

    async def _checked(self, token: str) -> Principal:
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
            if self._unavailable:  # not the token's fault: until the next refresh, say so
                raise IssuerUnavailable(self._unavailable) from None
            raise TokenRefused(f"signed with a key the issuer does not publish ({key_id!r})") from None

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=5.0) as http:
                if self._jwks_url is None:
                    discovery = await http.get(f"{self.issuer}/.well-known/openid-configuration")
                    discovery.raise_for_status()
                    self._jwks_url = discovery.json()["jwks_uri"]
                answer = await http.get(self._jwks_url)
                answer.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(answer.json()).keys
        except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError) as error:
            self._unavailable = f"the issuer's keys could not be fetched: {type(error).__name__}: {error}"
            raise IssuerUnavailable(self._unavailable) from error
        self._unavailable = None
        self._keys = {key.key_id: key for key in keys if key.key_id and key.public_key_use in (None, "sig")}
