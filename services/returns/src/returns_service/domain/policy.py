"""May this return be authorized? Policy checks per channel and product category. Plain Python: no I/O.

A refusal names the rule and why, so customer service can tell the customer and a portal can show it.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from ecomops_common.errors import FieldProblem

STANDARD_REASONS = frozenset({"damaged_in_transit", "defective", "wrong_item", "not_as_described", "size_fit",
                              "changed_mind", "late_delivery", "other"})


class Refusal(NamedTuple):
    rule: str  # stable code, e.g. outside_return_window
    field: str  # what it is about, e.g. lines.0.quantity
    message: str


@dataclass(frozen=True)
class ReturnPolicy:
    """A channel's return rules; categories may have windows of their own."""

    return_window_days: int = 30
    window_days_by_category: Mapping[str, int] = field(default_factory=dict)
    non_returnable_categories: frozenset[str] = frozenset({"hygiene"})
    reason_codes: frozenset[str] = STANDARD_REASONS
    return_node: str | None = None  # where parcels go; None: back to the node that shipped the units
    transit_days: int = 7  # from authorization to the expected arrival, for the aging queue

    def window_for(self, category: str, sku_days: int | None = None) -> timedelta:
        """The SKU's own window when the catalog sets one, else the category's, else the channel's."""
        if sku_days is not None:
            return timedelta(days=sku_days)
        return timedelta(days=self.window_days_by_category.get(category, self.return_window_days))

    def validate(self) -> list[FieldProblem]:
        errors = []
        if not isinstance(self.return_window_days, int) or self.return_window_days < 0:
            errors.append(FieldProblem("return_window_days", "must be an integer >= 0"))
        for category, days in self.window_days_by_category.items():
            if not isinstance(days, int) or days < 0:
                errors.append(FieldProblem(f"window_days_by_category.{category}", "must be an integer >= 0"))
        if not self.reason_codes:
            errors.append(FieldProblem("reason_codes", "at least one reason code is needed"))
        if not isinstance(self.transit_days, int) or self.transit_days < 0:
            errors.append(FieldProblem("transit_days", "must be an integer >= 0"))
        return errors


DEFAULT_POLICY = ReturnPolicy()


@dataclass(frozen=True)
class ShippedLine:
    """What the order service knows of an order line that the customer may send back."""

    line_id: str
    sku: str
    category: str
    shipped: int
    returned_or_requested: int = 0  # units of the line in earlier return requests
    final_sale: bool = False
    node: str | None = None  # that shipped the units
    returnable: bool = True  # False: the catalog says the SKU cannot be returned
    window_days: int | None = None  # the SKU's own return window (the catalog's), over the channel's


@dataclass(frozen=True)
class CatalogSku:
    """What the catalog (SkuChanged) says of a SKU that returns decide by."""

    returnable: bool = True
    final_sale: bool = False
    return_window_days: int | None = None
    category: str | None = None
    hazmat_class: str | None = None  # set: the SKU is hazardous (its returned units go to quarantine)


def as_catalog_says(line: ShippedLine, sku: CatalogSku | None) -> ShippedLine:
    """The line with the catalog's rules of its SKU over the order line's flags: returnability, final sale, the
    SKU's own window and its category (the order line's when the catalog has none). A SKU the catalog does not know
    keeps the order line's."""
    if sku is None:
        return line
    return replace(line, category=sku.category or line.category, final_sale=sku.final_sale,
                   returnable=sku.returnable, window_days=sku.return_window_days)


@dataclass(frozen=True)
class RequestedLine:
    line_id: str
    quantity: int


class AskedLine(NamedTuple):
    """A line as the customer asks: by SKU, with the order line only when the SKU is on several."""

    sku: str
    quantity: int
    line_id: str | None = None


def resolve_lines(asked: Collection[AskedLine],
                  shipped: Mapping[str, ShippedLine]) -> tuple[list[RequestedLine], list[Refusal]]:
    """The order lines the customer means; an SKU not on the order or on several lines without a line_id is
    refused."""
    requested, refusals = [], []
    for index, line in enumerate(asked):
        candidates = [s.line_id for s in shipped.values() if s.sku == line.sku
                      and (line.line_id is None or s.line_id == line.line_id)]
        if len(candidates) == 1:
            requested.append(RequestedLine(candidates[0], line.quantity))
        elif not candidates:
            refusals.append(Refusal("not_on_order", f"lines.{index}.sku", f"{line.sku} is not on the order"
                                    + (f" as line {line.line_id}" if line.line_id else "")))
        else:
            refusals.append(Refusal("ambiguous_line", f"lines.{index}.line_id",
                                    f"{line.sku} is on lines {', '.join(sorted(candidates))}: say which"))
    return requested, refusals


def starts_return_window(fulfilment_stage: str) -> bool:
    """Of the warehouse's stages, only delivery matters to returns: the return window runs from it."""
    return fulfilment_stage == "delivered"


def check_request(lines: Collection[RequestedLine], reason: str, shipped: Mapping[str, ShippedLine],
                  delivered_at: datetime | None, now: datetime, policy: ReturnPolicy) -> list[Refusal]:
    """Every rule the request breaks (empty when it may become an RMA).

    The window runs from delivery; an order shipped but not yet delivered is still inside it.
    """
    refusals = []
    if reason not in policy.reason_codes:
        refusals.append(Refusal("unknown_reason", "reason",
                                f"reason must be one of {', '.join(sorted(policy.reason_codes))}"))
    for index, requested in enumerate(lines):
        path = f"lines.{index}"
        line = shipped.get(requested.line_id)
        if line is None or line.shipped <= 0:
            refusals.append(Refusal("not_shipped", f"{path}.line_id", f"line {requested.line_id} was not shipped"))
            continue
        if not line.returnable:
            refusals.append(Refusal("not_returnable", f"{path}.line_id", f"{line.sku} cannot be returned"))
        if line.category in policy.non_returnable_categories:
            refusals.append(Refusal("non_returnable_category", f"{path}.line_id",
                                    f"{line.sku} is in category {line.category}, which cannot be returned"))
        if line.final_sale:
            refusals.append(Refusal("final_sale", f"{path}.line_id", f"{line.sku} was sold as final sale"))
        window = policy.window_for(line.category, line.window_days)
        if delivered_at is not None and now > delivered_at + window:
            days = window.days
            refusals.append(Refusal("outside_return_window", f"{path}.line_id",
                                    f"{line.sku} was delivered {delivered_at.date()}: the {days}-day window closed"))
        returnable = line.shipped - line.returned_or_requested
        if requested.quantity <= 0 or requested.quantity > returnable:
            refusals.append(Refusal("quantity_exceeds_returnable", f"{path}.quantity",
                                    f"{returnable} of {line.sku} can still be returned, {requested.quantity} asked"))
    if len(lines) != len({line.line_id for line in lines}):  # else one line's units could be asked twice
        refusals.append(Refusal("duplicate_line", "lines", "each order line may be asked once"))
    return refusals


def return_node(policy: ReturnPolicy, lines: Sequence[RequestedLine], shipped: Mapping[str, ShippedLine],
                default_node: str) -> str:
    """Where the parcel goes: the channel's return node, else the node that shipped the first line asked, else
    the service's default (a shipment not seen)."""
    return policy.return_node or shipped[lines[0].line_id].node or default_node
