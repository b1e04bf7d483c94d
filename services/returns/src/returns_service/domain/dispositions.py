"""The disposition rule table: what becomes of an inspected unit, by category, grade and reason. Rules are data,
validated on change, and every decision names the rule that fired. Plain Python: no I/O."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

from ecomops_common.errors import FieldProblem
from returns_service.domain.policy import STANDARD_REASONS

DISPOSITIONS = ("restock", "refurbish", "quarantine", "vendor_return", "liquidate", "scrap")
GRADES = {"A": "like new", "B": "opened", "C": "damaged", "D": "unsalvageable"}


@dataclass(frozen=True)
class DispositionRule:
    """Matches when every given criterion matches; None matches anything."""

    id: str
    disposition: str
    categories: frozenset[str] | None = None
    grades: frozenset[str] | None = None
    reasons: frozenset[str] | None = None

    def matches(self, category: str, grade: str, reason: str) -> bool:
        return all(allowed is None or value in allowed
                   for allowed, value in ((self.categories, category), (self.grades, grade), (self.reasons, reason)))


class Decision(NamedTuple):
    disposition: str
    rule_id: str  # which rule fired, for the audit trail


@dataclass(frozen=True)
class DispositionTable:
    """Rules in order: the first that matches decides. The last must match everything, so nothing is undecided."""

    rules: tuple[DispositionRule, ...]

    def decide(self, category: str, grade: str, reason: str) -> Decision:
        rule = next(rule for rule in self.rules if rule.matches(category, grade, reason))
        return Decision(rule.disposition, rule.id)

    def validate(self, reasons: Collection[str] = STANDARD_REASONS) -> list[FieldProblem]:
        errors: list[FieldProblem] = []
        if not self.rules:
            return [FieldProblem("rules", "at least one rule is needed")]
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            path = f"rules.{index}"
            if not rule.id or rule.id in seen:
                errors.append(FieldProblem(f"{path}.id", f"rule ids must be unique and not empty: {rule.id!r}"))
            seen.add(rule.id)
            if rule.disposition not in DISPOSITIONS:
                errors.append(FieldProblem(f"{path}.disposition", f"must be one of {', '.join(DISPOSITIONS)}"))
            for grade in sorted(rule.grades or ()):
                if grade not in GRADES:
                    errors.append(FieldProblem(f"{path}.grades", f"unknown grade {grade!r}: use A, B, C or D"))
            for reason in sorted(rule.reasons or ()):
                if reason not in reasons:
                    errors.append(FieldProblem(f"{path}.reasons", f"unknown reason code {reason!r}"))
        last = self.rules[-1]
        if (last.categories, last.grades, last.reasons) != (None, None, None):
            errors.append(FieldProblem(f"rules.{len(self.rules) - 1}",
                                     "the last rule must match everything (no categories, grades or reasons)"))
        return errors


DEFAULT_TABLE = DispositionTable((
    DispositionRule("like-new-restock", "restock", grades=frozenset({"A"})),
    DispositionRule("defective-to-vendor", "vendor_return", grades=frozenset({"B", "C"}),
                    reasons=frozenset({"defective"})),
    DispositionRule("opened-refurbish", "refurbish", grades=frozenset({"B"})),
    DispositionRule("damaged-quarantine", "quarantine", grades=frozenset({"C"})),
    DispositionRule("unsalvageable-scrap", "scrap", grades=frozenset({"D"})),
    DispositionRule("otherwise-quarantine", "quarantine"),
))


HAZARDOUS_RULE = "hazardous-category"  # the rule_id of a disposition forced by a hazardous category
HAZMAT_RULE = "hazmat-class"  # the rule_id of a disposition forced by the SKU's hazmat class (the catalog's)


@dataclass(frozen=True)
class HazardousCategories:
    """Hazardous or regulated product categories (batteries, aerosols, ...): their returned units always go to
    quarantine, whatever the disposition table says, and leave it only by a QA decision."""

    categories: frozenset[str] = frozenset()

    def validate(self) -> list[FieldProblem]:
        return [FieldProblem("categories", "category names must not be empty")] if "" in self.categories else []


DEFAULT_HAZARDOUS = HazardousCategories(frozenset({"batteries", "aerosols", "chemicals"}))


def decide_disposition(table: DispositionTable, hazardous: Collection[str], category: str, grade: str,
                       reason: str, hazmat_class: str | None = None) -> Decision:
    """Quarantine for a SKU with a hazmat class (rule HAZMAT_RULE) or of a hazardous category (HAZARDOUS_RULE),
    else the table's first matching rule."""
    if hazmat_class is not None:
        return Decision("quarantine", HAZMAT_RULE)
    if category in hazardous:
        return Decision("quarantine", HAZARDOUS_RULE)
    return table.decide(category, grade, reason)
