"""Supplier KPIs per vendor: how many of the units shipped of its SKUs came back defective (defect rate), and how
much of what was claimed from it was credited (recovery rate); and when a vendor claim waits for someone."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ecomops_common.contracts.returns import VendorClaimStatus

# A claim counts as claimed from the vendor once submitted (a draft is still ours to change).
CLAIMED = frozenset(status.value for status in VendorClaimStatus) - {VendorClaimStatus.draft.value}
AWAITING_VENDOR = frozenset(status.value for status in (VendorClaimStatus.submitted, VendorClaimStatus.accepted,
                                                        VendorClaimStatus.partially_accepted))
CENT = Decimal("0.01")


def claim_wait(status: str, defective_units: int) -> str | None:
    """What a claim waits for: `draft` (lines to submit), `submitted` (the vendor's answer or credit note), or
    nothing (an empty draft; credited or rejected)."""
    if status == VendorClaimStatus.draft:
        return "draft" if defective_units else None
    return "submitted" if status in AWAITING_VENDOR else None


@dataclass(frozen=True)
class Claim:
    """A vendor claim as its latest snapshot states it."""

    vendor_id: str
    status: str
    currency: str | None
    defective_units: int
    claimed: Decimal
    accepted: Decimal | None = None
    credited: Decimal | None = None


@dataclass(frozen=True)
class VendorKpi:
    vendor_id: str
    units_shipped: int
    defective_units: int
    defect_rate: float | None
    currency: str | None
    claimed: Decimal
    accepted: Decimal
    credited: Decimal
    recovery_rate: float | None
    open_claims: int


def _ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    return None if not whole else round(float(Decimal(part) / Decimal(whole)), 4)


def vendor_kpis(shipped: Mapping[str, int], claims: Iterable[Claim]) -> list[VendorKpi]:
    """One row per vendor and currency of its claims (one row without a currency when none has a cost yet).

    defect_rate = defective units (every claim's lines) ÷ units shipped of the vendor's SKUs, None when none
    shipped; recovery_rate = credited ÷ claimed (claims submitted or later), None when nothing is claimed.
    Units and open claims are the vendor's, on each of its rows."""
    by_vendor: dict[str, list[Claim]] = {vendor: [] for vendor in shipped}
    for claim in claims:
        by_vendor.setdefault(claim.vendor_id, []).append(claim)
    rows = []
    for vendor, of_vendor in sorted(by_vendor.items()):
        units = shipped.get(vendor, 0)
        defective = sum(claim.defective_units for claim in of_vendor)
        open_claims = sum(1 for claim in of_vendor if claim_wait(claim.status, claim.defective_units))
        currencies = sorted({claim.currency for claim in of_vendor if claim.currency}) or [None]
        for currency in currencies:
            # claims without a currency have no cost yet: nothing to add to any currency's amounts
            priced = [claim for claim in of_vendor if claim.currency == currency and claim.status in CLAIMED]
            claimed = sum((claim.claimed for claim in priced), Decimal(0))
            accepted = sum((claim.accepted or 0 for claim in priced), Decimal(0))
            credited = sum((claim.credited or 0 for claim in priced), Decimal(0))
            rows.append(VendorKpi(vendor, units, defective, _ratio(defective, units), currency,
                                  claimed.quantize(CENT), accepted.quantize(CENT), credited.quantize(CENT),
                                  _ratio(credited, claimed), open_claims))
    return rows
