"""The SKU master's rules at intake, in the domain: unknown-SKU policy, catalog flags, bundles placed as their
components with the price apportioned, the inventory hold released once the catalog caught up."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ecomops_common.contracts.orders import HoldReason, OrderStatus
from order_service.domain.catalog import (
    CatalogSku,
    Component,
    UnknownSkuAction,
    apportion,
    newest,
    placed_as_sent,
    unorderable_skus,
)
from order_service.domain.lifecycle import IntakePolicy, LifecycleError, OrderState
from order_service.domain.model import Order, OrderLine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
S = OrderStatus


def sku(name: str, *components: tuple[str, int], active: bool = True, cost: str | None = None,
        category: str | None = None, final_sale: bool = False) -> CatalogSku:
    return CatalogSku(name, 1, active, category, final_sale, Decimal(cost) if cost else None,
                      tuple(Component(part, units) for part, units in components))


def catalog_of(*entries: CatalogSku) -> dict[str, CatalogSku]:
    return {entry.sku: entry for entry in entries}


def screened(lines: list[OrderLine], catalog: dict[str, CatalogSku], action: UnknownSkuAction | None = None,
             **changes) -> Order:
    total = sum((line.amount for line in lines), Decimal(0))
    fields = dict(id="o1", channel="web-eu", external_order_id="1", currency="EUR", lines=lines,
                  shipping_fee=Decimal("0"), tax=Decimal("0"), payment_amount=total)
    order = Order(**{**fields, **changes})
    order.screen(IntakePolicy(), NOW, catalog=catalog, unknown_sku_action=action)
    return order


# --- apportioning a bundle's price -----------------------------------------------------------------------------


def test_without_unit_costs_the_price_goes_evenly_with_the_remainder_on_the_last():
    assert apportion(Decimal("10.00"), [(1, None), (1, None), (1, None)], 2) == [
        [(1, Decimal("3.33"))], [(1, Decimal("3.33"))], [(1, Decimal("3.34"))]]


def test_evenly_means_per_unit_of_the_components():
    assert apportion(Decimal("9.00"), [(2, None), (1, None)], 2) == [[(2, Decimal("3.00"))], [(1, Decimal("3.00"))]]


def test_with_unit_costs_the_price_goes_by_cost_and_one_missing_cost_makes_it_even():
    assert apportion(Decimal("100.00"), [(1, Decimal("30")), (1, Decimal("10"))], 2) == [
        [(1, Decimal("75.00"))], [(1, Decimal("25.00"))]]
    assert apportion(Decimal("100.00"), [(1, Decimal("30")), (1, None)], 2) == [
        [(1, Decimal("50.00"))], [(1, Decimal("50.00"))]]
    assert apportion(Decimal("100.00"), [(1, Decimal("0")), (1, Decimal("0"))], 2) == [
        [(1, Decimal("50.00"))], [(1, Decimal("50.00"))]]


def test_costs_weigh_by_the_units_in_the_bundle():
    # 2 × 5.00 and 1 × 10.00 cost the same: half of the price each, 2 units at 12.50
    assert apportion(Decimal("50.00"), [(2, Decimal("5")), (1, Decimal("10"))], 2) == [
        [(2, Decimal("12.50"))], [(1, Decimal("25.00"))]]


def test_a_remainder_the_last_units_cannot_share_evenly_makes_some_of_them_a_minor_unit_dearer():
    assert apportion(Decimal("10.00"), [(1, None), (2, None)], 2) == [
        [(1, Decimal("3.33"))], [(1, Decimal("3.33")), (1, Decimal("3.34"))]]
    assert apportion(Decimal("0.05"), [(2, None)], 2) == [[(1, Decimal("0.02")), (1, Decimal("0.03"))]]
    assert apportion(Decimal("10.00"), [(1, None), (3, None)], 2) == [[(1, Decimal("2.50"))], [(3, Decimal("2.50"))]]


@pytest.mark.parametrize(("price", "digits", "components"), [
    (Decimal("19.99"), 2, [(1, Decimal("3.10")), (2, Decimal("0.55")), (3, None)]),
    (Decimal("19.99"), 2, [(1, Decimal("3.10")), (2, Decimal("0.55")), (3, Decimal("7.77"))]),
    (Decimal("1001"), 0, [(7, None), (3, None)]),  # JPY: no decimals
    (Decimal("0.01"), 2, [(1, None), (1, None), (1, None)]),
    (Decimal("12.345"), 3, [(4, Decimal("1")), (9, Decimal("2"))]),
])
def test_the_parts_always_add_up_to_the_price_in_minor_units(price, digits, components):
    parts = apportion(price, components, digits)
    assert sum(units * unit_price for part in parts for units, unit_price in part) == price
    assert all(unit_price >= 0 and unit_price.as_tuple().exponent >= -digits
               for part in parts for _, unit_price in part)
    assert [sum(units for units, _ in part) for part in parts] == [units for units, _ in components]


# --- the catalog's entries --------------------------------------------------------------------------------------


def test_the_newest_revision_of_each_sku_wins():
    old, new = CatalogSku("A", 3, True), CatalogSku("A", 5, False)
    assert newest([old, new, CatalogSku("A", 4, True)]) == [new]


def test_what_stops_an_order_being_placed():
    catalog = catalog_of(sku("A"), sku("OLD", active=False), sku("KIT", ("A", 1), ("OLD", 1), ("NEW", 2)))
    assert unorderable_skus("A", catalog) == []
    assert unorderable_skus("OLD", catalog) == ["OLD"]  # discontinued
    assert unorderable_skus("NOPE", catalog) == ["NOPE"]
    assert unorderable_skus("KIT", catalog) == ["OLD", "NEW"]  # its components
    assert placed_as_sent("A", catalog) and not placed_as_sent("KIT", catalog) and not placed_as_sent("OLD", catalog)


# --- the channel's policy for unknown SKUs ----------------------------------------------------------------------


def test_an_unknown_or_discontinued_sku_holds_the_order_by_default():
    catalog = catalog_of(sku("A"), sku("OLD", active=False))
    order = screened([OrderLine("1", "A", 1, Decimal("5.00")), OrderLine("2", "NOPE", 1, Decimal("5.00")),
                      OrderLine("3", "OLD", 1, Decimal("5.00"))], catalog)
    assert order.status is S.on_hold and order.state.holds == {HoldReason.inventory_hold}
    assert order.awaited_skus == {"A", "NOPE", "OLD"}
    assert order.state.changes[-1].reason == "inventory_hold (waiting for the catalog to know NOPE, OLD)"


def test_the_hold_joins_the_other_holds():
    order = screened([OrderLine("1", "NOPE", 1, Decimal("5.00"))], {}, fraud_score=99)
    assert order.state.holds == {HoldReason.inventory_hold, HoldReason.fraud_review}


def test_reject_names_each_line_with_an_unknown_sku():
    catalog = catalog_of(sku("A"), sku("OLD", active=False), sku("KIT", ("A", 1), ("GONE", 1)))
    order = screened([OrderLine("1", "A", 1, Decimal("5.00")), OrderLine("2", "NOPE", 1, Decimal("5.00")),
                      OrderLine("3", "OLD", 1, Decimal("5.00")), OrderLine("4", "KIT", 1, Decimal("5.00"))],
                     catalog, UnknownSkuAction.reject)
    assert order.status is S.rejected
    assert [(r.field, r.code) for r in order.rejections] == [
        ("lines.1.sku", "unknown_sku"), ("lines.2.sku", "unknown_sku"), ("lines.3.sku", "unknown_sku")]
    assert "GONE" in order.rejections[2].message


def test_the_policy_of_the_intake_applies_to_a_channel_without_its_own():
    order = Order(id="o1", channel="web-eu", external_order_id="1", currency="EUR",
                  lines=[OrderLine("1", "NOPE", 1, Decimal("5.00"))], shipping_fee=Decimal("0"), tax=Decimal("0"),
                  payment_amount=Decimal("5.00"))
    order.screen(IntakePolicy(unknown_sku_action=UnknownSkuAction.reject), NOW, catalog={})
    assert order.status is S.rejected
    order.screen(IntakePolicy(unknown_sku_action=UnknownSkuAction.reject), NOW, catalog={},
                 unknown_sku_action=UnknownSkuAction.hold)
    assert order.status is S.on_hold


# --- the catalog's flags ------------------------------------------------------------------------------------------


def test_the_catalogs_category_and_final_sale_replace_the_channels():
    catalog = catalog_of(sku("A", category="hygiene", final_sale=True), sku("B"))
    order = screened([OrderLine("1", "A", 1, Decimal("5.00"), "apparel", False),
                      OrderLine("2", "B", 1, Decimal("5.00"), "apparel", True)], catalog)
    assert [(line.category, line.final_sale) for line in order.placed_lines] == [("hygiene", True), (None, False)]
    assert order.status is S.awaiting_allocation and order.bundles == []


# --- bundles --------------------------------------------------------------------------------------------------------


def test_a_bundle_is_placed_as_its_components_with_the_total_unchanged():
    catalog = catalog_of(sku("KIT", ("BRUSH", 1), ("PASTE", 2)), sku("BRUSH", cost="2.00", category="hygiene"),
                         sku("PASTE", cost="1.00", final_sale=True), sku("A"))
    lines = [OrderLine("1", "KIT", 3, Decimal("10.00")), OrderLine("2", "A", 1, Decimal("4.99"))]
    order = screened(lines, catalog)
    assert order.status is S.awaiting_allocation
    assert order.placed_lines == [
        OrderLine("1.1", "BRUSH", 3, Decimal("5.00"), "hygiene", False),
        OrderLine("1.2", "PASTE", 6, Decimal("2.50"), None, True),
        OrderLine("2", "A", 1, Decimal("4.99"))]
    (bundle,) = order.bundles
    assert (bundle.line_id, bundle.sku, bundle.quantity, bundle.unit_price, bundle.component_line_ids) == (
        "1", "KIT", 3, Decimal("10.00"), ("1.1", "1.2"))
    assert sum(line.amount for line in order.placed_lines) == sum(line.amount for line in lines)


def test_a_remainder_the_last_component_cannot_carry_evenly_gives_it_a_second_line():
    catalog = catalog_of(sku("KIT", ("A", 1), ("B", 2)), sku("A"), sku("B"))
    order = screened([OrderLine("7", "KIT", 2, Decimal("10.00"))], catalog)
    assert [(line.line_id, line.sku, line.quantity, line.unit_price) for line in order.placed_lines] == [
        ("7.1", "A", 2, Decimal("3.33")), ("7.2", "B", 2, Decimal("3.33")), ("7.3", "B", 2, Decimal("3.34"))]
    assert order.bundles[0].component_line_ids == ("7.1", "7.2", "7.3")
    assert sum(line.amount for line in order.placed_lines) == Decimal("20.00")


def test_a_bundle_with_an_unknown_component_is_held_placed_as_its_components():
    catalog = catalog_of(sku("KIT", ("A", 1), ("NEW", 1)), sku("A"))
    order = screened([OrderLine("1", "KIT", 1, Decimal("10.00"))], catalog)
    assert order.state.holds == {HoldReason.inventory_hold}
    assert [line.sku for line in order.placed_lines] == ["A", "NEW"] and order.awaited_skus == {"A", "NEW"}


def test_a_bundle_beyond_500_lines_rejects_the_order_naming_lines():
    catalog = catalog_of(sku("KIT", *((f"P{n}", 1) for n in range(100))), *(sku(f"P{n}") for n in range(100)))
    order = screened([OrderLine(str(n), "KIT", 1, Decimal("100.00")) for n in range(6)], catalog)
    assert order.status is S.rejected
    assert [(r.field, r.code) for r in order.rejections] == [("lines", "too_many_lines")]


def test_component_line_ids_that_collide_or_grow_too_long_reject():
    catalog = catalog_of(sku("KIT", ("A", 1)), sku("A"))
    clash = screened([OrderLine("1", "KIT", 1, Decimal("1.00")), OrderLine("1.1", "A", 1, Decimal("1.00"))], catalog)
    assert [(r.field, r.code) for r in clash.rejections] == [("lines", "duplicate_line_id")]
    long = screened([OrderLine("x" * 63, "KIT", 1, Decimal("1.00"))], catalog)
    assert [(r.field, r.code) for r in long.rejections] == [("lines.0.line_id", "line_id_too_long")]


def test_component_quantities_beyond_a_lines_limit_reject():
    catalog = catalog_of(sku("KIT", ("A", 10_000)), sku("A"))
    order = screened([OrderLine("1", "KIT", 1_000, Decimal("1.00"))], catalog)
    assert [(r.field, r.code) for r in order.rejections] == [("lines.0.quantity", "quantity_too_large")]


# --- the hold released once the catalog caught up ---------------------------------------------------------------


def test_the_catalog_releases_only_the_inventory_hold():
    state = OrderState("o1", S.on_hold, {HoldReason.inventory_hold, HoldReason.payment_hold})
    assert state.catalog_caught_up("catalog", "the catalog knows A", NOW)
    assert state.status is S.on_hold and state.holds == {HoldReason.payment_hold}
    assert not state.catalog_caught_up("catalog", "again", NOW)  # nothing left to release
    alone = OrderState("o2", S.on_hold, {HoldReason.inventory_hold})
    assert alone.catalog_caught_up("catalog", "the catalog knows A", NOW)
    assert alone.status is S.awaiting_allocation
    assert [(t.to_status, t.actor, t.reason) for t in alone.changes] == [
        (S.awaiting_allocation, "catalog", "inventory_hold released: the catalog knows A")]


def test_a_supervisor_releases_the_inventory_hold_like_any_other():
    state = OrderState("o1", S.on_hold, {HoldReason.inventory_hold})
    state.release_hold(HoldReason.inventory_hold, "jane", "sold anyway", NOW)
    assert state.status is S.awaiting_allocation
    with pytest.raises(LifecycleError):
        state.release_hold(HoldReason.inventory_hold, "jane", None, NOW)
