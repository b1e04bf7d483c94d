"""No route is left unauthenticated: every operation of every service (and the generated access matrix says so)
declares the issuer's security scheme and answers 401 without a token, except health and readiness."""

import importlib.util

import httpx
import pytest

from ecomops_common.access import SECURITY_SCHEME
from ecomops_common.testing.infrastructure import repo_root

# tools/ is not a package: the script as a module, as tests/infra/test_api_docs.py loads it.
_spec = importlib.util.spec_from_file_location("api_docs", repo_root() / "tools" / "api_docs.py")
api_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_docs)

OPERATIONS = ("/healthz", "/readyz")


@pytest.fixture(scope="module")
def services():
    return api_docs.load_services()


def operations(service):
    for path, methods in service.app.openapi()["paths"].items():
        for method, operation in methods.items():
            if method in api_docs.HTTP_METHODS:
                yield path, method, operation


def test_every_operation_but_health_and_readiness_declares_the_issuers_scheme(services):
    unguarded = [(service.name, method, path) for service in services
                 for path, method, operation in operations(service)
                 if path not in OPERATIONS and not any(SECURITY_SCHEME in requirement
                                                       for requirement in operation.get("security", []))]
    assert unguarded == []


async def test_every_operation_but_health_and_readiness_answers_401_without_a_token(services):
    answers = {}
    for service in services:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://x") as client:
            for path, method, _ in operations(service):
                if path not in OPERATIONS:
                    concrete = path.replace("{", "").replace("}", "")  # any value: refused before it is looked at
                    answers[service.name, method, path] = (await client.request(method, concrete, json={})).status_code
    assert {key: status for key, status in answers.items() if status != 401} == {}
    assert len(answers) > 60
