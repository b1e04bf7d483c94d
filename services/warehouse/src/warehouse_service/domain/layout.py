"""Warehouses (nodes) and their locations. Plain Python: no framework, no I/O."""

from dataclasses import dataclass
from enum import StrEnum


class LocationKind(StrEnum):
    receiving = "receiving"  # dock where inbound units are received, pending putaway
    storage = "storage"  # bins: the only place stock is sellable
    packing = "packing"
    shipping = "shipping"
    returns = "returns"  # returned units wait here for inspection
    quarantine = "quarantine"


@dataclass(frozen=True)
class Location:
    node: str
    code: str
    kind: LocationKind
