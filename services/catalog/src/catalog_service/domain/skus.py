"""The SKU master's rules. Plain Python: no I/O.

A record's own rules (cost and currency, what a bundle may be) and the rules between records (a barcode names
one SKU; a bundle's components exist and are no bundles themselves) are checked for a set of changes at once,
against the records they touch: one PUT, or every row of a CSV file, whose rows may name each other (a bundle and
its components in one file). Each problem names the field it is about, as a dotted path in the record."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from ecomops_common.errors import FieldProblem
from ecomops_common.money import UnknownCurrency, minor_unit_digits

# GET /v1/skus/export is the catalog's export: a SKU of that name could never be read back.
RESERVED_SKUS = frozenset({"export"})


class Component(Protocol):
    sku: str
    quantity: int


class SkuRecord(Protocol):
    """What the rules read of a record (the HTTP body, a CSV row, the stored SkuChanged all have it)."""

    barcodes: Sequence[str]
    lot_controlled: bool
    serial_controlled: bool
    expiry_controlled: bool
    shelf_life_days: int | None
    vendor_id: str | None
    unit_cost: Decimal | None
    currency: str | None
    components: Sequence[Component]


def is_bundle(record: SkuRecord) -> bool:
    """A bundle or kit is sold as its SKU, stocked and shipped as its components."""
    return bool(record.components)


def own_problems(sku: str, record: SkuRecord) -> list[FieldProblem]:
    """The rules of one record alone."""
    problems = []
    if sku in RESERVED_SKUS:
        problems.append(FieldProblem("sku", f"{sku!r} is reserved: GET /v1/skus/{sku} is the catalog's export"))
    if record.currency is not None:
        try:
            minor_unit_digits(record.currency)
        except UnknownCurrency as unknown:
            problems.append(FieldProblem("currency", str(unknown)))
    if record.unit_cost is not None:
        if record.currency is None:
            problems.append(FieldProblem("currency", "a unit_cost needs its currency"))
        if record.unit_cost < 0:
            problems.append(FieldProblem("unit_cost", "must not be negative"))
    seen: set[str] = set()
    for n, code in enumerate(record.barcodes):
        if code in seen:
            problems.append(FieldProblem(f"barcodes.{n}", f"barcode {code} is listed twice"))
        seen.add(code)
    if is_bundle(record):
        problems += _bundle_problems(sku, record)
    return problems


def _bundle_problems(sku: str, record: SkuRecord) -> list[FieldProblem]:
    """A bundle has no stock of its own: no lots, serials or expiry to track, and nothing to buy from a vendor
    (its components are bought)."""
    problems = [FieldProblem(name, f"a bundle is not {name.replace('_', '-')}: its components are")
                for name in ("lot_controlled", "serial_controlled", "expiry_controlled") if getattr(record, name)]
    if record.shelf_life_days is not None:
        problems.append(FieldProblem("shelf_life_days", "a bundle has no shelf life: its components have"))
    if record.vendor_id is not None:
        problems.append(FieldProblem("vendor_id", "a bundle is not bought from a vendor: its components are"))
    seen: set[str] = set()
    for n, component in enumerate(record.components):
        if component.sku == sku:
            problems.append(FieldProblem(f"components.{n}.sku", "a bundle cannot be its own component"))
        elif component.sku in seen:
            problems.append(FieldProblem(f"components.{n}.sku", f"{component.sku} is listed twice"))
        seen.add(component.sku)
    return problems


class Catalog:
    """The catalog as it would be after some changes: the records, who owns each barcode, which bundles use each
    SKU. It holds at least the SKUs the checked records touch: those sharing their barcodes, their components and
    the bundles they are components of."""

    def __init__(self, records: Mapping[str, SkuRecord]) -> None:
        self.records = records
        self.barcode_owners: dict[str, set[str]] = defaultdict(set)
        self.bundles_using: dict[str, set[str]] = defaultdict(set)
        for sku, record in records.items():
            for code in record.barcodes:
                self.barcode_owners[code].add(sku)
            for component in record.components:
                self.bundles_using[component.sku].add(sku)


def catalog_problems(sku: str, record: SkuRecord, catalog: Catalog) -> list[FieldProblem]:
    """The rules between this record and the rest of the catalog."""
    problems = []
    for n, code in enumerate(record.barcodes):
        if owners := sorted(catalog.barcode_owners.get(code, set()) - {sku}):
            problems.append(FieldProblem(f"barcodes.{n}", f"barcode {code} is already SKU {owners[0]}'s"))
    for n, component in enumerate(record.components):
        if component.sku == sku:
            continue  # _bundle_problems names it
        known = catalog.records.get(component.sku)
        if known is None:
            problems.append(FieldProblem(f"components.{n}.sku", f"no SKU {component.sku} in the catalog"))
        elif is_bundle(known):
            problems.append(FieldProblem(f"components.{n}.sku", f"{component.sku} is a bundle: a component must "
                                                                 "be a plain SKU"))
    if is_bundle(record) and (using := sorted(catalog.bundles_using.get(sku, set()) - {sku})):
        problems.append(FieldProblem("components", f"{sku} is a component of bundle {using[0]}: a bundle's "
                                                   "component cannot be a bundle"))
    return problems


def check_changes(changes: Mapping[str, SkuRecord],
                  stored: Mapping[str, SkuRecord]) -> dict[str, list[FieldProblem]]:
    """The problems of each change that breaks a rule, given the stored records it touches and the other changes.
    A change with problems is not applied, so the others are checked again without it until no new problem
    appears (a bundle whose component's change is refused may then miss that component)."""
    problems = {sku: own_problems(sku, record) for sku, record in changes.items()}
    checked = list(changes)  # at first every change, so a refused one names all its problems at once
    while True:
        catalog = Catalog({**stored, **{sku: record for sku, record in changes.items() if not problems[sku]}})
        found = {sku: catalog_problems(sku, changes[sku], catalog) for sku in checked}
        refused_now = [sku for sku, more in found.items() if more and not problems[sku]]
        for sku, more in found.items():
            problems[sku] += more
        if not refused_now:
            return {sku: found for sku, found in problems.items() if found}
        checked = [sku for sku in changes if not problems[sku]]
