"""Who may call the finance API: a token of the issuer on every route; finance clerks read and write, auditors
only read, supervisors approve and read what they approve; the actor recorded is the token's subject."""

import pytest

from ecomops_common.auth import AUDITOR, CUSTOMER_SERVICE, FINANCE_CLERK, SUPERVISOR
from ecomops_common.testing.issuer import test_issuer

pytestmark = pytest.mark.integration
NO_TOKEN = {"authorization": ""}
AUDITOR_ANA = test_issuer().bearer("aud:ana", AUDITOR)
SUPERVISOR_LI = test_issuer().bearer("sup:li", SUPERVISOR)
READS = ["/v1/accounts", "/v1/costs", "/v1/journal", "/v1/refunds", "/v1/postings/pending",
         "/v1/reports/trial-balance?period=2026-11", "/v1/reports/refund-reconciliation",
         "/v1/reports/refund-leakage", "/v1/reports/return-liability", "/v1/reports/return-margin",
         "/v1/approval-requests", "/v1/grni"]
WRITES = [("PUT", "/v1/costs/SKU-1", {"amount": "1.00", "currency": "EUR"}),
          ("POST", "/v1/journal/1/reversal", {"reason": "wrong"}), ("POST", "/v1/refunds/rf-1/retry", None),
          ("POST", "/v1/refunds/rf-1/manual-settlement", {"reference": "SEPA-1"}),
          ("POST", "/v1/vendor-invoices", {"invoice_id": "INV-1", "po_id": "PO-1", "vendor_id": "V-1",
                                           "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 1,
                                                                         "unit_price": "1.00"}]})]
DECISIONS = [("POST", "/v1/approval-requests/1/approve", None),
             ("POST", "/v1/approval-requests/1/deny", {"reason": "not needed"})]


async def test_every_route_needs_a_token_of_the_issuer(finance):
    for method, path, body in [("GET", path, None) for path in READS] + WRITES + DECISIONS:
        refused = await finance.request(method, path, json=body, headers=NO_TOKEN)
        assert refused.status_code == 401, (method, path)
        assert refused.headers["www-authenticate"] == "Bearer"
    expired = test_issuer().bearer("fin:maria", FINANCE_CLERK, expires_in=-60)
    assert (await finance.get("/v1/refunds", headers=expired)).status_code == 401
    assert (await finance.get("/healthz", headers=NO_TOKEN)).status_code == 200


async def test_an_auditor_reads_everything_and_changes_nothing(finance):
    for path in READS:
        assert (await finance.get(path, headers=AUDITOR_ANA)).status_code == 200, path
    for method, path, body in WRITES + DECISIONS:
        refused = await finance.request(method, path, json=body, headers=AUDITOR_ANA)
        assert refused.status_code == 403, (method, path)
        assert refused.json()["detail"].startswith("needs one of the roles admin, finance-clerk")
    assert (await finance.get("/v1/costs")).json() == []


async def test_a_supervisor_decides_requests_but_makes_none_and_other_staff_see_nothing(finance):
    for method, path, body in WRITES:
        assert (await finance.request(method, path, json=body, headers=SUPERVISOR_LI)).status_code == 403, path
    for path in ("/v1/refunds", "/v1/approval-requests", "/v1/journal/1"):
        assert (await finance.get(path, headers=SUPERVISOR_LI)).status_code in (200, 404), path
    assert (await finance.get("/v1/reports/trial-balance?period=2026-11", headers=SUPERVISOR_LI)).status_code == 403
    assert (await finance.post("/v1/approval-requests/1/approve", headers=SUPERVISOR_LI)).status_code == 404
    agent = test_issuer().bearer("cs:ben", CUSTOMER_SERVICE)
    for path in READS:
        assert (await finance.get(path, headers=agent)).status_code == 403, path


async def test_the_actor_is_the_tokens_subject_whatever_the_request_says(finance):
    cost = {"amount": "4.10", "currency": "EUR"}
    put = await finance.put("/v1/costs/SKU-RED-M", json=cost, headers={
        **test_issuer().bearer("fin:omar", FINANCE_CLERK), "x-actor": "someone-else"})
    assert put.status_code == 200 and put.json()["updated_by"] == "fin:omar"
    [row] = (await finance.get("/v1/costs")).json()
    assert row["updated_by"] == "fin:omar"


async def test_the_openapi_document_names_the_roles_of_each_operation(finance):
    paths = (await finance.get("/openapi.json")).json()["paths"]
    assert paths["/v1/refunds"]["get"]["security"] == [{"oidc": ["auditor", "finance-clerk", "supervisor"]}]
    assert paths["/v1/refunds/{refund_id}/retry"]["post"]["security"] == [{"oidc": ["finance-clerk"]}]
    assert paths["/v1/approval-requests/{request_id}/approve"]["post"]["security"] == [
        {"oidc": ["finance-clerk", "supervisor"]}]
    assert paths["/v1/reports/trial-balance"]["get"]["security"] == [{"oidc": ["auditor", "finance-clerk"]}]
