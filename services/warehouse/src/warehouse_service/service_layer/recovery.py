"""Supervised exits from the recovery statuses: refurbishments, QA decisions, return-to-vendor authorizations,
liquidations and scraps; graded variants; write-offs beyond the value threshold waiting for a second supervisor;
and finance's unit costs (finance.events.v1) that value them. Each action moves the ledger, publishes the stock
change and RecoveryStockMoved, and answers the QA queue when quarantined units leave, in one transaction."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.warehouse import GradedVariantDefined, RecoveryAction, WarehouseExceptionStatus
from ecomops_common.envelope import new_event
from ecomops_common.errors import Conflict, FieldProblem, Invalid, NotFound
from ecomops_common.handlers import Received
from ecomops_common.ids import new_id
from warehouse_service.domain.approvals import require_four_eyes
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Movement, StockStatus
from warehouse_service.domain.recovery import (
    QA_TARGETS,
    GradedVariant,
    RecoveryMove,
    RtvLine,
    Shortfall,
    VendorReturn,
    WriteOff,
    answer_qa_items,
    needs_approval,
    recovery_movements,
    require_disposal,
    require_recovery_status,
    write_off_value,
)
from warehouse_service.service_layer.exception_queue import announce_qa_item, announce_write_off
from warehouse_service.service_layer.recovery_log import SOURCE, announce_recovery
from warehouse_service.service_layer.scanning import LockedStock
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork


@dataclass(frozen=True)
class RecoveryOutcome:
    """The actions applied (their audit rows), or the write-off waiting for approval."""

    actions: list[dict[str, Any]]
    write_off_id: str | None = None


class WriteOffNotPending(NotFound):
    pass


class RecoveryRefused(Conflict):
    pass


async def follow_unit_costs(uow: WarehouseUnitOfWork, events: list[Received[UnitCostChanged]]) -> None:
    """finance.events.v1: the newest cost per SKU values its write-offs."""
    for event in (received.message for received in events):
        await uow.warehouse.put_unit_cost(event.sku, event.amount, event.currency, event.at)
    await uow.commit()


async def define_graded_variant(uow: WarehouseUnitOfWork, variant: GradedVariant, actor: str) -> None:
    now = datetime.now(UTC)
    await uow.warehouse.put_graded_variant(variant, actor, now)
    uow.emit(new_event("GradedVariantDefined", 1, SOURCE, "graded_variant", variant.variant_sku, GradedVariantDefined(
        variant_sku=variant.variant_sku, base_sku=variant.base_sku, grade=variant.grade,
        list_price=variant.list_price, currency=variant.currency, channels=variant.channels, defined_by=actor,
        at=now)), WAREHOUSE_EVENTS)
    await uow.commit()


async def refurbish(uow: WarehouseUnitOfWork, node: str, sku: str, location: str, quantity: int, sellable: bool,
                    variant_sku: str | None, to_location: str | None, disposal: dict[str, Any] | None, actor: str,
                    threshold: Decimal) -> RecoveryOutcome:
    """Refurbished units become sellable (as the SKU or its graded variant), or failed ones are scrapped."""
    locations = await _checked_layout(uow, node, location, to_location)
    if not sellable:
        return await _carry_out(uow, [RecoveryMove(RecoveryAction.refurbish_failed, node, sku, location,
                                                   StockStatus.refurbish, quantity, disposal=disposal)], actor,
                                threshold)
    if variant_sku is not None:
        variant = await uow.warehouse.graded_variant(variant_sku)
        if variant is None:
            raise Invalid([FieldProblem("variant_sku", f"no graded variant {variant_sku}: define it first")])
        variant.require_base(sku)
    move = RecoveryMove(RecoveryAction.refurbished, node, sku, location, StockStatus.refurbish, quantity,
                        StockStatus.sellable, _sellable_location(locations, node, location, to_location),
                        to_sku=variant_sku)
    return await _carry_out(uow, [move], actor, threshold)


async def decide_qa(uow: WarehouseUnitOfWork, node: str, sku: str, location: str, quantity: int, decision: str,
                    note: str | None, to_location: str | None, disposal: dict[str, Any] | None, actor: str,
                    threshold: Decimal) -> RecoveryOutcome:
    """Quarantined units released (sellable, refurbish, vendor_return) or scrapped; the caller decided."""
    locations = await _checked_layout(uow, node, location, to_location)
    if decision == "scrap":
        move = RecoveryMove(RecoveryAction.scrapped, node, sku, location, StockStatus.quarantined, quantity,
                            disposal=disposal, note=note)
    else:
        target = QA_TARGETS[decision]
        move = RecoveryMove(RecoveryAction.qa_released, node, sku, location, StockStatus.quarantined, quantity,
                            target, _sellable_location(locations, node, location, to_location)
                            if target is StockStatus.sellable else to_location, note=note)
    return await _carry_out(uow, [move], actor, threshold)


async def scrap(uow: WarehouseUnitOfWork, node: str, sku: str, location: str, status: StockStatus, quantity: int,
                reason: str | None, disposal: dict[str, Any] | None, actor: str,
                threshold: Decimal) -> RecoveryOutcome:
    require_recovery_status(status)
    await _checked_layout(uow, node, location, None)
    return await _carry_out(uow, [RecoveryMove(RecoveryAction.scrapped, node, sku, location, status, quantity,
                                               disposal=disposal, note=reason)], actor, threshold)


async def liquidate(uow: WarehouseUnitOfWork, lot_id: str, node: str, buyer: str, currency: str,
                    lines: list[tuple[str, str, int, Decimal]], actor: str, threshold: Decimal) -> RecoveryOutcome:
    """A lot sold through a secondary channel: `lines` are (sku, location, units, proceeds), from liquidation."""
    for index, (_, location, _, _) in enumerate(lines):
        await _checked_layout(uow, node, location, None, f"lines.{index}.location")
    return await _carry_out(uow, [RecoveryMove(RecoveryAction.liquidated, node, sku, location, StockStatus.liquidation,
                                               units, reference=lot_id, buyer=buyer, proceeds=proceeds,
                                               currency=currency) for sku, location, units, proceeds in lines],
                            actor, threshold, lot_id)


async def authorize_vendor_return(uow: WarehouseUnitOfWork, rtv_id: str, vendor_id: str, node: str,
                                  lines: list[tuple[str, int]], claim_id: str | None, actor: str) -> VendorReturn:
    """What may be picked, packed and shipped to the vendor against `rtv_id`: vendor_return units the node holds."""
    await _checked_layout(uow, node, None, None)
    wanted: dict[str, int] = {}
    for sku, units in lines:
        wanted[sku] = wanted.get(sku, 0) + units
    balances = await uow.warehouse.balances_of({(sku, node) for sku in wanted})
    for sku, units in wanted.items():
        held = balances.on_hand(sku, node, StockStatus.vendor_return)
        if held < units:
            raise RecoveryRefused(f"{node} holds {held} vendor_return units of {sku}, {units} asked: "
                                  f"{units - held} short")
    rtv = VendorReturn(rtv_id, vendor_id, node, {sku: RtvLine(units) for sku, units in wanted.items()}, claim_id,
                       actor, datetime.now(UTC))
    if not await uow.warehouse.add_vendor_return(rtv):
        raise RecoveryRefused(f"a return-to-vendor authorization {rtv_id} exists")
    await uow.commit()
    return rtv


async def decide_write_off(uow: WarehouseUnitOfWork, write_off_id: str, actor: str, approve: bool,
                           reason: str | None) -> RecoveryOutcome:
    """A supervisor other than the requester applies the write-off (if its units are still there) or rejects it."""
    write_off = await uow.warehouse.write_off(write_off_id, lock=True)
    if write_off is None or write_off.status != "pending_approval":
        raise WriteOffNotPending(f"no write-off {write_off_id} pending approval")
    require_four_eyes(actor, write_off.requested_by, f"asked for write-off {write_off_id}")
    now = datetime.now(UTC)
    actions: list[dict[str, Any]] = []
    if approve:
        stock = await _locked_stock(uow, write_off.moves, now)
        try:
            movements = [m for move in write_off.moves for m in recovery_movements(stock.balances, move, actor, now)]
        except Shortfall as moved:
            raise RecoveryRefused(f"the units moved since the write-off was asked for: {moved}") from None
        actions = await _record(uow, stock, movements, write_off.moves, write_off.requested_by, actor, now,
                                write_off.id)
    status = WarehouseExceptionStatus.approved if approve else WarehouseExceptionStatus.rejected
    await uow.warehouse.decide_write_off(write_off_id, status.value, actor, now, reason)
    announce_write_off(uow, write_off, status, actor, now)
    await uow.commit()
    return RecoveryOutcome(actions, write_off_id)


async def _carry_out(uow: WarehouseUnitOfWork, moves: list[RecoveryMove], requested_by: str,
                     threshold: Decimal, lot_id: str | None = None) -> RecoveryOutcome:
    """Applies the moves, decided by the requester, unless they write off more than the threshold: then they wait
    for a second supervisor. Either way, refused first if the units are not there, a disposal record is missing
    or the liquidation lot was sold already."""
    now = datetime.now(UTC)
    stock = await _locked_stock(uow, moves, now)
    # Checked under the stock's lock: two requests selling one lot at once take their turns here.
    if lot_id is not None and await uow.warehouse.reference_used(RecoveryAction.liquidated.value, lot_id):
        raise RecoveryRefused(f"liquidation lot {lot_id} was sold or waits for approval already")
    require_disposal(moves, await uow.warehouse.hazardous({(move.sku, move.node) for move in moves}))
    movements = [m for move in moves for m in recovery_movements(stock.balances, move, requested_by, now)]
    value = write_off_value(moves, await uow.warehouse.unit_costs({move.sku for move in moves}))
    if needs_approval(moves, value, threshold):
        write_off = WriteOff(new_id(), moves[0].node, moves, value, requested_by, now)
        await uow.warehouse.add_write_off(write_off)
        announce_write_off(uow, write_off, WarehouseExceptionStatus.open, requested_by, now)
        await uow.commit()
        return RecoveryOutcome([], write_off.id)
    actions = await _record(uow, stock, movements, moves, requested_by, requested_by, now)
    await uow.commit()
    return RecoveryOutcome(actions)


async def _locked_stock(uow: WarehouseUnitOfWork, moves: list[RecoveryMove], now: datetime) -> LockedStock:
    """The balances of the moves' SKUs (and graded variants) at their node, locked."""
    return await LockedStock.open(uow, {(sku, move.node) for move in moves for sku in (move.sku, move.to_sku) if sku},
                                  now)


