"""The SKU master's rules (domain/skus.py), on plain records: no I/O."""

from dataclasses import dataclass, field
from decimal import Decimal

from catalog_service.domain.skus import check_changes, own_problems
from ecomops_common.errors import FieldProblem


@dataclass(frozen=True)
class Part:
    sku: str
    quantity: int = 1


@dataclass(frozen=True)
class Record:
    barcodes: tuple[str, ...] = ()
    lot_controlled: bool = False
    serial_controlled: bool = False
    expiry_controlled: bool = False
    shelf_life_days: int | None = None
    vendor_id: str | None = None
    unit_cost: Decimal | None = None
    currency: str | None = None
    components: tuple[Part, ...] = field(default_factory=tuple)


def bundle(*skus: str, **fields) -> Record:
    return Record(components=tuple(Part(sku) for sku in skus), **fields)


def fields_of(problems: list[FieldProblem]) -> list[str]:
    return [problem.field for problem in problems]


def test_a_plain_record_breaks_no_rule():
    assert own_problems("SKU-A", Record(barcodes=("4006381333931",), unit_cost=Decimal("2.50"), currency="EUR",
                                        lot_controlled=True, vendor_id="V1")) == []


def test_a_unit_cost_needs_a_known_currency_and_is_not_negative():
    assert fields_of(own_problems("A", Record(unit_cost=Decimal("1.00")))) == ["currency"]
    [unknown] = own_problems("A", Record(unit_cost=Decimal("1.00"), currency="ABC"))
    assert unknown.field == "currency" and "ISO 4217" in unknown.message
    assert fields_of(own_problems("A", Record(unit_cost=Decimal("-0.01"), currency="EUR"))) == ["unit_cost"]
    assert own_problems("A", Record(unit_cost=Decimal(0), currency="JPY")) == []


def test_a_barcode_is_listed_once():
    assert fields_of(own_problems("A", Record(barcodes=("1", "2", "1")))) == ["barcodes.2"]


def test_the_export_path_is_no_sku():
    assert fields_of(own_problems("export", Record())) == ["sku"]


def test_a_bundle_has_no_stock_of_its_own():
    problems = own_problems("KIT", bundle("A", lot_controlled=True, serial_controlled=True, expiry_controlled=True,
                                          shelf_life_days=30, vendor_id="V1"))
    assert fields_of(problems) == ["lot_controlled", "serial_controlled", "expiry_controlled", "shelf_life_days",
                                   "vendor_id"]
    assert "a bundle is not lot-controlled" in problems[0].message


def test_a_bundle_is_not_its_own_component_and_names_each_component_once():
    assert fields_of(own_problems("KIT", bundle("KIT", "A", "A"))) == ["components.0.sku", "components.2.sku"]


def test_components_exist_and_are_plain_skus():
    stored = {"A": Record(), "KIT-OLD": bundle("A")}
    problems = check_changes({"KIT": bundle("A", "NOPE", "KIT-OLD")}, stored)
    assert [(p.field, p.message) for p in problems["KIT"]] == [
        ("components.1.sku", "no SKU NOPE in the catalog"),
        ("components.2.sku", "KIT-OLD is a bundle: a component must be a plain SKU")]


def test_a_component_of_a_bundle_cannot_become_a_bundle():
    problems = check_changes({"A": bundle("B")}, {"A": Record(), "B": Record(), "KIT": bundle("A")})
    assert [(p.field, p.message) for p in problems["A"]] == [
        ("components", "A is a component of bundle KIT: a bundle's component cannot be a bundle")]


def test_a_barcode_names_one_sku():
    stored = {"A": Record(barcodes=("111",))}
    problems = check_changes({"B": Record(barcodes=("222", "111"))}, stored)
    assert [(p.field, p.message) for p in problems["B"]] == [("barcodes.1", "barcode 111 is already SKU A's")]
    # Moved in one set of changes: A gives it up as B takes it.
    assert check_changes({"A": Record(), "B": Record(barcodes=("111",))}, stored) == {}
    # Two changes claiming one barcode: both refused.
    assert set(check_changes({"C": Record(barcodes=("9",)), "D": Record(barcodes=("9",))}, {})) == {"C", "D"}


def test_changes_may_name_each_other_and_a_refused_change_takes_its_dependants_along():
    assert check_changes({"KIT": bundle("A", "B"), "A": Record(), "B": Record()}, {}) == {}
    problems = check_changes({"KIT": bundle("A", "B"), "A": Record(), "B": Record(unit_cost=Decimal(1))}, {})
    assert fields_of(problems["B"]) == ["currency"]
    assert [(p.field, p.message) for p in problems["KIT"]] == [("components.1.sku", "no SKU B in the catalog")]
    assert "A" not in problems


def test_a_refused_change_leaves_the_stored_record_in_place():
    """B exists: its refused change does not take the bundle that uses it along."""
    problems = check_changes({"KIT": bundle("B"), "B": Record(unit_cost=Decimal(1))}, {"B": Record()})
    assert set(problems) == {"B"}


def test_changing_a_component_and_its_bundle_together_breaks_nothing():
    stored = {"A": Record(), "KIT": bundle("A")}
    assert check_changes({"A": Record(barcodes=("5",)), "KIT": bundle("A")}, stored) == {}
