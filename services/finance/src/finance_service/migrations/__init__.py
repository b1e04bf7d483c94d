"""The finance service's schema history: Alembic revisions in versions/, run by `ecomops-migrate --service finance`."""

from ecomops_common.migrations import ServiceMigrations
from finance_service.adapters.orm import TABLES
from finance_service.settings import FinanceSettings

# journal entries are append-only: a correction is a reversing entry
MIGRATIONS = ServiceMigrations("finance", __name__, FinanceSettings, TABLES,
                               append_only=("journal_entries", "journal_lines"))
