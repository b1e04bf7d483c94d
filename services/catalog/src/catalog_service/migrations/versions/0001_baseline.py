"""Baseline: the SKU master (issue 19): SKUs, their barcodes, bundles' components and the append-only revisions.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 06:41:14.639865
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db
from ecomops_common.migration_steps import (
    create_messaging_tables_v1,
    drop_append_only,
    drop_messaging_tables_v1,
    make_append_only,
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "catalog_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("vendor_id", sa.String(length=64), nullable=True),
        sa.Column("bundle", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_index("ix_catalog_skus_category", "catalog_skus", ["category", "sku"], unique=False)
    op.create_index("ix_catalog_skus_status", "catalog_skus", ["status", "sku"], unique=False)
    op.create_index("ix_catalog_skus_vendor", "catalog_skus", ["vendor_id", "sku"], unique=False)
    op.create_table(
        "catalog_barcodes",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_catalog_barcodes_sku", "catalog_barcodes", ["sku"], unique=False)
    op.create_table(
        "catalog_bundle_components",
        sa.Column("bundle_sku", sa.String(length=64), nullable=False),
        sa.Column("component_sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bundle_sku", "component_sku"),
    )
    op.create_index("ix_catalog_bundle_components_component", "catalog_bundle_components", ["component_sku"],
                    unique=False)
    op.create_table(
        "catalog_sku_revisions",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sku", "revision"),
    )
    make_append_only("catalog_sku_revisions",
                     "catalog_sku_revisions is append-only: the revisions are the audit of the SKU master")


def downgrade() -> None:
    drop_append_only("catalog_sku_revisions")
    op.drop_table("catalog_sku_revisions")
    op.drop_index("ix_catalog_bundle_components_component", table_name="catalog_bundle_components")
    op.drop_table("catalog_bundle_components")
    op.drop_index("ix_catalog_barcodes_sku", table_name="catalog_barcodes")
    op.drop_table("catalog_barcodes")
    op.drop_index("ix_catalog_skus_vendor", table_name="catalog_skus")
    op.drop_index("ix_catalog_skus_status", table_name="catalog_skus")
    op.drop_index("ix_catalog_skus_category", table_name="catalog_skus")
    op.drop_table("catalog_skus")
    drop_messaging_tables_v1()
