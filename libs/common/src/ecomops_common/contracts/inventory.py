"""Stock and availability: inventory.stock.v1 (warehouse -> allocation) and inventory.availability.v1
(allocation -> channel connectors)."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import INT4_MAX, Document, EventPayload


class StockChangeReason(StrEnum):
    receipt = "receipt"
    putaway = "putaway"
    return_restock = "return_restock"
    transfer = "transfer"
    count = "count"
    damage = "damage"
    adjustment = "adjustment"
    seed = "seed"
    pick = "pick"


class FulfilledUnits(Document):
    order_id: str
    line_id: str
    quantity: int = Field(ge=1, le=INT4_MAX)


class ShortPickedUnits(FulfilledUnits):
    """Reserved units of an order line that a picker did not find on the shelf."""


class StockLevelChanged(EventPayload):
    """The stock of one SKU at one node, as absolute levels (key `<sku>@<node>`): sellable on-hand for
    allocation, and the units in every status for anyone who watches the warehouse.

    Absolute, not a delta: a redelivered or replayed message cannot count stock twice. Units picked for
    orders leave sellable on-hand in the same event that names them in `fulfilled`, so allocation drops
    those reservations and the on-hand together and never mistakes a pick for shrinkage.

    `version` numbers the levels of one SKU×node in the order the warehouse committed them (it is assigned
    under the SKU×node's lock), so a level numbered no higher than the one applied is old news; `as_of`
    cannot order them, as two changes may commit in the opposite order of their clocks.
    """

    sku: str = Field(min_length=1, max_length=64)
    node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Fulfilment node (warehouse)")
    sellable_on_hand: int = Field(ge=0, le=INT4_MAX, description="Units at the node in a sellable status")
    reason: StockChangeReason
    as_of: AwareDatetime = Field(description="When the change was made; for people, not for ordering levels "
                                             "(see version)")
    version: int | None = Field(default=None, ge=1, le=INT4_MAX, description=(
        "Increases per SKU×node in the order the warehouse committed the levels; a level whose version is not "
        "above the one applied is ignored. Absent (e.g. from an older producer): the level applies as is"))
    fulfilled: list[FulfilledUnits] = Field(default_factory=list, max_length=10_000,
                                            description="Units of this change picked for orders' reservations")
    short_picked: list[ShortPickedUnits] = Field(
        default_factory=list, max_length=10_000,
        description="Reserved units a picker did not find: their lines are re-sourced first")
    on_hand_by_status: dict[str, int] = Field(
        default_factory=dict, max_length=100,
        description="Units at the node per status (sellable, damaged, in_transit, ...)")


class InboundSupply(Document):
    expected_date: date
    quantity: int = Field(description="Units expected on that date, net of those already promised to backorders")


class NodeAvailability(Document):
    node: str
    on_hand: int
    reserved: int
    safety_stock: int
    soft_reserved: int = Field(default=0, description="Units held by unexpired soft reservations (carts, quotes)")
    atp: int = Field(description="Available to promise today: on_hand - reserved - soft_reserved - safety_stock, "
                                 "never below 0")
    inbound: list[InboundSupply] = Field(default_factory=list, max_length=1_000,
                                         description="Open purchase orders and transfers by expected date")


class ChannelAvailability(Document):
    channel: str
    atp: int = Field(description="What this channel may still sell, after its protected quantity per node")


class AvailabilityChanged(EventPayload):
    """ATP of one SKU after a change (key: the SKU), for storefronts and marketplaces to sync.

    `channels` lists the channels with sourcing rules of their own; any other channel sees `atp`.
    """

    sku: str
    atp: int = Field(description="Sum of the nodes' ATP")
    nodes: list[NodeAvailability] = Field(max_length=10_000)
    channels: list[ChannelAvailability] = Field(default_factory=list, max_length=10_000)
    as_of: AwareDatetime
