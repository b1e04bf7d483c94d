"""Units leaving a recovery status, whatever moved them (a supervised action, an approved write-off, a
return-to-vendor scan): published as RecoveryStockMoved (key `<sku>@<node>`) and kept as the audit trail, in the
transaction that moves them."""

from datetime import datetime
from typing import Any

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.warehouse import DisposalRecord, RecoveryStockMoved
from ecomops_common.envelope import new_event
from warehouse_service.domain.recovery import RecoveryMove
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

SOURCE = "warehouse"


def announce_recovery(uow: WarehouseUnitOfWork, move: RecoveryMove, action_id: str, requested_by: str,
                      decided_by: str, at: datetime, write_off_id: str | None = None) -> dict[str, Any]:
    """Publishes the move and returns its audit row (for add_recovery_actions)."""
    uow.emit(new_event("RecoveryStockMoved", 1, SOURCE, "stock_position", f"{move.sku}@{move.node}",
                       RecoveryStockMoved(
                           action_id=action_id, action=move.action, node=move.node, sku=move.sku,
                           quantity=move.quantity, from_status=move.from_status.value,
                           to_status=move.to_status and move.to_status.value, to_sku=move.to_sku,
                           reference=move.reference, vendor_id=move.vendor_id, proceeds=move.proceeds,
                           currency=move.currency,
                           disposal=move.disposal and DisposalRecord.model_validate(move.disposal),
                           requested_by=requested_by, decided_by=decided_by, at=at)), WAREHOUSE_EVENTS)
    return {"action_id": action_id, "action": move.action.value, "node": move.node, "sku": move.sku,
            "quantity": move.quantity, "location": move.location, "from_status": move.from_status.value,
            "to_status": move.to_status and move.to_status.value, "to_location": move.to_location,
            "to_sku": move.to_sku, "reference": move.reference, "vendor_id": move.vendor_id, "buyer": move.buyer,
            "proceeds": move.proceeds, "currency": move.currency, "disposal": move.disposal, "note": move.note,
            "write_off_id": write_off_id, "requested_by": requested_by, "decided_by": decided_by, "at": at}