async def _record(uow: WarehouseUnitOfWork, stock: LockedStock, movements: list[Movement],
                  moves: list[RecoveryMove], requested_by: str, decided_by: str, now: datetime,
                  write_off_id: str | None = None) -> list[dict[str, Any]]:
    await stock.save(uow, movements, now)
    actions = [announce_recovery(uow, move, new_id(), requested_by, decided_by, now, write_off_id) for move in moves]
    await uow.warehouse.add_recovery_actions(actions)
    await answer_qa_queue(uow, moves, decided_by, now)
    return actions


async def answer_qa_queue(uow: WarehouseUnitOfWork, moves: list[RecoveryMove], actor: str, now: datetime) -> None:
    """Quarantined units that left answer the oldest open QA items of their SKU×node; an item with nothing left
    waiting is resolved."""
    for move in moves:
        if move.from_status is not StockStatus.quarantined:
            continue
        items = await uow.warehouse.open_qa_items(move.sku, move.node)
        touched = answer_qa_items(items, move.quantity)
        await uow.warehouse.save_qa_items([item for item, _ in touched], actor, now)
        for item, units in touched:
            if not item.remaining:
                announce_qa_item(uow, item, move.location, units, WarehouseExceptionStatus.resolved,
                                 move.action.value, actor, now)


async def _checked_layout(uow: WarehouseUnitOfWork, node: str, location: str | None, to_location: str | None,
                          location_field: str = "location") -> dict[tuple[str, str], Location]:
    """The node's layout, refusing (422) an unknown node or location."""
    locations = await uow.warehouse.locations_of([node])
    if not locations:
        raise Invalid([FieldProblem("node", f"no warehouse node {node}")])
    for field, code in ((location_field, location), ("to_location", to_location)):
        if code is not None and (node, code) not in locations:
            raise Invalid([FieldProblem(field, f"no location {code} at {node}")])
    return locations


def _sellable_location(locations: dict[tuple[str, str], Location], node: str, location: str,
                       to_location: str | None) -> str:
    """Where released units become sellable: a storage location (the only place stock is sellable)."""
    target = to_location or location
    if locations[node, target].kind is not LocationKind.storage:
        raise Invalid([FieldProblem("to_location", f"sellable units go to a storage location; {target} is "
                                                   f"{locations[node, target].kind}")])
    return target
