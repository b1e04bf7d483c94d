"""The control service's schema history: Alembic revisions in versions/, run by `ecomops-migrate`."""

from control_service.adapters.orm import TABLES
from control_service.settings import ControlSettings
from ecomops_common.migrations import ServiceMigrations

MIGRATIONS = ServiceMigrations("control", __name__, ControlSettings, TABLES)
