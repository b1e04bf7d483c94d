"""The SKU master as the order service keeps it (catalog.skus.v1): which SKUs an order may be placed for, their
category and final-sale flag, and the components a bundle is placed as. Plain Python: no framework, no I/O."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum


class UnknownSkuAction(StrEnum):
    """What a channel's orders for SKUs the catalog does not know (or has discontinued) get."""

    hold = "hold"  # on_hold with inventory_hold until the catalog knows every SKU, or a supervisor releases it
    reject = "reject"  # OrderRejected naming each such line's sku


@dataclass(frozen=True)
class Component:
    sku: str
    quantity: int  # units of the component in one unit of the bundle


@dataclass(frozen=True)
class CatalogSku:
    sku: str
    revision: int
    active: bool  # False: discontinued
    category: str | None = None
    final_sale: bool = False
    unit_cost: Decimal | None = None
    components: tuple[Component, ...] = ()  # a bundle's; empty for a plain SKU

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


def newest(entries: Iterable[CatalogSku]) -> list[CatalogSku]:
    """The highest revision of each SKU among `entries` (a batch may carry several)."""
    by_sku: dict[str, CatalogSku] = {}
    for entry in entries:
        if entry.sku not in by_sku or by_sku[entry.sku].revision < entry.revision:
            by_sku[entry.sku] = entry
    return list(by_sku.values())


def orderable(sku: str, catalog: Mapping[str, CatalogSku]) -> bool:
    entry = catalog.get(sku)
    return entry is not None and entry.active


def unorderable_skus(sku: str, catalog: Mapping[str, CatalogSku]) -> list[str]:
    """What stops an order for `sku` being placed as it stands: the SKU itself when the catalog does not know it or
    discontinued it, else, for a bundle, those of its components."""
    if not orderable(sku, catalog):
        return [sku]
    return [component.sku for component in catalog[sku].components if not orderable(component.sku, catalog)]


def placed_as_sent(sku: str, catalog: Mapping[str, CatalogSku]) -> bool:
    """An order line of `sku` can go to allocation as placed: known, active and not a bundle (a bundle only
    learnt of after the order was placed could not be placed as its components)."""
    return orderable(sku, catalog) and not catalog[sku].is_bundle


def apportion(unit_price: Decimal, components: Sequence[tuple[int, Decimal | None]],
              minor_digits: int) -> list[list[tuple[int, Decimal]]]:
    """One bundle unit's price over its components, given as (units per bundle, unit cost or None): by their unit
    costs when every component has one (and they add up to more than nothing), else evenly per unit.

    Per component, the parts of its units as (units, unit price): each unit price is rounded down to the
    currency's minor unit and the last component takes the remainder, so the parts add up to `unit_price` exactly.
    Where the remainder does not divide over the last component's units, some of them cost one minor unit more:
    its parts are then two.
    """
    price = int(unit_price.scaleb(minor_digits))  # in minor units: intake validated the decimals
    costs = [cost for _, cost in components]
    by_cost = all(cost is not None for cost in costs) and sum(costs) > 0
    weights = [Decimal(units) * (cost if by_cost else 1) for units, cost in components]
    total_weight = sum(weights)
    prices = [int((price * weight / (total_weight * units)).to_integral_value(ROUND_FLOOR))
              for (units, _), weight in zip(components[:-1], weights, strict=False)]
    last_units = components[-1][0]
    remainder = price - sum(unit * units for unit, (units, _) in zip(prices, components, strict=False))
    base, dearer = divmod(remainder, last_units)

    def money(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-minor_digits)

    parts = [[(units, money(unit))] for unit, (units, _) in zip(prices, components, strict=False)]
    last = [(last_units - dearer, money(base))] + ([(dearer, money(base + 1))] if dearer else [])
    return parts + [last]
