"""Returned units after inspection: moved where the returns service's disposition says. Plain Python."""

from dataclasses import replace
from datetime import datetime

from warehouse_service.domain.ledger import Balances, Movement, Reason, StockStatus

# Units of these dispositions stay in the warehouse with a new status (liquidate: until the units are sold); scrap
# leaves the books.
DISPOSITION_STATUS = {"restock": StockStatus.received_pending_putaway, "refurbish": StockStatus.refurbish,
                      "quarantine": StockStatus.quarantined, "vendor_return": StockStatus.vendor_return,
                      "liquidate": StockStatus.liquidation}


class DispositionRefused(Exception):
    pass


def disposition_movements(balances: Balances, node: str, sku: str, quantity: int, disposition: str,
                          quarantine_location: str | None, reference: str, actor: str,
                          at: datetime) -> list[Movement]:
    """Takes the units out of return_pending_inspection at the node, fullest place first."""
    pending = sorted(((place, units) for (s, place), units in balances.items().items()
                      if s == sku and place.node == node and place.status is StockStatus.return_pending_inspection),
                     key=lambda entry: (-entry[1], entry[0].location, str(entry[0])))
    if sum(units for _, units in pending) < quantity:
        raise DispositionRefused(f"{quantity} of {sku} to {disposition}, only "
                                 f"{sum(units for _, units in pending)} waiting for inspection at {node}")
    status = DISPOSITION_STATUS.get(disposition)
    movements, left = [], quantity
    for place, units in pending:
        take = min(units, left)
        target = None
        if status is not None:
            location = quarantine_location if status is StockStatus.quarantined and quarantine_location \
                else place.location
            target = replace(place, location=location, status=status)
        movements.append(Movement(sku, take, place, target, Reason.disposition, reference, actor, None, at))
        left -= take
        if not left:
            break
    return movements
