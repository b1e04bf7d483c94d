"""Applying scans, from Kafka or HTTP alike: each scan once (by scan_id), whole or refused into the exception
queue, in one transaction per batch that also publishes the SKU×nodes' new sellable on-hand. Over HTTP the
operator is the caller (the token's subject), and a scanner scans only at its own node."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter

from ecomops_common.auth import Principal
from ecomops_common.contracts import INVENTORY_STOCK, WAREHOUSE_EVENTS
from ecomops_common.contracts.inventory import FulfilledUnits, ShortPickedUnits, StockChangeReason, StockLevelChanged
from ecomops_common.contracts.warehouse import (
    CountRecorded,
    RecoveryAction,
    ReturnInspected,
    ReturnReceived,
    Scan,
    ShipmentDispatched,
    ShippedLine,
    StockAdjusted,
    WarehouseExceptionStatus,
)
from ecomops_common.envelope import new_event
from ecomops_common.errors import Conflict, NotFound
from ecomops_common.handlers import Received
from warehouse_service.domain.approvals import require_four_eyes
from warehouse_service.domain.ledger import Balances, Movement, Reason, StockStatus, units_by_sku_node
from warehouse_service.domain.parcels import labelled, parcel_id
from warehouse_service.domain.recovery import RecoveryMove, VendorReturn
from warehouse_service.domain.scans import (
    TASK_SCANS,
    UNEXPECTED_RECEIPTS,
    Count,
    ScanCommand,
    ScanContext,
    ScanRefused,
    apply_scan,
    approved_receipt,
    fulfilled_by,
)
from warehouse_service.domain.tasks import PickTask
from warehouse_service.service_layer.callers import check_node
from warehouse_service.service_layer.catalog import named_skus
from warehouse_service.service_layer.exception_queue import announce_count_variance, announce_scan_exception
from warehouse_service.service_layer.inbound import announce_goods_received, announce_transfer
from warehouse_service.service_layer.parcels import announce_parcels
from warehouse_service.service_layer.progress import announce_progress
from warehouse_service.service_layer.recovery_log import announce_recovery
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

# One inbox key for both entry points: a scan sent over HTTP and again over Kafka applies once.
SCANS_INBOX = "warehouse-service.scans"
SOURCE = "warehouse"
RECEIPT_SCANS = frozenset({"receive", "return_receive", "inspect"})  # scans whose reference is a receipt or RMA
RTV_ACTIONS = {Reason.rtv_pick: RecoveryAction.rtv_picked, Reason.rtv_pack: RecoveryAction.rtv_packed,
               Reason.rtv_ship: RecoveryAction.rtv_shipped}
SCANS = Counter("ecomops_scans_total", "Scans by kind and outcome: applied, refused (into the exception queue) or "
                "duplicate, counted once committed", ["kind", "outcome"])
_STOCK_REASONS = {Reason.receipt: StockChangeReason.receipt, Reason.return_receipt: StockChangeReason.receipt,
                  Reason.putaway: StockChangeReason.putaway, Reason.pick: StockChangeReason.pick,
                  Reason.count_adjustment: StockChangeReason.count, Reason.transfer_in: StockChangeReason.transfer,
                  Reason.transfer_out: StockChangeReason.transfer, Reason.disposition: StockChangeReason.return_restock,
                  Reason.refurbishment: StockChangeReason.return_restock,
                  Reason.regrade: StockChangeReason.return_restock, Reason.qa_release: StockChangeReason.return_restock}


@dataclass(frozen=True)
class ScanResult:
    scan_id: str
    outcome: str  # applied | duplicate | refused
    reason: str | None = None
    message: str | None = None


def scan_command_of(scan: Scan) -> ScanCommand:
    return ScanCommand(
        scan_id=scan.scan_id, device_id=scan.device_id, operator_id=scan.operator_id, node=scan.warehouse_id,
        scanned_at=scan.scanned_at, kind=scan.kind.value, sku=scan.sku, quantity=scan.quantity,
        location=scan.location, to_location=scan.to_location, reference=scan.reference,
        condition=scan.condition.value if scan.condition else None, lot=scan.lot, serial=scan.serial,
        expiry=scan.expiry,
        tracking_number=scan.tracking_number, carrier=scan.carrier, shipping_cost=scan.shipping_cost,
        currency=scan.currency)


async def take_scans(uow: WarehouseUnitOfWork, scans: list[Received[Scan]], count_auto_adjust_units: int) -> None:
    """warehouse.scans.v1: a refused scan goes to the exception queue, not the dead letters: it is well-formed,
    just not applicable."""
    await apply_scans(uow, [(scan_command_of(scan.message), _as_received(scan)) for scan in scans],
                      count_auto_adjust_units)


async def take_scan_by(uow: WarehouseUnitOfWork, scan: Scan, by: Principal, count_auto_adjust_units: int
                       ) -> ScanResult:
    """A scan sent over HTTP by `by`: refused (403) from a scanner of another node before its scan_id is
    taken; applied as the caller's, whatever the scan's operator_id says."""
    check_node(by, scan.warehouse_id)
    command = replace(scan_command_of(scan), operator_id=by.subject)
    result, = await apply_scans(uow, [(command, scan.model_dump_json())], count_auto_adjust_units)
    return result


def _as_received(scan: Received[Scan]) -> str:
    """The scan's JSON as it arrived, for the exception queue: a Kafka record's value as it is."""
    return scan.raw.decode() if scan.raw is not None else scan.message.model_dump_json()


async def apply_scans(uow: WarehouseUnitOfWork, scans: list[tuple[ScanCommand, str]], count_auto_adjust_units: int = 0
                      ) -> list[ScanResult]:
    """`scans` are (command, the scan's JSON as received); results come back in the same order."""
    now = datetime.now(UTC)
    new_ids = await uow.claim_new_events(SCANS_INBOX, [scan.scan_id for scan, _ in scans])
    fresh, answers = [], []  # answers: a scan id whose result comes later, or a duplicate's result now
    for scan, document in scans:
        if scan.scan_id in new_ids:
            new_ids.discard(scan.scan_id)  # a repeat within this batch is a duplicate too
            fresh.append((scan, document))
            answers.append(scan.scan_id)
        else:
            answers.append(ScanResult(scan.scan_id, "duplicate"))
    named, sku_rules = await named_skus(uow, [scan for scan, _ in fresh])
    fresh = [(scan, document) for scan, (_, document) in zip(named, fresh, strict=True)]
    stock = await LockedStock.open(uow, {(scan.sku, scan.node) for scan, _ in fresh}, now)
    receipts = await uow.warehouse.receipts({s.reference for s, _ in fresh
                                             if s.kind in RECEIPT_SCANS and s.reference}, lock=True)
    task_ids = {s.reference for s, _ in fresh if s.kind in TASK_SCANS and s.reference}
    # Orders before their tasks, as follow_allocations locks them: of two scans finishing one order's lines at
    # once, the later waits for the earlier and sees its tasks when it announces the order's progress.
    await uow.warehouse.lock_orders_of_tasks(task_ids)
    tasks = await uow.warehouse.tasks(ids=task_ids, lock=True)
    vendor_returns = await uow.warehouse.vendor_returns(task_ids - {task.id for task in tasks}, lock=True)
    context = ScanContext(await uow.warehouse.locations_of({scan.node for scan, _ in fresh}), receipts,
                          stock.balances, count_auto_adjust_units=count_auto_adjust_units,
                          tasks={task.id: task for task in tasks},
                          wave_status=await uow.warehouse.wave_statuses(task.wave_id for task in tasks),
                          count_tasks=await uow.warehouse.count_tasks(
                              {s.reference for s, _ in fresh if s.kind == "count" and s.reference}),
                          vendor_returns=vendor_returns, sku_rules=sku_rules)
    labels = await uow.warehouse.labels({parcel for s, _ in fresh if (parcel := _parcel_of(s, context))})
    charged: set[str] = set()  # parcels whose label's cost went with a shipment of this batch

    by_id = {scan.scan_id: scan for scan, _ in fresh}
    results: dict[str, ScanResult] = {}
    movements: list[Movement] = []
    refused_rows = []
    for scan, document in fresh:
        label = labels.get(_parcel_of(scan, context))
        as_applied = by_id[scan.scan_id] = labelled(scan, label)  # a ship scan completed from its parcel's label
        try:
            movements += apply_scan(as_applied, context)
            results[scan.scan_id] = ScanResult(scan.scan_id, "applied")
            if label is not None and scan.shipping_cost is None and as_applied.shipping_cost is not None:
                labels[label.parcel_id] = replace(label, cost_charged=True)  # the parcel's next scans: not again
                charged.add(label.parcel_id)
        except ScanRefused as refused:
            results[scan.scan_id] = ScanResult(scan.scan_id, "refused", refused.reason, refused.message)
            refused_rows.append({"scan_id": scan.scan_id, "device_id": scan.device_id, "node": scan.node,
                                 "reason": refused.reason, "message": refused.message, "scan": document,
                                 "scanned_by": scan.actor, "created_at": now})
            announce_scan_exception(uow, scan, refused.reason, WarehouseExceptionStatus.open, scan.actor, now)

    await stock.save(uow, movements, now, fulfilled_by(movements, context.tasks))
    await uow.warehouse.save_tasks(tasks, now)
    await uow.warehouse.charge_label_costs(charged)
    await uow.warehouse.save_count_tasks(context.count_tasks.values())
    await uow.warehouse.save_vendor_returns(vendor_returns.values())
    shipments, recovery_actions = [], []
    for movement in movements:
        if movement.reason is Reason.ship:
            task, shipped = context.tasks[movement.reference], by_id[movement.scan_id]
            _announce_shipment(uow, movement, task, shipped)
            shipments.append({"order_id": task.order_id, "tracking_number": shipped.tracking_number,
                              "carrier": shipped.carrier, "node": task.node, "shipped_at": movement.at})
        elif movement.reason is Reason.receipt and receipts[movement.reference].po_id:
            announce_goods_received(uow, movement, receipts[movement.reference])
        elif movement.reason is Reason.return_receipt:
            uow.emit(new_event("ReturnReceived", 1, SOURCE, "return", movement.reference, ReturnReceived(
                rma_id=movement.reference, node=movement.target.node, sku=movement.sku, quantity=movement.quantity,
                condition=by_id[movement.scan_id].condition, received_at=movement.at,
                shipping_cost=by_id[movement.scan_id].shipping_cost, currency=by_id[movement.scan_id].currency)),
                WAREHOUSE_EVENTS)
        elif movement.reason in RTV_ACTIONS:
            recovery_actions.append(_announce_rtv_step(uow, movement, vendor_returns[movement.reference]))
        elif movement.reason is Reason.count_adjustment:  # a count task or None: counts name nothing else
            announce_stock_adjustment(uow, movement, movement.scan_id, movement.reference)
    for scan in context.inspections:
        uow.emit(new_event("ReturnInspected", 1, SOURCE, "return", scan.reference, ReturnInspected(
            rma_id=scan.reference, node=scan.node, sku=scan.sku, quantity=scan.quantity, condition=scan.condition,
            inspected_at=scan.scanned_at, serial=scan.serial, inspector=scan.operator_id)), WAREHOUSE_EVENTS)
    for count in context.counts:
        if results[count.scan.scan_id].outcome == "applied":
            _announce_count(uow, count)
    for variance in context.variances:
        announce_count_variance(uow, variance, WarehouseExceptionStatus.open, variance.counted_by, now)
    for reference in sorted({m.reference for m in movements if m.reason is Reason.transfer_in}):
        announce_transfer(uow, receipts[reference], now)
    await announce_parcels(uow, {(context.tasks[m.reference].order_id, m.source.node) for m in movements
                                 if m.reason is Reason.pack}, now)
    await announce_progress(uow, {context.tasks[m.reference].order_id for m in movements
                                  if m.reason in (Reason.pick, Reason.pack, Reason.ship)})
    await uow.warehouse.save_receipts(receipts.values())
    await uow.warehouse.add_shipments(shipments)
    await uow.warehouse.add_recovery_actions(recovery_actions)
    await uow.warehouse.add_scan_exceptions(refused_rows)
    await uow.warehouse.add_count_variances(context.variances, now)
    await uow.commit()
    answered = [results[answer] if isinstance(answer, str) else answer for answer in answers]
    for (scan, _), result in zip(scans, answered, strict=True):
        SCANS.labels(kind=scan.kind, outcome=result.outcome).inc()
    return answered


def _parcel_of(scan: ScanCommand, context: ScanContext) -> str | None:
    """The parcel a ship scan of a pick task ships (None for other scans)."""
    task = context.tasks.get(scan.reference or "") if scan.kind == "ship" else None
    return task and parcel_id(task.order_id, task.node)


class NoOpenException(NotFound):
    pass


class NotApprovable(Conflict):
    pass


async def resolve_scan_exception(uow: WarehouseUnitOfWork, scan_id: str, actor: str, resolution: str) -> None:
    """Closes the exception; nothing is booked (a rescan or a correction did what was needed, or the units are
    refused)."""
    exception = await uow.warehouse.open_scan_exception(scan_id)
    if exception is None:
        raise NoOpenException(f"no open exception for scan {scan_id}")
    now = datetime.now(UTC)
    await uow.warehouse.resolve_scan_exception(scan_id, "resolved", actor, resolution, now)
    announce_scan_exception(uow, scan_command_of(Scan.model_validate_json(exception["scan"])), exception["reason"],
                            WarehouseExceptionStatus.resolved, actor, now)
    await uow.commit()


async def approve_scan_exception(uow: WarehouseUnitOfWork, scan_id: str, approver: str, resolution: str) -> None:
    """Books the units of a receive scan that matched no expected receipt, approved by a supervisor other than
    the scanner (units over an advance ship notice's are announced as received against it); other exceptions
    are only resolved."""
    exception = await uow.warehouse.open_scan_exception(scan_id)
    if exception is None:
        raise NoOpenException(f"no open exception for scan {scan_id}")
    if exception["reason"] not in UNEXPECTED_RECEIPTS:
        raise NotApprovable(f"a {exception['reason']} exception has no units to book: resolve it")
    (scan,), _ = await named_skus(uow, [scan_command_of(Scan.model_validate_json(exception["scan"]))])
    require_four_eyes(approver, exception["scanned_by"] or scan.actor, f"scanned {scan_id}")
    now = datetime.now(UTC)
    stock = await LockedStock.open(uow, {(scan.sku, scan.node)}, now)
    receipts = await uow.warehouse.receipts([scan.reference] if scan.reference else [], lock=False)
    receipt = receipts.get(scan.reference or "")
    if receipt is not None and receipt.node == scan.node:
        scan = receipt.with_announced_lot(scan)
    try:
        movement = approved_receipt(scan, await uow.warehouse.locations_of([scan.node]), approver, now)
    except ScanRefused as refused:
        raise NotApprovable(refused.message) from None
    stock.balances.apply(movement)
    await stock.save(uow, [movement], now)
    if receipt is not None and receipt.node == scan.node and receipt.po_id and scan.sku in receipt.terms:
        announce_goods_received(uow, movement, receipt)  # an over-receipt of an advance ship notice's SKU
    await uow.warehouse.resolve_scan_exception(scan_id, "approved", approver, resolution, now)
    announce_scan_exception(uow, scan, exception["reason"], WarehouseExceptionStatus.approved, approver, now)
    await uow.commit()


def _announce_shipment(uow: WarehouseUnitOfWork, movement: Movement, task: PickTask, scan: ScanCommand) -> None:
    uow.emit(new_event("ShipmentDispatched", 1, SOURCE, "order", task.order_id, ShipmentDispatched(
        order_id=task.order_id, node=task.node, tracking_number=scan.tracking_number, carrier=scan.carrier,
        shipping_cost=scan.shipping_cost, currency=scan.currency, shipped_at=movement.at,
        lines=[ShippedLine(line_id=task.line_id, sku=task.sku, quantity=movement.quantity,
                           serials=[scan.serial] if scan.serial else [])])), WAREHOUSE_EVENTS)


def _announce_rtv_step(uow: WarehouseUnitOfWork, movement: Movement, rtv: VendorReturn) -> dict[str, Any]:
    """A pick, pack or ship scan against a return-to-vendor authorization: the scanner requested and decided it."""
    move = RecoveryMove(RTV_ACTIONS[movement.reason], movement.source.node, movement.sku, movement.source.location,
                        StockStatus.vendor_return, movement.quantity, movement.target and movement.target.status,
                        movement.target and movement.target.location, reference=rtv.rtv_id, vendor_id=rtv.vendor_id)
    return announce_recovery(uow, move, movement.scan_id, movement.actor, movement.actor, movement.at)


def _announce_count(uow: WarehouseUnitOfWork, count: Count) -> None:
    scan = count.scan
    uow.emit(new_event("CountRecorded", 1, SOURCE, "stock_position", f"{scan.sku}@{scan.node}", CountRecorded(
        count_id=scan.scan_id, node=scan.node, sku=scan.sku, location=count.place.location, expected=count.expected,
        counted=scan.quantity, task_id=scan.reference, counted_at=scan.scanned_at)), WAREHOUSE_EVENTS)


def announce_stock_adjustment(uow: WarehouseUnitOfWork, movement: Movement, adjustment_id: str,
                              count_task: str | None) -> None:
    """Publishes a count adjustment as StockAdjusted: units found (+) entered the books, lost ones (−) left."""
    place, quantity = (movement.target, movement.quantity) if movement.source is None \
        else (movement.source, -movement.quantity)
    uow.emit(new_event("StockAdjusted", 1, SOURCE, "stock_position", f"{movement.sku}@{place.node}", StockAdjusted(
        adjustment_id=adjustment_id, sku=movement.sku, node=place.node, location=place.location, quantity=quantity,
        reason="count", reference=count_task, actor=movement.actor, adjusted_at=movement.at)), WAREHOUSE_EVENTS)


LineUnits = dict[tuple[str, str], list[tuple[str, str, int]]]  # (sku, node) -> (order id, line id, units)


class LockedStock:
    """The balances of some SKU×nodes, their stock_levels rows locked, and the publishing of what changed."""

    def __init__(self, keys: set[tuple[str, str]], versions: dict, balances: Balances) -> None:
        self.keys, self.versions, self.balances = keys, versions, balances
        self.balances_before = balances.items()

    @classmethod
    async def open(cls, uow: WarehouseUnitOfWork, keys: set[tuple[str, str]], now: datetime) -> "LockedStock":
        versions = await uow.warehouse.lock_levels(keys, now)
        return cls(keys, versions, await uow.warehouse.balances_of(keys))

    async def save(self, uow: WarehouseUnitOfWork, movements: list[Movement], now: datetime,
                   fulfilled: LineUnits | None = None, short_picked: LineUnits | None = None) -> None:
        """Writes the movements and balances; announces each SKU×node whose stock changed in any status, with
        the order lines that picks among the movements fulfilled, or that a picker found short."""
        await uow.warehouse.add_movements(movements)
        await uow.warehouse.save_balances(self.balances_before, self.balances.items())
        before, after = units_by_sku_node(self.balances_before), self.balances.by_sku_node()
        changed = sorted(key for key in self.keys if before.get(key, {}) != after.get(key, {}))
        sellable = {key: after.get(key, {}).get(StockStatus.sellable.value, 0) for key in changed}
        # Numbered under the rows' locks, so versions follow the order the changes commit in (`now` need not).
        versions = {key: self.versions[key] + 1 for key in changed}
        await uow.warehouse.save_levels({key: (sellable[key], versions[key]) for key in changed}, now)
        last_reason = {(m.sku, place.node): m.reason for m in movements for place in (m.source, m.target) if place}
        for sku, node in changed:
            reason = last_reason[sku, node]
            uow.emit(new_event("StockLevelChanged", 1, SOURCE, "stock_position", f"{sku}@{node}", StockLevelChanged(
                sku=sku, node=node, sellable_on_hand=sellable[sku, node], on_hand_by_status=after.get((sku, node), {}),
                reason=_STOCK_REASONS.get(reason, StockChangeReason.adjustment), as_of=now, version=versions[sku, node],
                fulfilled=[FulfilledUnits(order_id=order_id, line_id=line_id, quantity=qty)
                           for order_id, line_id, qty in (fulfilled or {}).get((sku, node), ())],
                short_picked=[ShortPickedUnits(order_id=order_id, line_id=line_id, quantity=qty)
                              for order_id, line_id, qty in (short_picked or {}).get((sku, node), ())])),
                INVENTORY_STOCK)
