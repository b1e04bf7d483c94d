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


async def test_staff_routes_take_the_issuers_tokens_with_the_routes_roles(settings_for, oidc_issuer):
    settings = settings_for(AllocationSettings, oidc_issuer=oidc_issuer)
    async with serving(build_app(settings)) as allocation:
        async def reconciliation(bearer: str | None) -> httpx.Response:
            return await allocation.get("/v1/reconciliation",
                                        headers={"authorization": f"Bearer {bearer}"} if bearer else {})

        for username in ("sam.supervisor", "aud.auditor", "ada.admin"):
            assert (await reconciliation(await staff_token(oidc_issuer, username))).status_code == 200, username
        refused = await reconciliation(await staff_token(oidc_issuer, "olga.operator"))
        assert refused.status_code == 403 and "auditor" in refused.json()["detail"]
        assert (await reconciliation(await client_token(oidc_issuer, "connector-web-eu"))).status_code == 403
        missing = await reconciliation(None)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        static = await reconciliation(settings.api_token)  # the development token means nothing here
        assert static.status_code == 401 and "invalid_token" in static.headers["www-authenticate"]
        put = await allocation.put("/v1/stock", json={"levels": []}, headers={
            "authorization": f"Bearer {await staff_token(oidc_issuer, 'aud.auditor')}"})
        assert put.status_code == 403  # an auditor reads, changes nothing
