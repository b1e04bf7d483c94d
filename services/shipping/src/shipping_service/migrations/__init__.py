"""The shipping service's schema history: Alembic revisions in versions/, run by `ecomops-migrate --service
shipping`."""

from ecomops_common.migrations import ServiceMigrations
from shipping_service.adapters.orm import TABLES
from shipping_service.settings import ShippingSettings

MIGRATIONS = ServiceMigrations("shipping", __name__, ShippingSettings, TABLES)
