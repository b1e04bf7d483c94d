"""Who may call a route: every route but health, readiness and metrics takes `Authorization: Bearer <token>` of
the configured OpenID Connect issuer and names the roles it needs, which the OpenAPI document shows per
operation (as the scopes of the `oidc` security scheme), so /docs can log in and docs/access-matrix.md is
generated from the routes themselves.

    @router.post("/orders/{order_id}/cancel")
    async def cancel(order_id: str, uow: UnitOfWork, by: Annotated[Principal, caller(SUPERVISOR)]): ...

The actor a route records is `by.subject`, never a request field. Public write routes also pass
`rate_limited=True`: each client (a connector, a scanner, a person) gets its own budget, and a 429 with
Retry-After beyond it."""

import hmac
import math
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.openapi.models import OpenIdConnect as OpenIdConnectModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ecomops_common.auth import ADMIN, Principal, TokenRefused, TokenVerifier

SECURITY_SCHEME = "oidc"
# The principal of the local-development static token (settings.api_token; production refuses it).
DEVELOPMENT_PRINCIPAL = Principal(subject="development-token", name="development-token", roles=frozenset({ADMIN}),
                                  client=None, claims={})


class IssuerBearer(SecurityBase):
    """The bearer token of the issuer; its OpenAPI scheme is completed with the issuer's discovery URL by
    `openapi_security` (the routers are declared before the settings are known)."""

    def __init__(self) -> None:
        self.model = OpenIdConnectModel(openIdConnectUrl="/.well-known/openid-configuration")
        self.scheme_name = SECURITY_SCHEME

    async def __call__(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "missing bearer token: Authorization: Bearer <access token of the issuer>",
                                headers={"WWW-Authenticate": "Bearer"})
        return token.strip()


bearer_token = IssuerBearer()


async def _principal(request: Request, token: Annotated[str, Depends(bearer_token)]) -> Principal:
    verifier: TokenVerifier | None = request.app.state.token_verifier
    if verifier is None:
        development_token = request.app.state.runtime.settings.api_token
        if development_token and hmac.compare_digest(token.encode(), development_token.encode()):
            return DEVELOPMENT_PRINCIPAL
        raise HTTPException(401, "token refused: no issuer is configured (OIDC_ISSUER) and this is not the local "
                                 "development token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        return await verifier.verify(token)
    except TokenRefused as refused:
        raise HTTPException(401, f"token refused: {refused}",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


def caller(*roles: str, rate_limited: bool = False):
    """A route's dependency on its caller: a valid token whose roles include one of `roles` (admin always
    may); answers the `Principal`. Without roles, any authenticated caller."""
    allowed = frozenset(roles)

    async def authorized(request: Request, scopes: SecurityScopes,
                         principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if allowed and not principal.has_role(*allowed):
            raise HTTPException(403, f"needs one of the roles {', '.join(sorted({ADMIN, *allowed}))}")
        if rate_limited:
            request.app.state.rate_limits.hit(principal)
        request.state.principal = principal
        return principal

    return Security(authorized, scopes=sorted(allowed))


class RateLimits:
    """Per-client budgets of the public write routes (moving windows, e.g. "50/second;2000/minute"), kept in
    this replica's memory: N replicas admit up to N times the budget in total."""

    def __init__(self, budget: str) -> None:
        self.windows = parse_many(budget)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, principal: Principal) -> None:
        # A machine's client has one subject; people share a client (the console, a handheld app) but not a budget.
        caller = (principal.client or "", principal.subject)
        for window in self.windows:
            if not self.limiter.hit(window, *caller):
                reset_at, _remaining = self.limiter.get_window_stats(window, *caller)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                who = f"{principal.name} ({principal.client})" if principal.client else principal.name
                raise HTTPException(429, f"rate limit of {window} per client exceeded by {who}, retry later",
                                    headers={"Retry-After": str(retry_after)})


def openapi_security(schema: dict, issuer: str | None) -> dict:
    """The security scheme as deployed: the issuer's OpenID Connect discovery, or the development token."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    if SECURITY_SCHEME in schemes:
        schemes[SECURITY_SCHEME] = (
            {"type": "openIdConnect", "openIdConnectUrl": f"{issuer.rstrip('/')}/.well-known/openid-configuration",
             "description": "Access tokens of the OpenID Connect issuer; each operation lists the roles it takes "
                            "(admin takes every one)"}
            if issuer else
            {"type": "http", "scheme": "bearer",
             "description": "Local development without an issuer: the service's static API token"})
    return schema
