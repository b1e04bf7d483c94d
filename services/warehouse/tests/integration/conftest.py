from datetime import UTC, datetime, timedelta

import pytest

from ecomops_common.testing.plugin import serving
from warehouse_service.bootstrap import build_app
from warehouse_service.settings import WarehouseSettings

ADMIN = {"authorization": "Bearer test-token"}
LAYOUT = {"locations": [{"code": "DOCK-IN", "kind": "receiving"}, {"code": "A-01-03", "kind": "storage"},
                        {"code": "A-01-04", "kind": "storage"}, {"code": "PACK-1", "kind": "packing"},
                        {"code": "SHIP-1", "kind": "shipping"}]}


@pytest.fixture
def service_under_test() -> str:
    return "warehouse"


@pytest.fixture
def wave_size() -> int:
    """1: every pick task is released at once; a test parametrizes it to see waves collect tasks."""
    return 1


@pytest.fixture
async def warehouse(settings_for, wave_size):
    """The warehouse service in this process, with BER1's layout and an HTTP client on it."""
    # Cut-offs half a day away: no wave is near one while a test runs, whatever the time of day.
    far = (datetime.now(UTC) + timedelta(hours=12)).time().replace(microsecond=0)
    settings = settings_for(WarehouseSettings, wave_size=wave_size, carrier_cutoffs={"express": far, "standard": far})
    async with serving(build_app(settings), ADMIN) as client:
        assert (await client.put("/v1/warehouses/BER1/locations", json=LAYOUT)).status_code == 200
        yield client
