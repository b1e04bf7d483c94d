"""Return policy checks and the disposition rule table."""

from datetime import UTC, datetime, timedelta

import pytest

from returns_service.domain.dispositions import (
    DEFAULT_HAZARDOUS,
    DEFAULT_TABLE,
    HAZARDOUS_RULE,
    HAZMAT_RULE,
    DispositionRule,
    DispositionTable,
    HazardousCategories,
    decide_disposition,
)
from returns_service.domain.policy import (
    CatalogSku,
    RequestedLine,
    ReturnPolicy,
    ShippedLine,
    as_catalog_says,
    check_request,
    return_node,
)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SHIPPED = {"1": ShippedLine("1", "TSHIRT-M", "apparel", shipped=3, returned_or_requested=1),
           "2": ShippedLine("2", "TOOTHBRUSH", "hygiene", shipped=1),
           "3": ShippedLine("3", "SALE-HAT", "apparel", shipped=1, final_sale=True),
           "4": ShippedLine("4", "TV", "electronics", shipped=0)}


def rules_broken(lines, reason="size_fit", delivered_days_ago=5, policy=ReturnPolicy()):
    delivered = NOW - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
    return [(r.rule, r.field) for r in check_request(lines, reason, SHIPPED, delivered, NOW, policy)]


def test_a_request_within_the_rules_is_accepted():
    assert rules_broken([RequestedLine("1", 2)]) == []
    assert rules_broken([RequestedLine("1", 1)], delivered_days_ago=None) == []  # not delivered yet: in the window


@pytest.mark.parametrize("lines, reason, days, broken", [
    ([RequestedLine("1", 3)], "size_fit", 5, [("quantity_exceeds_returnable", "lines.0.quantity")]),
    ([RequestedLine("1", 1)], "size_fit", 31, [("outside_return_window", "lines.0.line_id")]),
    ([RequestedLine("2", 1)], "defective", 5, [("non_returnable_category", "lines.0.line_id")]),
    ([RequestedLine("3", 1)], "size_fit", 5, [("final_sale", "lines.0.line_id")]),
    ([RequestedLine("4", 1)], "size_fit", 5, [("not_shipped", "lines.0.line_id")]),
    ([RequestedLine("9", 1)], "size_fit", 5, [("not_shipped", "lines.0.line_id")]),
    ([RequestedLine("1", 1)], "i just want to", 5, [("unknown_reason", "reason")]),
])
def test_each_rule_refuses_with_its_name(lines, reason, days, broken):
    assert rules_broken(lines, reason, days) == broken


def test_a_request_naming_a_line_twice_is_refused():
    assert rules_broken([RequestedLine("1", 1), RequestedLine("1", 1)]) == [("duplicate_line", "lines")]


def test_the_parcel_goes_to_the_channels_node_else_to_the_node_that_shipped_else_to_the_default():
    shipped = {"1": ShippedLine("1", "A", "apparel", 1, node="BER1"), "2": ShippedLine("2", "B", "apparel", 1)}
    assert return_node(ReturnPolicy(return_node="RET1"), [RequestedLine("1", 1)], shipped, "WH1") == "RET1"
    assert return_node(ReturnPolicy(), [RequestedLine("1", 1), RequestedLine("2", 1)], shipped, "WH1") == "BER1"
    assert return_node(ReturnPolicy(), [RequestedLine("2", 1)], shipped, "WH1") == "WH1"  # shipment not heard of


def test_categories_may_have_windows_of_their_own():
    policy = ReturnPolicy(return_window_days=14, window_days_by_category={"apparel": 60})
    assert rules_broken([RequestedLine("1", 1)], delivered_days_ago=45, policy=policy) == []
    assert ReturnPolicy(return_window_days=-1, window_days_by_category={"x": "y"}).validate() == [
        ("return_window_days", "must be an integer >= 0"), ("window_days_by_category.x", "must be an integer >= 0")]


