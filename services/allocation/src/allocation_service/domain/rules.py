"""How a sales channel wants its orders sourced. Plain Python: no framework, no I/O."""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from allocation_service.domain.stock import StockPosition
from ecomops_common.errors import FieldProblem

ShortStockPolicy = Literal["partial", "backorder"]
SHORT_STOCK_POLICIES: tuple[str, ...] = ("partial", "backorder")


@dataclass(frozen=True)
class SourcingRules:
    allow_split: bool = True
    # partial: ship what exists and backorder the rest; backorder: all or nothing.
    short_stock: ShortStockPolicy = "partial"
    # A channel only takes ATP above this per SKU×node (e.g. marketplaces leave a cushion for the own web shop).
    protected_quantity: int = 0
    # Ship-to country (ISO 3166 alpha-2) -> nodes, best first. A node not listed for the country is still
    # eligible, ranked after the listed ones: a missing zone entry should not lose a sale that stock allows.
    node_priority: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # Shipping cost per node, the tie-break after zone rank; a node without a cost ranks after priced nodes.
    node_cost: Mapping[str, Decimal] = field(default_factory=dict)

    def validate(self, known_nodes: Collection[str]) -> list[FieldProblem]:
        """Every broken rule at once (empty when valid); known_nodes are the fulfilment nodes that exist."""
        errors: list[FieldProblem] = []
        if not isinstance(self.allow_split, bool):
            errors.append(FieldProblem("allow_split", "must be true or false"))
        if self.short_stock not in SHORT_STOCK_POLICIES:
            errors.append(FieldProblem("short_stock", f"must be one of {', '.join(SHORT_STOCK_POLICIES)}"))
        if isinstance(self.protected_quantity, bool) or not isinstance(self.protected_quantity, int) \
                or self.protected_quantity < 0:
            errors.append(FieldProblem("protected_quantity", "must be an integer >= 0"))
        errors.extend(_node_priority_errors(self.node_priority, known_nodes))
        errors.extend(_node_cost_errors(self.node_cost, known_nodes))
        return errors

    def channel_available(self, position: StockPosition) -> int:
        """What this channel may still promise from one SKU×node."""
        return max(0, position.atp - self.protected_quantity)

    def rank_nodes(self, nodes: Iterable[str], ship_to_country: str) -> list[str]:
        """Best first: zone rank for the country, then shipping cost, then node name so ties are deterministic."""
        zone = list(self.node_priority.get(ship_to_country, ()))

        def rank(node: str) -> tuple:
            zone_rank = zone.index(node) if node in zone else len(zone)
            cost = self.node_cost.get(node)
            return zone_rank, cost is None, cost if cost is not None else Decimal(0), node

        return sorted(set(nodes), key=rank)


DEFAULT_RULES = SourcingRules()
"""For a channel without rules of its own: split if needed, ship what exists, no protection, rank by node name."""


def rules_for(channel: str, rules_by_channel: Mapping[str, SourcingRules]) -> SourcingRules:
    return rules_by_channel.get(channel, DEFAULT_RULES)


def _node_priority_errors(node_priority: Mapping[str, Sequence[str]], known_nodes: Collection[str]):
    if not isinstance(node_priority, Mapping):
        yield FieldProblem("node_priority", "must map ship-to country to a list of nodes")
        return
    for country, nodes in node_priority.items():
        path = f"node_priority.{country}"
        if not _is_country_code(country):
            yield FieldProblem(path, "country must be an ISO 3166 alpha-2 code such as DE")
        # A bare string is a Sequence too; "WH1" would otherwise read as nodes "W", "H", "1".
        if not isinstance(nodes, list | tuple):
            yield FieldProblem(path, "must be a list of nodes")
            continue
        seen: set[str] = set()
        for index, node in enumerate(nodes):
            if node not in known_nodes:
                yield FieldProblem(f"{path}.{index}", f"unknown node {node!r}")
            elif node in seen:
                yield FieldProblem(f"{path}.{index}", f"node {node!r} is listed twice")
            seen.add(node)


def _node_cost_errors(node_cost: Mapping[str, Decimal], known_nodes: Collection[str]):
    if not isinstance(node_cost, Mapping):
        yield FieldProblem("node_cost", "must map node to a shipping cost")
        return
    for node, cost in node_cost.items():
        path = f"node_cost.{node}"
        if node not in known_nodes:
            yield FieldProblem(path, f"unknown node {node!r}")
        # Money is Decimal: a float cost would already carry binary rounding error.
        if not isinstance(cost, Decimal) or not cost.is_finite() or cost < 0:
            yield FieldProblem(path, "must be a decimal amount >= 0")


def _is_country_code(country: object) -> bool:
    return isinstance(country, str) and len(country) == 2 and country.isascii() and country.isalpha() \
        and country.isupper()
