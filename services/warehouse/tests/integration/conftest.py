from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.testing.plugin import serving
from warehouse_service.bootstrap import build_app
from warehouse_service.settings import WarehouseSettings

LAYOUT = {"locations": [{"code": "DOCK-IN", "kind": "receiving"}, {"code": "A-01-03", "kind": "storage"},
                        {"code": "A-01-04", "kind": "storage"}, {"code": "PACK-1", "kind": "packing"},
                        {"code": "SHIP-1", "kind": "shipping"}]}
# Open at BER1 for every test: receive scans book units only against an expected receipt.
RECEIPT = {"reference": "PO-TEST", "node": "BER1", "lines": [{"sku": "SKU-RED-M", "quantity": 1000},
                                                               {"sku": "SKU-BLUE-L", "quantity": 1000}]}


@pytest.fixture
def service_under_test() -> str:
    return "warehouse"


@pytest.fixture
def warehouse_settings() -> dict:
    """Settings a test changes by parametrizing this fixture, e.g. wave_size 2 to see waves collect tasks (by
    default each pick task is released at once)."""
    return {}


@pytest.fixture
async def warehouse(settings_for, warehouse_settings):
    """The warehouse service in this process, with BER1's layout and receipt PO-TEST, and an HTTP client on it
    that calls as an admin (per request `headers=` of another caller)."""
    # Cut-offs half a day away: no wave is near one while a test runs, whatever the time of day.
    far = (datetime.now(UTC) + timedelta(hours=12)).time().replace(microsecond=0)
    settings = settings_for(WarehouseSettings, carrier_cutoffs={"express": far, "standard": far}, **warehouse_settings)
    async with serving(build_app(settings)) as client:
        assert (await client.put("/v1/warehouses/BER1/locations", json=LAYOUT)).status_code == 200
        assert (await client.post("/v1/receipts", json=RECEIPT)).status_code == 201
        yield client
