"""Reconciliation: the reserved counters must equal the sum of live reservations, and nothing may be negative."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Drift:
    sku: str
    node: str
    reserved: int | None  # the counter; None when there is no position row at all
    live: int  # units held by reservation records


async def reconcile(uow) -> list[Drift]:
    """Positions whose counter disagrees with their reservations; empty when all is well."""
    return [Drift(**row) for row in await uow.allocation.reservation_drift()]
