"""Inbound supply: purchase orders (supply.events.v1) and transfers (warehouse.events.v1) as units expected per
SKU×node and date. Each change replaces its source's lines, moves the promises of the SKU's backorders it
changes (announced as BackorderPromiseChanged) and republishes the SKU's availability, in one transaction
holding the SKU's position locks, like every change of those backorders."""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from allocation_service.domain.supply import (
    InboundLine,
    SupplyCause,
    purchase_order_supply,
    supply_cause,
    transfer_supply,
)
from allocation_service.service_layer.availability import announce_availability, inbound_plan, refresh_promises
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.contracts.supply import PurchaseOrderChanged, PurchaseOrderStatus
from ecomops_common.contracts.warehouse import TransferChanged
from ecomops_common.handlers import Received

log = logging.getLogger(__name__)
# When one transaction changes a SKU's supply several ways, the late promises say the gravest.
GRAVITY = (SupplyCause.moved, SupplyCause.short, SupplyCause.cancelled)


@dataclass(frozen=True)
class SupplyChange:
    source: str
    lines: list[InboundLine]  # every line of the source as it is now (open 0 once it brings nothing)
    revision: int | None  # a purchase order's; None for a transfer (ordered by changed_at)
    changed_at: datetime
    cancelled: bool
    cause: Received

    def is_newer_than(self, applied: tuple[int | None, datetime] | None) -> bool:
        if applied is None:
            return True
        revision, changed_at = applied
        if self.revision is not None and revision is not None:
            return self.revision > revision
        return self.changed_at > changed_at


def wants_purchase_order(message: PurchaseOrderChanged) -> bool:
    """A draft has never brought supply (approval comes after it): skipped before any transaction."""
    return message.status is not PurchaseOrderStatus.draft


async def take_purchase_orders(uow: AllocationUnitOfWork, batch: list[Received[PurchaseOrderChanged]]) -> None:
    """supply.events.v1: each purchase order's open units per line, while approved, sent or partially received."""
    await apply_supply(uow, [SupplyChange(
        f"purchase_order:{po.po_id}",
        purchase_order_supply(po.po_id, po.status.value, po.node,
                              [(line.line_id, line.sku, line.quantity, line.received, line.expected_date)
                               for line in po.lines]),
        po.revision, po.changed_at, po.status in (PurchaseOrderStatus.cancelled, PurchaseOrderStatus.draft), r)
        for r in batch for po in [r.message]])


async def take_transfers(uow: AllocationUnitOfWork, batch: list[Received[TransferChanged]]) -> None:
    """warehouse.events.v1: the units of each transfer not yet received at its destination."""
    await apply_supply(uow, [SupplyChange(
        f"transfer:{t.reference}",
        transfer_supply(t.reference, t.to_node, t.expected_date,
                        [(line.sku, line.quantity, line.received) for line in t.lines]),
        None, t.at, False, r) for r in batch for t in [r.message]])


async def apply_supply(uow: AllocationUnitOfWork, changes: Sequence[SupplyChange]) -> None:
    """Applies the changes newer than those applied (per source, in their order), in one transaction."""
    now = datetime.now(UTC)
    applied = await uow.allocation.supply_versions({change.source for change in changes})
    newest: dict[str, SupplyChange] = {}
    for change in changes:
        if change.is_newer_than(applied.get(change.source)) and (
                change.source not in newest or change.is_newer_than(
                    (newest[change.source].revision, newest[change.source].changed_at))):
            newest[change.source] = change
        else:
            log.info("supply change of %s older than the one applied: ignored", change.source)
    if not newest:
        await uow.commit()
        return
    before: dict[str, list[InboundLine]] = defaultdict(list)
    for line in await uow.allocation.inbound_of_sources(newest):
        before[line.source].append(line)
    keys = {(line.sku, line.node) for change in newest.values() for line in change.lines}
    # Positions at the receiving nodes, so the SKUs have rows to lock and the nodes show their inbound.
    await uow.allocation.add_missing_positions(keys, now)
    skus = {sku for sku, _ in keys} | {line.sku for lines in before.values() for line in lines}
    positions, _ = await uow.allocation.lock_positions(skus)

    causes: dict[str, tuple[SupplyCause, Received]] = {}
    for source, change in sorted(newest.items()):
        await uow.allocation.replace_supply(source, change.lines, change.revision, change.changed_at)
        for sku in {line.sku for line in [*before[source], *change.lines]}:
            cause = supply_cause([line for line in before[source] if line.sku == sku],
                                 [line for line in change.lines if line.sku == sku], change.cancelled)
            if cause is not None and (sku not in causes or GRAVITY.index(cause) > GRAVITY.index(causes[sku][0])):
                causes[sku] = (cause, change.cause)
    plan, queues = await inbound_plan(uow, skus)
    await refresh_promises(uow, plan, queues, causes, None, now)
    announce_availability(uow, skus, positions.values(), await uow.allocation.rules_by_channel(), plan, now)
    await uow.commit()
