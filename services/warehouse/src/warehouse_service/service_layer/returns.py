"""Returns (returns.events.v1): an RMA becomes an expected return receipt; a disposition moves the inspected
units to restock, refurbish, quarantine, vendor return or liquidation, or off the books (scrap). Quarantined units
raise a QA-decision item; hazardous ones are remembered, so scrapping them needs a disposal record."""

import logging
from datetime import UTC, datetime

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.returns import ReturnAuthorized, ReturnDispositionDecided
from ecomops_common.contracts.warehouse import ReturnDispositionApplied, WarehouseExceptionStatus
from ecomops_common.envelope import new_event
from ecomops_common.handlers import Received
from warehouse_service.domain.layout import LocationKind
from warehouse_service.domain.ledger import StockStatus
from warehouse_service.domain.recovery import QaItem
from warehouse_service.domain.returns import disposition_movements
from warehouse_service.domain.scans import ExpectedReceipt
from warehouse_service.service_layer.exception_queue import announce_qa_item
from warehouse_service.service_layer.scanning import SOURCE, LockedStock
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

log = logging.getLogger(__name__)


async def follow_returns(uow: WarehouseUnitOfWork,
                         events: list[Received[ReturnAuthorized | ReturnDispositionDecided]]) -> None:
    """returns.events.v1, in order, in one transaction. A disposition for units not (yet) received fails, to be
    dead-lettered with the reason and redriven once they are."""
    now = datetime.now(UTC)
    for event in (received.message for received in events):
        if isinstance(event, ReturnAuthorized):
            expected: dict[str, int] = {}
            for line in event.lines:
                expected[line.sku] = expected.get(line.sku, 0) + line.quantity
            if not await uow.warehouse.add_receipt(ExpectedReceipt(event.rma_id, event.node, expected,
                                                                   is_return=True), now):
                log.info("return authorization %s is known already", event.rma_id)
            continue
        receipt = (await uow.warehouse.receipts([event.rma_id], lock=False)).get(event.rma_id)
        if receipt is None or not receipt.is_return:
            raise ValueError(f"disposition for unknown return authorization {event.rma_id}")
        stock = await LockedStock.open(uow, {(event.sku, receipt.node)}, now)
        locations = await uow.warehouse.locations_of([receipt.node])
        quarantine = min((code for (_, code), loc in locations.items() if loc.kind is LocationKind.quarantine),
                         default=None)
        movements = disposition_movements(stock.balances, receipt.node, event.sku, event.quantity,
                                          event.disposition.value, quarantine, event.rma_id, "returns", now)
        stock.balances.apply_all(movements)
        await stock.save(uow, movements, now)
        if event.hazardous:
            await uow.warehouse.remember_hazard(event.sku, receipt.node, event.category, event.rma_id, now)
        quarantined = [m.target for m in movements if m.target and m.target.status is StockStatus.quarantined]
        if quarantined:
            item = QaItem(f"{event.rma_id}/{event.sku}", receipt.node, event.sku, event.quantity)
            await uow.warehouse.open_qa_item(item, quarantined[0].location, event.rma_id, now)
            announce_qa_item(uow, item, quarantined[0].location, event.quantity, WarehouseExceptionStatus.open,
                             "quarantine", "returns", now)
        uow.emit(new_event("ReturnDispositionApplied", 1, SOURCE, "return", event.rma_id, ReturnDispositionApplied(
            rma_id=event.rma_id, node=receipt.node, sku=event.sku, quantity=event.quantity,
            disposition=event.disposition.value, applied_at=now)), WAREHOUSE_EVENTS)
    await uow.commit()
