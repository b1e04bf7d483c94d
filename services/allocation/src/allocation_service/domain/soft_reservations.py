"""Soft reservations: units a cart or a quote holds for a while, beside the orders' hard reservations. They take
ATP until they expire, are released, or the order they were made for converts them. Plain Python: no framework,
no I/O."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from allocation_service.domain.rules import SourcingRules
from allocation_service.domain.stock import StockKey, StockPosition
from ecomops_common.errors import Conflict


class SoftReservationStatus(StrEnum):
    active = "active"
    released = "released"  # given back by a caller
    expired = "expired"  # given back by the sweeper once expires_at passed
    converted = "converted"  # its order was placed: the order's allocation took over


class SoftHold(NamedTuple):
    sku: str
    node: str
    qty: int


class ShortOfStock(Conflict):
    """Not every SKU asked for can be held: nothing is (409 naming the SKUs)."""

    def __init__(self, short: Mapping[str, tuple[int, int]]) -> None:
        super().__init__("not enough stock to hold " + ", ".join(
            f"{sku} (asked {asked}, {available} available)" for sku, (asked, available) in short.items()))
        self.skus = tuple(short)


@dataclass
class SoftReservation:
    reservation_id: str
    channel: str
    node: str | None  # the node asked for; None: any
    lines: tuple[tuple[str, int], ...]  # (sku, quantity) as asked
    holds: tuple[SoftHold, ...]  # where the units are held
    status: SoftReservationStatus
    expires_at: datetime
    created_by: str
    created_at: datetime
    ended_by: str | None = None
    ended_at: datetime | None = None
    order_id: str | None = None  # the order that converted it

    def is_active(self, now: datetime) -> bool:
        return self.status is SoftReservationStatus.active and self.expires_at > now

    def asks_the_same(self, channel: str, node: str | None, lines: Sequence[tuple[str, int]]) -> bool:
        """A resent request (same reservation id) is answered with this reservation only if it asks the same."""
        return (self.channel, self.node, sorted(self.lines)) == (channel, node, sorted(lines))


def plan_soft_holds(lines: Sequence[tuple[str, int]], positions: Mapping[StockKey, StockPosition],
                    rules: SourcingRules, node: str | None) -> list[SoftHold]:
    """Where to hold each SKU's units: at `node` if given, else one node that has them all (the channel's
    ranking: zone-less, then shipping cost, then name), else split over the ranked nodes. Only what the channel
    may take (its protected quantity left alone). Raises ShortOfStock naming every SKU short; reads only."""
    holds: list[SoftHold] = []
    short: dict[str, tuple[int, int]] = {}
    for sku, qty in lines:
        available = {n: rules.channel_available(p) for (s, n), p in positions.items()
                     if s == sku and (node is None or n == node)}
        ranked = rules.rank_nodes(available, "")
        whole = next((n for n in ranked if available[n] >= qty), None)
        remaining = qty
        for n in [whole] if whole is not None else ranked:
            take = min(remaining, available[n])
            if take:
                holds.append(SoftHold(sku, n, take))
                remaining -= take
            if not remaining:
                break
        if remaining:
            short[sku] = (qty, sum(available.values()))
    if short:
        raise ShortOfStock(short)
    return holds
