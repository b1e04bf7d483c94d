"""The returns service's schema history: Alembic revisions in versions/, run by `ecomops-migrate --service returns`."""

from ecomops_common.migrations import ServiceMigrations
from returns_service.adapters.orm import TABLES
from returns_service.settings import ReturnsSettings

MIGRATIONS = ServiceMigrations("returns", __name__, ReturnsSettings, TABLES)
