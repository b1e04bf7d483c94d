"""The supply service's schema history: Alembic revisions in versions/, run by `ecomops-migrate --service supply`."""

from ecomops_common.migrations import ServiceMigrations
from supply_service.adapters.orm import TABLES
from supply_service.settings import SupplySettings

MIGRATIONS = ServiceMigrations("supply", __name__, SupplySettings, TABLES)
