"""What the warehouse takes from the SKU master (catalog.skus.v1): how units of a SKU are told apart at receipt
(lot, serial, expiry), what is hazardous, which barcodes name it, and that a bundle has no stock of its own.
Plain Python: no framework, no I/O."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from warehouse_service.domain.refusals import ScanRefused


@dataclass(frozen=True)
class SkuRules:
    sku: str
    revision: int  # the catalog's: an older or repeated revision changes nothing
    lot_controlled: bool = False
    serial_controlled: bool = False
    expiry_controlled: bool = False
    shelf_life_days: int | None = None
    hazmat_class: str | None = None
    barcodes: tuple[str, ...] = ()
    is_bundle: bool = False


def is_expired(expiry: date | None, on: date) -> bool:
    """Units are usable up to and including their expiry date."""
    return expiry is not None and expiry < on


def require_receivable(rules: SkuRules | None, lot: str | None, serial: str | None, expiry: date | None,
                       on: date) -> None:
    """Refuses a receipt the SKU master's rules forbid: a bundle (stocked as its components), units without the
    lot, serial or expiry their SKU is controlled by, or units expired already. A SKU the catalog has not
    announced is received without rules."""
    if rules is not None:
        if rules.is_bundle:
            raise ScanRefused("bundle_sku", f"{rules.sku} is a bundle: receive its components")
        if rules.lot_controlled and not lot:
            raise ScanRefused("missing_lot", f"{rules.sku} is lot-controlled: the scan needs the lot")
        if rules.serial_controlled and not serial:
            raise ScanRefused("missing_serial", f"{rules.sku} is serial-controlled: the scan needs the serial")
        if rules.expiry_controlled and expiry is None:
            raise ScanRefused("missing_expiry", f"{rules.sku} is expiry-controlled: the scan needs the expiry")
    if is_expired(expiry, on):
        raise ScanRefused("expired", f"the units expired on {expiry}")


def resolve_sku(scanned: str, known_skus: Collection[str], barcodes: Mapping[str, str]) -> str:
    """The SKU a scan names: a known SKU is itself, a known barcode its SKU, anything else as scanned."""
    if scanned in known_skus:
        return scanned
    return barcodes.get(scanned, scanned)
