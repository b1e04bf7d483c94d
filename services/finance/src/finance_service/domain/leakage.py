"""Leakage rules: restocking fees a refund should have kept. Plain Python."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FeeRule:
    retailer_fault_reasons: frozenset[str]  # the retailer's fault: no fee is due
    fee_grades: frozenset[str]  # inspection grades a fee is due for
    fee_conditions: frozenset[str]  # the same, as the warehouse's scanned conditions


def uncharged_fee(rule: FeeRule, reason: str, lines: Iterable[Mapping[str, Any]],
                  breakdown: Iterable[Mapping[str, Any]], rma_conditions: set[str]) -> dict[str, list[str]] | None:
    """Why a refund without a restocking fee should have had one, or None.

    Judged on the units the refund covers: their grades, which the returns service states per refunded line, so a
    like-new unit refunded apart from a damaged one of the same RMA is not flagged. A refund made before
    inspection states no grades; the conditions the RMA was graded in afterwards stand for its units."""
    if reason in rule.retailer_fault_reasons or any(c["kind"].startswith("restocking_fee") for c in breakdown):
        return None
    grades = {grade for line in lines for grade, units in line.get("grades", {}).items() if units}
    if grades:
        due = sorted(grades & rule.fee_grades)
        return {"grades": due, "conditions": []} if due else None
    due = sorted(rma_conditions & rule.fee_conditions)
    return {"grades": [], "conditions": due} if due else None