def test_the_first_matching_rule_decides_and_is_named():
    assert DEFAULT_TABLE.decide("apparel", "A", "changed_mind") == ("restock", "like-new-restock")
    assert DEFAULT_TABLE.decide("electronics", "C", "defective") == ("vendor_return", "defective-to-vendor")
    assert DEFAULT_TABLE.decide("apparel", "C", "damaged_in_transit") == ("quarantine", "damaged-quarantine")
    assert DEFAULT_TABLE.decide("apparel", "D", "other") == ("scrap", "unsalvageable-scrap")
    assert DEFAULT_TABLE.validate() == []


def test_a_rule_table_is_validated_field_by_field():
    table = DispositionTable((
        DispositionRule("r1", "burn", grades=frozenset({"Z"})),
        DispositionRule("r1", "restock", reasons=frozenset({"whim"})),
    ))
    assert table.validate() == [
        ("rules.0.disposition", "must be one of restock, refurbish, quarantine, vendor_return, liquidate, scrap"),
        ("rules.0.grades", "unknown grade 'Z': use A, B, C or D"),
        ("rules.1.id", "rule ids must be unique and not empty: 'r1'"),
        ("rules.1.reasons", "unknown reason code 'whim'"),
        ("rules.1", "the last rule must match everything (no categories, grades or reasons)"),
    ]


def test_a_hazardous_category_goes_to_quarantine_whatever_the_table_says():
    table = DispositionTable((DispositionRule("restock-everything", "restock"),))
    assert decide_disposition(table, {"batteries"}, "batteries", "A", "changed_mind") == (
        "quarantine", HAZARDOUS_RULE)
    assert decide_disposition(table, {"batteries"}, "apparel", "A", "changed_mind") == (
        "restock", "restock-everything")
    assert "batteries" in DEFAULT_HAZARDOUS.categories
    assert [p.field for p in HazardousCategories(frozenset({""})).validate()] == ["categories"]


def test_a_sku_with_a_hazmat_class_goes_to_quarantine_whatever_its_category():
    table = DispositionTable((DispositionRule("restock-everything", "restock"),))
    assert decide_disposition(table, set(), "apparel", "A", "changed_mind", hazmat_class="UN3480") == (
        "quarantine", HAZMAT_RULE)


def test_the_catalog_wins_over_the_order_lines_flags():
    line = ShippedLine("1", "SALE-HAT", "apparel", shipped=1, final_sale=True)
    assert as_catalog_says(line, None) == line  # unknown to the catalog: the order line's flags
    said = as_catalog_says(line, CatalogSku(returnable=False, final_sale=False, return_window_days=7,
                                            category="hats"))
    assert (said.returnable, said.final_sale, said.window_days, said.category) == (False, False, 7, "hats")
    assert as_catalog_says(line, CatalogSku()).category == "apparel"  # the catalog has no category: the line's


@pytest.mark.parametrize("catalog, days, broken", [
    (CatalogSku(returnable=False), 5, [("not_returnable", "lines.0.line_id")]),
    (CatalogSku(final_sale=True), 5, [("final_sale", "lines.0.line_id")]),
    (CatalogSku(return_window_days=3), 5, [("outside_return_window", "lines.0.line_id")]),
    (CatalogSku(return_window_days=90), 60, []),  # the SKU's window over the channel's 30 days
    (CatalogSku(category="hygiene"), 5, [("non_returnable_category", "lines.0.line_id")]),
    (CatalogSku(), 31, [("outside_return_window", "lines.0.line_id")]),
])
def test_each_catalog_rule_refuses_with_its_name(catalog, days, broken):
    shipped = {"1": as_catalog_says(SHIPPED["1"], catalog)}
    assert [(r.rule, r.field) for r in check_request([RequestedLine("1", 1)], "size_fit", shipped,
                                                     NOW - timedelta(days=days), NOW, ReturnPolicy())] == broken


def test_the_skus_window_comes_before_the_categorys_and_the_channels():
    policy = ReturnPolicy(return_window_days=14, window_days_by_category={"apparel": 60})
    assert policy.window_for("apparel", 5) == timedelta(days=5)
    assert policy.window_for("apparel") == timedelta(days=60)
    assert policy.window_for("toys") == timedelta(days=14)
