"""The order service's schema history: Alembic revisions in versions/, run by `ecomops-migrate --service order`."""

from ecomops_common.migrations import ServiceMigrations
from order_service.adapters.orm import TABLES
from order_service.settings import OrderSettings

MIGRATIONS = ServiceMigrations("order", __name__, OrderSettings, TABLES)
