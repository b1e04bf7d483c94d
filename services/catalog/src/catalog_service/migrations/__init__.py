"""The catalog service's schema history: Alembic revisions in versions/, run by `ecomops-migrate --service catalog`."""

from catalog_service.adapters.orm import TABLES
from catalog_service.settings import CatalogSettings
from ecomops_common.migrations import ServiceMigrations

MIGRATIONS = ServiceMigrations("catalog", __name__, CatalogSettings, TABLES, append_only=("catalog_sku_revisions",))
