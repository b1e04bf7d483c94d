"""Transfers between nodes: units leave the source's bins into in_transit (visible, not sellable) and are
received at the destination against the transfer, like a purchase order. TransferChanged tells allocation what
is on its way, and when it is due."""

from datetime import UTC, date, datetime

from ecomops_common.errors import Conflict
from warehouse_service.domain.inbound import transfer_due
from warehouse_service.domain.ledger import InsufficientStock, Movement, Place, Reason, StockStatus
from warehouse_service.domain.scans import IN_TRANSIT, ExpectedReceipt
from warehouse_service.service_layer.inbound import announce_transfer
from warehouse_service.service_layer.scanning import LockedStock
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork


class TransferRefused(Conflict):
    pass


async def dispatch_transfer(uow: WarehouseUnitOfWork, reference: str, from_node: str, to_node: str,
                            lines: list[tuple[str, str, int]], actor: str, *, expected_date: date | None,
                            transfer_days: int) -> ExpectedReceipt:
    """`lines`: (sku, bin at the source, units). All or nothing. Due at the destination on `expected_date`, else
    `transfer_days` after today."""
    if from_node == to_node:
        raise TransferRefused("a transfer needs two different nodes")
    now = datetime.now(UTC)
    due = transfer_due(expected_date, now.date(), transfer_days)
    stock = await LockedStock.open(uow, {(sku, node) for sku, _, _ in lines for node in (from_node, to_node)}, now)
    movements = [Movement(sku, units, Place(from_node, location, StockStatus.sellable),
                          Place(to_node, IN_TRANSIT, StockStatus.in_transit), Reason.transfer_out, reference, actor,
                          None, now) for sku, location, units in lines]
    try:
        stock.balances.apply_all(movements)
    except InsufficientStock as short:
        raise TransferRefused(str(short)) from None
    expected: dict[str, int] = {}
    for sku, _, units in lines:
        expected[sku] = expected.get(sku, 0) + units
    receipt = ExpectedReceipt(reference, to_node, expected, transfer_from=from_node, created_by=actor,
                              expected_date=due)
    if not await uow.warehouse.add_receipt(receipt, now):
        raise TransferRefused(f"a receipt or transfer {reference} exists")
    await stock.save(uow, movements, now)
    announce_transfer(uow, receipt, now)
    await uow.commit()
    return receipt
