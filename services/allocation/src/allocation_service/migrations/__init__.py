"""The allocation service's schema history: Alembic revisions in versions/, run by `ecomops-migrate`."""

from allocation_service.adapters.orm import TABLES
from allocation_service.settings import AllocationSettings
from ecomops_common.migrations import ServiceMigrations

MIGRATIONS = ServiceMigrations("allocation", __name__, AllocationSettings, TABLES)
