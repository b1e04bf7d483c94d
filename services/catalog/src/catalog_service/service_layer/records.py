"""A SKU's master record as callers write it (a PUT body, a CSV row): SkuChanged's fields but the SKU, its
revision and who changed it when, which the catalog sets. Shapes and ranges are checked here, field by field; the
rules between fields and records are the domain's (domain/skus.py)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from ecomops_common.contracts.catalog import BundleComponent, Dimensions, SkuChanged, SkuStatus
from ecomops_common.contracts.types import Document, Money

# Printable ASCII without blanks and without "|", which separates barcodes in a CSV cell.
BARCODE_PATTERN = r"^[!-{}~]{1,64}$"
Barcode = Annotated[str, Field(pattern=BARCODE_PATTERN, description="GTIN/EAN/UPC or an own code")]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]


class SkuFields(Document):
    # Who changed it is the token's subject, not a field. Blanks around text are dropped, as a CSV cell's are, so
    # a record reads back from the export as it was written.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    status: SkuStatus = SkuStatus.active
    barcodes: list[Barcode] = Field(default_factory=list, max_length=20, description="Each names this SKU only")
    category: Text64 | None = Field(default=None, description="For return rules, e.g. hygiene")
    dimensions: Dimensions | None = None
    weight_kg: float | None = Field(default=None, gt=0, le=100_000)
    hazmat_class: Text64 | None = Field(default=None, description="e.g. UN3480 lithium batteries")
    lot_controlled: bool = False
    serial_controlled: bool = False
    expiry_controlled: bool = False
    shelf_life_days: int | None = Field(default=None, ge=1, le=36_500)
    vendor_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    vendor_sku: Text64 | None = None
    lead_time_days: int | None = Field(default=None, ge=0, le=365)
    min_order_quantity: int = Field(default=1, ge=1, le=1_000_000)
    case_pack: int = Field(default=1, ge=1, le=100_000, description="Purchase quantities are multiples of it")
    unit_cost: Money | None = Field(default=None, description="Needs currency; finance's cost of the SKU")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217")
    returnable: bool = True
    final_sale: bool = Field(default=False, description="Sold as final sale: not returnable")
    return_window_days: int | None = Field(default=None, ge=0, le=3_650)
    components: list[BundleComponent] = Field(
        default_factory=list, max_length=100, description="A bundle's: plain SKUs of the catalog; empty for a plain "
                                                          "SKU. A bundle is not lot, serial or expiry controlled, "
                                                          "has no shelf life and no vendor")

    @field_validator("unit_cost")
    @classmethod
    def _fixed_point(cls, amount: Decimal | None) -> Decimal | None:
        """1E+2 is published as 100, as the contract's money pattern has it."""
        return None if amount is None else Decimal(format(amount, "f"))


FIELDS = frozenset(SkuFields.model_fields)


def fields_of(record: SkuFields | SkuChanged) -> dict[str, Any]:
    """The record's fields as a caller writes them, as values (amounts as Decimal: 2.5 is 2.50)."""
    return {name: getattr(record, name) for name in FIELDS}


def unchanged(fields: SkuFields, stored: SkuChanged | None) -> bool:
    return stored is not None and fields_of(fields) == fields_of(stored)


def snapshot(sku: str, fields: SkuFields, stored: SkuChanged | None, by: str, at: datetime) -> SkuChanged:
    """The record after a change: the next revision, changed by `by` at `at`."""
    return SkuChanged(sku=sku, revision=stored.revision + 1 if stored else 1, **dict(fields), changed_by=by,
                      changed_at=at)
