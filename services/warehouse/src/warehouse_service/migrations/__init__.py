"""The warehouse service's schema history: Alembic revisions in versions/, run by `ecomops-migrate`."""

from ecomops_common.migrations import ServiceMigrations
from warehouse_service.adapters.orm import TABLES
from warehouse_service.settings import WarehouseSettings

# the movement ledger is append-only: a correction is a new movement
MIGRATIONS = ServiceMigrations("warehouse", __name__, WarehouseSettings, TABLES, append_only=("movements",))
