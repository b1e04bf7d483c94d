"""The SKU master, topic catalog.skus.v1 (key: the SKU), owned by the catalog service: every other service takes
a SKU's identity, handling rules, vendor and cost from here."""

from enum import StrEnum

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import INT4_MAX, Document, EventPayload, Money

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"


class SkuStatus(StrEnum):
    active = "active"
    discontinued = "discontinued"  # still stocked and returned; not replenished, new orders for it are held


class Dimensions(Document):
    length_cm: float = Field(gt=0, le=10_000)
    width_cm: float = Field(gt=0, le=10_000)
    height_cm: float = Field(gt=0, le=10_000)


class BundleComponent(Document):
    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(ge=1, le=10_000)


class SkuChanged(EventPayload):
    """A SKU's whole master record after a change (a snapshot: consumers replace what they hold). `revision`
    grows with every change of the SKU; a consumer ignores a revision not above the one it applied."""

    sku: str = Field(pattern=SKU_PATTERN)
    revision: int = Field(ge=1, le=INT4_MAX)
    status: SkuStatus
    name: str = Field(min_length=1, max_length=200)
    barcodes: list[str] = Field(default_factory=list, max_length=20, description="GTIN/EAN/UPC or own codes")
    category: str | None = Field(default=None, max_length=64, description="For return rules, e.g. hygiene")
    dimensions: Dimensions | None = None
    weight_kg: float | None = Field(default=None, gt=0, le=100_000)
    hazmat_class: str | None = Field(default=None, max_length=64, description="e.g. UN3480 lithium batteries; "
                                                                          "carriers and disposal depend on it")
    lot_controlled: bool = False
    serial_controlled: bool = False
    expiry_controlled: bool = Field(default=False, description="Receipts carry an expiry; picks go first-expiry-"
                                                               "first-out")
    shelf_life_days: int | None = Field(default=None, ge=1, le=36_500)
    vendor_id: str | None = Field(default=None, max_length=64)
    vendor_sku: str | None = Field(default=None, max_length=64)
    lead_time_days: int | None = Field(default=None, ge=0, le=365, description="The vendor's lead time")
    min_order_quantity: int = Field(default=1, ge=1, le=1_000_000)
    case_pack: int = Field(default=1, ge=1, le=100_000, description="Purchase quantities are multiples of it")
    unit_cost: Money | None = Field(default=None, description="What a unit costs the retailer (finance's cost)")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    returnable: bool = True
    final_sale: bool = Field(default=False, description="Sold as final sale: not returnable")
    return_window_days: int | None = Field(default=None, ge=0, le=3_650)
    components: list[BundleComponent] = Field(default_factory=list, max_length=100,
                                              description="A bundle or kit: sold as this SKU, stocked and shipped "
                                                          "as its components; empty for a plain SKU")
    changed_by: str
    changed_at: AwareDatetime

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)
