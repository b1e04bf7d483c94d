from decimal import Decimal

from allocation_service.domain.rules import DEFAULT_RULES, SourcingRules, rules_for
from allocation_service.domain.stock import StockPosition
from ecomops_common.errors import FieldProblem

NODES = {"WH1", "WH2", "WH3"}


def test_default_rules_are_valid_and_used_for_channels_without_rules():
    marketplace = SourcingRules(protected_quantity=2)
    assert DEFAULT_RULES.validate(NODES) == []
    assert rules_for("web", {"marketplace": marketplace}) is DEFAULT_RULES
    assert rules_for("marketplace", {"marketplace": marketplace}) is marketplace


def test_a_full_valid_rule_set_has_no_errors():
    rules = SourcingRules(allow_split=False, short_stock="backorder", protected_quantity=3,
                          node_priority={"DE": ["WH1", "WH2"], "FR": ("WH3",)},
                          node_cost={"WH1": Decimal("4.90"), "WH2": Decimal("0")})
    assert rules.validate(NODES) == []


def test_every_broken_field_is_reported_with_its_path():
    rules = SourcingRules(allow_split="yes", short_stock="cancel", protected_quantity=-1,
                          node_priority={"DE": ["WH1", "WH9", "WH1"], "germany": ["WH2"], "FR": "WH1"},
                          node_cost={"WH2": Decimal("-1"), "WH3": 2.5, "WH8": Decimal("1")})
    assert [error.field for error in rules.validate(NODES)] == [
        "allow_split", "short_stock", "protected_quantity",
        "node_priority.DE.1", "node_priority.DE.2", "node_priority.germany", "node_priority.FR",
        "node_cost.WH2", "node_cost.WH3", "node_cost.WH8",
    ]


def test_field_errors_are_field_message_pairs():
    (error,) = SourcingRules(node_priority={"DE": ["WH9"]}).validate(NODES)
    assert error == FieldProblem("node_priority.DE.0", "unknown node 'WH9'")
    field, message = error
    assert field == "node_priority.DE.0"


def test_protected_quantity_must_be_an_integer_not_a_flag():
    assert [e.field for e in SourcingRules(protected_quantity=True).validate(NODES)] == ["protected_quantity"]


def test_nodes_rank_by_zone_then_cost_then_name():
    rules = SourcingRules(node_priority={"DE": ["WH3"]},
                          node_cost={"WH1": Decimal("5"), "WH2": Decimal("5"), "WH4": Decimal("1")})
    # WH3 is in the DE zone; the rest are unzoned, so cost decides (WH4), then name (WH1 < WH2);
    # WH5 has no cost and ranks after every priced node.
    assert rules.rank_nodes(["WH1", "WH2", "WH3", "WH4", "WH5"], "DE") == ["WH3", "WH4", "WH1", "WH2", "WH5"]
    assert rules.rank_nodes(["WH1", "WH2", "WH3", "WH4", "WH5"], "FR") == ["WH4", "WH1", "WH2", "WH3", "WH5"]


def test_channel_available_keeps_the_protected_quantity_back():
    position = StockPosition("A", "WH1", on_hand=10, reserved=2, safety_stock=1)
    assert SourcingRules(protected_quantity=3).channel_available(position) == 4
    assert SourcingRules(protected_quantity=9).channel_available(position) == 0
