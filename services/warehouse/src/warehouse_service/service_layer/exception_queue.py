"""What a supervisor must decide, published as WarehouseExceptionChanged (key: the id its decision route takes) in
the transaction that records it: a refused scan, a count variance beyond the automatic threshold, a short pick
beyond the write-off threshold, quarantined units waiting for a QA decision and a scrap or liquidation beyond the
value threshold, each when raised (open) and when decided."""

from datetime import datetime

from ecomops_common.contracts import WAREHOUSE_EVENTS
from ecomops_common.contracts.warehouse import (
    WarehouseExceptionChanged,
    WarehouseExceptionKind,
    WarehouseExceptionStatus,
)
from ecomops_common.envelope import new_event
from warehouse_service.domain.recovery import QaItem, WriteOff
from warehouse_service.domain.scans import CountVariance, ScanCommand
from warehouse_service.domain.tasks import ShortPick
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

SOURCE = "warehouse"


def announce_scan_exception(uow: WarehouseUnitOfWork, scan: ScanCommand, reason: str,
                            status: WarehouseExceptionStatus, actor: str, at: datetime) -> None:
    """`reason`: why the scan was refused (e.g. no_receipt, unknown_location), at raise and decision alike."""
    _announce(uow, WarehouseExceptionChanged(
        exception_id=scan.scan_id, kind=WarehouseExceptionKind.scan_exception, status=status, node=scan.node,
        sku=scan.sku, location=scan.location, quantity=scan.quantity, reason=reason, actor=actor, at=at))


def announce_count_variance(uow: WarehouseUnitOfWork, variance: CountVariance, status: WarehouseExceptionStatus,
                            actor: str, at: datetime) -> None:
    _announce(uow, WarehouseExceptionChanged(
        exception_id=variance.scan_id, kind=WarehouseExceptionKind.count_variance, status=status,
        node=variance.place.node, sku=variance.sku, location=variance.place.location, quantity=variance.variance,
        reason="count_variance", actor=actor, at=at))


def announce_short_pick(uow: WarehouseUnitOfWork, short_pick: ShortPick, status: WarehouseExceptionStatus,
                        actor: str, at: datetime) -> None:
    """The units concerned are the missing ones, as reported."""
    _announce(uow, WarehouseExceptionChanged(
        exception_id=short_pick.id, kind=WarehouseExceptionKind.short_pick, status=status,
        node=short_pick.place.node, sku=short_pick.sku, location=short_pick.place.location,
        quantity=short_pick.missing, reason="short_pick", actor=actor, at=at))


def announce_qa_item(uow: WarehouseUnitOfWork, item: QaItem, location: str, quantity: int,
                     status: WarehouseExceptionStatus, reason: str, actor: str, at: datetime) -> None:
    """`quantity`: the units quarantined (open) or taken out by the decision that resolves it."""
    _announce(uow, WarehouseExceptionChanged(
        exception_id=item.id, kind=WarehouseExceptionKind.qa_decision, status=status, node=item.node, sku=item.sku,
        location=location, quantity=quantity, reason=reason, actor=actor, at=at))


def announce_write_off(uow: WarehouseUnitOfWork, write_off: WriteOff, status: WarehouseExceptionStatus, actor: str,
                       at: datetime) -> None:
    """The SKU and location are the first line's (a liquidation lot may have more); the units are all of them."""
    first = write_off.moves[0]
    _announce(uow, WarehouseExceptionChanged(
        exception_id=write_off.id, kind=WarehouseExceptionKind.write_off, status=status, node=write_off.node,
        sku=first.sku, location=first.location, quantity=sum(move.quantity for move in write_off.moves),
        reason=first.action.value, actor=actor, at=at))


def _announce(uow: WarehouseUnitOfWork, changed: WarehouseExceptionChanged) -> None:
    uow.emit(new_event("WarehouseExceptionChanged", 1, SOURCE, "warehouse_exception", changed.exception_id, changed),
             WAREHOUSE_EVENTS)
