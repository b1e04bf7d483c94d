"""The supply side (issue 19): the catalog's handling rules per SKU and its barcodes; advance ship notices as
expected receipts (purchase order, unit costs, lots) and the expected date of ASNs and transfers; the
first-expiring lot a pick task suggests; parcels, packed and labelled.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ecomops_common.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warehouse_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("lot_controlled", sa.Boolean(), nullable=False),
        sa.Column("serial_controlled", sa.Boolean(), nullable=False),
        sa.Column("expiry_controlled", sa.Boolean(), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("hazmat_class", sa.String(length=64), nullable=True),
        sa.Column("barcodes", sa.Text(), nullable=False),
        sa.Column("is_bundle", sa.Boolean(), nullable=False),
        sa.Column("changed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "warehouse_barcodes",
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("barcode"),
    )
    op.create_index("ix_warehouse_barcodes_sku", "warehouse_barcodes", ["sku"], unique=False)
    op.create_table(
        "warehouse_parcels",
        sa.Column("parcel_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("packed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("carrier", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("tracking_number", sa.Text(), nullable=True),
        sa.Column("label_url", sa.Text(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("label_purchased_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cost_charged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("parcel_id"),
    )
    op.create_index("ix_warehouse_parcels_order", "warehouse_parcels", ["order_id"], unique=False)
    op.add_column("expected_receipts", sa.Column("expected_date", sa.Date(), nullable=True))
    op.add_column("expected_receipts", sa.Column("po_id", sa.String(length=128), nullable=True))
    op.add_column("expected_receipts", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column("expected_receipts", sa.Column("terms", sa.Text(), server_default="{}", nullable=False))
    op.add_column("pick_tasks", sa.Column("suggested_lot", sa.String(length=64), nullable=True))
    op.add_column("pick_tasks", sa.Column("suggested_expiry", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pick_tasks") as tasks:  # SQLite drops a column by copying the table
        tasks.drop_column("suggested_expiry")
        tasks.drop_column("suggested_lot")
    with op.batch_alter_table("expected_receipts") as receipts:
        receipts.drop_column("terms")
        receipts.drop_column("currency")
        receipts.drop_column("po_id")
        receipts.drop_column("expected_date")
    op.drop_index("ix_warehouse_parcels_order", table_name="warehouse_parcels")
    op.drop_table("warehouse_parcels")
    op.drop_index("ix_warehouse_barcodes_sku", table_name="warehouse_barcodes")
    op.drop_table("warehouse_barcodes")
    op.drop_table("warehouse_skus")
