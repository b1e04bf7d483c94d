"""Every operation of every service's OpenAPI schema, fuzzed with valid and invalid input (schemathesis: its
boundary cases, then random ones), never answers 5xx. Each service runs in this process on real PostgreSQL and
Kafka, its runtime started as in production, called as an admin of the test issuer (so every route's input is
reached, not just its 401/403); the run is seeded and bounded."""

import importlib
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from ecomops_common.testing.issuer import admin_headers

pytestmark = pytest.mark.integration

SERVICES = ("order", "allocation", "warehouse", "returns", "finance", "control", "catalog", "supply", "shipping")
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
MAX_EXAMPLES = 30  # random cases per operation, after its boundary cases: the run stays well under 3 minutes


@pytest.fixture(params=SERVICES)
def service_under_test(request) -> str:
    return request.param


@pytest.fixture
def service_app(service_under_test, settings_for):
    name = service_under_test
    settings_module = importlib.import_module(f"{name}_service.settings")
    settings_class = next(value for key, value in vars(settings_module).items()
                          if key.endswith("Settings") and value.__module__ == settings_module.__name__)
    service_settings = settings_for(settings_class, topic_partitions=1, log_level="WARNING")
    yield importlib.import_module(f"{name}_service.bootstrap").build_app(service_settings)
    # Schemathesis started the runtime on its own event loop thread: stopped before the database is dropped.
    asgi.shutdown_lifespans()


def test_no_server_errors(service_app, fuzz_stats):
    started = time.perf_counter()
    schema = schemathesis.openapi.from_asgi("/openapi.json", service_app)  # starts the service's runtime
    errors: list[str] = []
    admin = admin_headers()

    def exercise(case) -> None:
        fuzz_stats.requests += 1
        try:
            case.call_and_validate(headers=admin, checks=[not_a_server_error])
        except Exception as error:  # a 5xx, or what the app raised behind it
            errors.append(f"{case.operation.label}: {type(error).__name__}: {error}\n{case.as_curl_command()}"[:2000])

    for result in schema.get_all_operations():
        operation = result.ok()
        fuzz_stats.operations += 1
        for case in schema.iter_coverage_cases(operation, generation_modes=MODES,
                                               generation_config=schema.config.generation):
            exercise(case)

        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(st.one_of([operation.as_strategy(generation_mode=mode) for mode in MODES]))
        def fuzz(case) -> None:
            exercise(case)

        try:
            fuzz()
        except Unsatisfiable:
            pass  # nothing invalid to send, e.g. no parameters at all
    fuzz_stats.server_errors.extend(errors)
    fuzz_stats.seconds += time.perf_counter() - started
    assert not errors, "\n\n".join(errors)
