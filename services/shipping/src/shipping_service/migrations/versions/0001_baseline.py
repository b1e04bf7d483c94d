"""Baseline: the shipping service's tables, and the carrier services a fresh stack starts with (those of the
carrier simulator; PUT /v1/carrier-services changes them).

Revision ID: 0001
Revises:
Create Date: 2026-12-01 06:41:41.475939
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import ecomops_common.db
from ecomops_common.migration_steps import create_messaging_tables_v1, drop_messaging_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from the domain): replaying this revision must always seed the same.
SEEDED_SERVICES = [
    {
        "carrier": "simdhl",
        "service": "ground",
        "transit_days": 3,
        "cutoff": "16:00",
        "hazmat_allowed": True,
        "max_weight_kg": 31.5,
    },
    {
        "carrier": "simdhl",
        "service": "express",
        "transit_days": 1,
        "cutoff": "14:00",
        "hazmat_allowed": False,
        "max_weight_kg": 31.5,
    },
    {
        "carrier": "simups",
        "service": "standard",
        "transit_days": 2,
        "cutoff": "17:00",
        "hazmat_allowed": False,
        "max_weight_kg": 70.0,
    },
]


def upgrade() -> None:
    create_messaging_tables_v1()
    carrier_services = op.create_table(
        "shipping_carrier_services",
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("transit_days", sa.Integer(), nullable=False),
        sa.Column("cutoff", sa.String(length=5), nullable=False),
        sa.Column("hazmat_allowed", sa.Boolean(), nullable=False),
        sa.Column("max_weight_kg", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "service"),
    )
    op.create_table(
        "shipping_channel_rules",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "shipping_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("service_level", sa.String(length=16), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("placed_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "shipping_parcels",
        sa.Column("parcel_id", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("created_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("rma_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("hazmat", sa.Boolean(), nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("ship_date", sa.Date(), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("meets_promise", sa.Boolean(), nullable=True),
        sa.Column("label_id", sa.String(length=128), nullable=True),
        sa.Column("tracking_number", sa.String(length=128), nullable=True),
        sa.Column("label_url", sa.Text(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=17, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("purchased_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("tracking_status", sa.String(length=32), nullable=True),
        sa.Column("delivered_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("retried_by", sa.String(length=128), nullable=True),
        sa.Column("retried_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("parcel_id"),
    )
    op.create_index("ix_shipping_parcels_delivered", "shipping_parcels", ["delivered_at"], unique=False)
    op.create_index("ix_shipping_parcels_due", "shipping_parcels", ["status", "next_attempt_at"], unique=False)
    op.create_index(
        "ix_shipping_parcels_handover", "shipping_parcels", ["dispatched_at", "handed_over_at"], unique=False
    )
    op.create_index("ix_shipping_parcels_order", "shipping_parcels", ["order_id"], unique=False)
    op.create_index("ix_shipping_parcels_rma", "shipping_parcels", ["rma_id"], unique=False)
    op.create_index("ux_shipping_parcels_tracking", "shipping_parcels", ["tracking_number"], unique=True)
    op.create_table(
        "shipping_skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("hazmat_class", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "shipping_tracking_cursors",
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("feed"),
    )
    op.create_table(
        "shipping_tracking_events",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column("parcel_id", sa.String(length=160), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("occurred_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", ecomops_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        "ix_shipping_tracking_events_number",
        "shipping_tracking_events",
        ["tracking_number", "occurred_at"],
        unique=False,
    )
    op.bulk_insert(
        carrier_services,
        [
            {**service, "active": True, "updated_by": "migration:0001", "updated_at": datetime(2026, 12, 1, tzinfo=UTC)}
            for service in SEEDED_SERVICES
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_shipping_tracking_events_number", table_name="shipping_tracking_events")
    op.drop_table("shipping_tracking_events")
    op.drop_table("shipping_tracking_cursors")
    op.drop_table("shipping_skus")
    op.drop_index("ux_shipping_parcels_tracking", table_name="shipping_parcels")
    op.drop_index("ix_shipping_parcels_rma", table_name="shipping_parcels")
    op.drop_index("ix_shipping_parcels_order", table_name="shipping_parcels")
    op.drop_index("ix_shipping_parcels_handover", table_name="shipping_parcels")
    op.drop_index("ix_shipping_parcels_due", table_name="shipping_parcels")
    op.drop_index("ix_shipping_parcels_delivered", table_name="shipping_parcels")
    op.drop_table("shipping_parcels")
    op.drop_table("shipping_orders")
    op.drop_table("shipping_channel_rules")
    op.drop_table("shipping_carrier_services")
    drop_messaging_tables_v1()
