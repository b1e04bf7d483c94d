"""Tokens of the real OpenID Connect provider (Keycloak with the demo realm kept in deploy/keycloak/), obtained as
a connector, a scanner and staff obtain them, checked by the services; and what they refuse."""

from datetime import UTC, datetime

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from allocation_service.bootstrap import build_app
from allocation_service.settings import AllocationSettings
from ecomops_common.auth import TokenRefused, TokenVerifier
from ecomops_common.testing.plugin import serving

pytestmark = pytest.mark.integration


@pytest.fixture
def service_under_test() -> str:
    return "allocation"


async def token(issuer: str, **form: str) -> str:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{issuer}/protocol/openid-connect/token", data=form)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


async def client_token(issuer: str, client: str) -> str:
    return await token(issuer, grant_type="client_credentials", client_id=client, client_secret=f"{client}-secret")


async def staff_token(issuer: str, username: str) -> str:
    return await token(issuer, grant_type="password", client_id="ecomops-console", username=username,
                       password="demo")


async def test_machine_and_staff_tokens_name_who_calls_and_what_they_may_touch(oidc_issuer):
    verifier = TokenVerifier(oidc_issuer, "ecomops")
    connector = await verifier.verify(await client_token(oidc_issuer, "connector-web-eu"))
    assert (connector.roles, connector.channels, connector.client) == ({"connector"}, {"web-eu"}, "connector-web-eu")
    scanner = await verifier.verify(await client_token(oidc_issuer, "scanner-wh1"))
    assert (scanner.roles, scanner.node) == ({"device"}, "WH1")
    supervisor = await verifier.verify(await staff_token(oidc_issuer, "sam.supervisor"))
    assert "supervisor" in supervisor.roles and supervisor.name == "sam.supervisor" and supervisor.subject


async def test_forged_foreign_and_stale_tokens_are_refused(oidc_issuer, monkeypatch):
    genuine = await staff_token(oidc_issuer, "ada.admin")
    verifier = TokenVerifier(oidc_issuer, "ecomops")
    header, payload, signature = genuine.split(".")
    forged_payload = jwt.utils.base64url_encode(jwt.utils.base64url_decode(payload).replace(
        b'"ada.admin"', b'"eve.admin"')).decode()
    with pytest.raises(TokenRefused, match="InvalidSignatureError"):
        await verifier.verify(f"{header}.{forged_payload}.{signature}")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(genuine)["kid"]
    with pytest.raises(TokenRefused, match="InvalidSignatureError"):  # the issuer's key id, another key
        await verifier.verify(jwt.encode(claims, own_key, algorithm="RS256", headers={"kid": kid}))
    with pytest.raises(TokenRefused, match="does not publish"):
        await verifier.verify(jwt.encode(claims, own_key, algorithm="RS256", headers={"kid": "mine"}))
    with pytest.raises(TokenRefused, match="InvalidAudienceError"):
        await TokenVerifier(oidc_issuer, "another-api").verify(genuine)
    with pytest.raises(TokenRefused, match="InvalidIssuerError"):
        await TokenVerifier(oidc_issuer + "-other", "ecomops", jwks_url=f"{oidc_issuer}/protocol/openid-connect/certs"
                            ).verify(genuine)
    with pytest.raises(TokenRefused, match="malformed"):
        await verifier.verify("dev-token")
    later = datetime.fromtimestamp(claims["exp"] + 31, UTC)  # beyond the 30 s leeway for clock skew
    monkeypatch.setattr(jwt.api_jwt, "datetime", type("Clock", (), {"now": staticmethod(lambda tz=None: later)}))
    with pytest.raises(TokenRefused, match="ExpiredSignatureError"):
        await verifier.verify(genuine)


async def test_every_route_takes_the_issuers_tokens_with_the_routes_roles(settings_for, oidc_issuer):
    settings = settings_for(AllocationSettings, oidc_issuer=oidc_issuer, api_token="local-secret")
    async with serving(build_app(settings), headers={}) as allocation:
        async def as_(bearer: str | None, method: str = "GET", path: str = "/v1/reconciliation",
                      headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
            authorization = {"authorization": f"Bearer {bearer}"} if bearer else {}
            return await allocation.request(method, path, headers={**authorization, **(headers or {})}, **kwargs)

        for username in ("sam.supervisor", "aud.auditor", "ada.admin"):
            assert (await as_(await staff_token(oidc_issuer, username))).status_code == 200, username
        refused = await as_(await staff_token(oidc_issuer, "olga.operator"))
        assert refused.status_code == 403 and "auditor" in refused.json()["detail"]
        connector = await client_token(oidc_issuer, "connector-web-eu")
        assert (await as_(connector)).status_code == 403
        assert (await as_(connector, path="/v1/availability", params={"sku": "A"})).status_code == 200
        scanner = await client_token(oidc_issuer, "scanner-wh1")
        assert (await as_(scanner, path="/v1/availability", params={"sku": "A"})).status_code == 403
        missing = await as_(None)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        static = await as_("local-secret")  # the development token means nothing where an issuer is configured
        assert static.status_code == 401 and "invalid_token" in static.headers["www-authenticate"]

        # Stock levels are an admin's alone: a supervisor corrects stock through the warehouse's counts.
        levels = {"levels": [{"sku": "A", "node": "WH1", "on_hand": 3}]}
        for username in ("sam.supervisor", "aud.auditor"):
            put = await as_(await staff_token(oidc_issuer, username), "PUT", "/v1/stock", json=levels)
            assert put.status_code == 403 and put.json()["detail"] == "needs one of the roles admin", username
        ada = await staff_token(oidc_issuer, "ada.admin")
        assert (await as_(ada, "PUT", "/v1/stock", json=levels)).json() == {"applied": 1}
        # Channel rules record who changed them: the admin's subject at the issuer, whatever a header claims.
        rules = await as_(ada, "PUT", "/v1/channels/web-eu/rules", json={"protected_quantity": 1},
                          headers={"x-actor": "someone-else"})
        subject = jwt.decode(ada, options={"verify_signature": False})["sub"]
        assert rules.status_code == 200 and rules.json()["updated_by"] == subject
