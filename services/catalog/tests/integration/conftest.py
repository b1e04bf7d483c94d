import json

import pytest

from catalog_service.bootstrap import build_app
from catalog_service.settings import CatalogSettings
from ecomops_common.contracts import CATALOG_SKUS
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, serving


def as_(subject: str, *roles: str, **claims) -> dict[str, str]:
    """Headers of a request by `subject` with `roles`, signed by the test issuer the service trusts."""
    return test_issuer().bearer(subject, *roles, **claims)


@pytest.fixture
def service_under_test() -> str:
    return "catalog"


@pytest.fixture
async def catalog(settings_for):
    """The catalog service in this process and an HTTP client on it (calling as an admin unless a request says
    otherwise), with the service's settings and unit of work beside."""
    async with serving(build_app(settings_for(CatalogSettings, import_max_rows=50))) as client:
        yield client


async def sku_changes(settings, count: int) -> list[dict]:
    """The SkuChanged envelopes on catalog.skus.v1, once there are `count`."""
    def changes(records) -> list[dict]:
        return [{**json.loads(r.value), "key": r.key.decode()} for r in records
                if dict(r.headers)["event_type"] == b"SkuChanged"]

    return changes(await consume_until(settings.kafka_bootstrap_servers, settings.topic(CATALOG_SKUS),
                                       lambda records: len(changes(records)) >= count))
