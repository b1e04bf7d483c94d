from datetime import UTC, datetime

import pytest

from ecomops_common.contracts import CATALOG_SKUS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, produce_events, serving
from supply_service.bootstrap import build_app
from supply_service.settings import SupplySettings


def as_(subject: str, *roles: str, **claims) -> dict[str, str]:
    """Headers of a request by `subject` with `roles`, signed by the test issuer the service trusts."""
    return test_issuer().bearer(subject, *roles, **claims)


@pytest.fixture
def service_under_test() -> str:
    return "supply"


@pytest.fixture
async def supply(settings_for):
    """The supply service in this process and an HTTP client on it (calling as an admin unless a request says
    otherwise), with the service's settings and unit of work beside."""
    async with serving(build_app(settings_for(SupplySettings))) as client:
        yield client


def sku_changed(sku: str, revision: int = 1, **terms) -> SkuChanged:
    return SkuChanged.model_validate({"sku": sku, "revision": revision, "status": "active", "name": sku,
                                      "vendor_id": "acme", "vendor_sku": f"AC-{sku}", "lead_time_days": 5,
                                      "unit_cost": "2.50", "currency": "EUR", "changed_by": "mia.merchandiser",
                                      "changed_at": datetime.now(UTC), **terms})


async def in_catalog(supply, *changes: SkuChanged) -> None:
    """What the catalog service would have published, once the supply service has taken it."""
    settings = supply.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(CATALOG_SKUS), [
        new_event("SkuChanged", 1, "catalog", "sku", change.sku, change) for change in changes])

    async def known() -> bool:
        async with supply.unit_of_work() as uow:
            stored = await uow.supply.skus(change.sku for change in changes)
        return all(change.sku in stored and stored[change.sku]["revision"] >= change.revision for change in changes)

    await eventually(known)
