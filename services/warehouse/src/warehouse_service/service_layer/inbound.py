"""Inbound supply: advance ship notices (supply.events.v1) become expected receipts; units booked against one
are announced as GoodsReceived, and a transfer's progress as TransferChanged, for the supply, finance and
allocation services."""

import logging
from datetime import UTC, datetime

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.supply import AdvanceShipNoticeIssued
from ecomops_common.contracts.warehouse import GoodsReceived, TransferChanged, TransferLine, TransferStatus
from ecomops_common.envelope import new_event
from ecomops_common.handlers import Received
from warehouse_service.domain.inbound import asn_receipt
from warehouse_service.domain.ledger import Movement
from warehouse_service.domain.scans import ExpectedReceipt
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

log = logging.getLogger(__name__)
SOURCE = "warehouse"


async def expect_asns(uow: WarehouseUnitOfWork, events: list[Received[AdvanceShipNoticeIssued]]) -> None:
    """Each advance ship notice becomes the receipt its id references; one whose id is taken already (by a receipt
    a supervisor expects, or a transfer) is logged and skipped."""
    now = datetime.now(UTC)
    for asn in (received.message for received in events):
        receipt = asn_receipt(asn.asn_id, asn.node, asn.po_id, asn.currency, asn.expected_date,
                              [(line.sku, line.quantity, line.unit_cost, line.lot, line.expiry) for line in asn.lines],
                              asn.issued_by)
        if not await uow.warehouse.add_receipt(receipt, now):
            log.warning("advance ship notice %s of %s: a receipt with this reference exists", asn.asn_id, asn.po_id)
    await uow.commit()


def announce_goods_received(uow: WarehouseUnitOfWork, movement: Movement, receipt: ExpectedReceipt) -> None:
    """Units booked against an advance ship notice, valued at its line's cost (none for a SKU it did not name)."""
    terms = receipt.terms.get(movement.sku)
    uow.emit(new_event("GoodsReceived", 1, SOURCE, "purchase_order", receipt.po_id, GoodsReceived(
        receipt_id=movement.scan_id, po_id=receipt.po_id, asn_id=receipt.reference, node=movement.target.node,
        sku=movement.sku, quantity=movement.quantity, unit_cost=terms and terms.unit_cost,
        currency=receipt.currency if terms else None, lot=movement.target.lot, expiry=movement.target.expiry,
        received_by=movement.actor, received_at=movement.at)), WAREHOUSE_EVENTS)


def announce_transfer(uow: WarehouseUnitOfWork, transfer: ExpectedReceipt, at: datetime) -> None:
    """A transfer's units sent and received so far: allocation counts the rest as inbound at the destination."""
    uow.emit(new_event("TransferChanged", 1, SOURCE, "transfer", transfer.reference, TransferChanged(
        reference=transfer.reference, from_node=transfer.transfer_from, to_node=transfer.node,
        status=TransferStatus.received if transfer.fully_received else TransferStatus.dispatched,
        # A transfer dispatched before transfers had a date is due when its units arrive.
        expected_date=transfer.expected_date or at.date(), at=at,
        lines=[TransferLine(sku=sku, quantity=units, received=transfer.received.get(sku, 0))
               for sku, units in sorted(transfer.expected.items())])), WAREHOUSE_EVENTS)
