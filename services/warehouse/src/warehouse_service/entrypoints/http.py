"""HTTP API: scans for handhelds that do not speak Kafka, receipts and layout for admins, read models."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ecomops_common.contracts.types import INT4_MAX, INT8_MAX, MAX_LINE_QUANTITY, Document
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.errors import NotFound
from ecomops_common.http import entered_unit_of_work, require_staff
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.scans import ExpectedReceipt
from warehouse_service.service_layer import admin, counting, progress, scanning, tasks, transfers
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

router = APIRouter(prefix="/v1", tags=["warehouse"])
NODE = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# Which field of the scan a refusal is about, for the 422's `loc`.
REFUSED_FIELD = {"unknown_sku": "sku", "unexpected_sku": "sku", "unknown_location": "location",
                 "wrong_location": "location", "missing_to_location": "to_location", "same_location": "to_location",
                 "over_receipt": "quantity", "quantity_above_stock": "quantity", "non_positive_quantity": "quantity",
                 "unknown_receipt": "reference", "unsupported_kind": "kind", "unknown_task": "reference",
                 "task_not_open": "reference", "wrong_item": "sku", "over_pick": "quantity",
                 "no_packing_location": "to_location", "no_shipping_location": "to_location",
                 "wave_not_released": "reference", "unknown_rma": "reference", "missing_condition": "condition",
                 "over_pack": "quantity", "over_ship": "quantity", "missing_tracking_number": "tracking_number"}


UnitOfWork = Annotated[WarehouseUnitOfWork, Depends(entered_unit_of_work)]


class LocationInput(Document):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    kind: LocationKind


class Layout(Document):
    locations: list[LocationInput] = Field(min_length=1, max_length=10_000)


class ReceiptLine(Document):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=MAX_LINE_QUANTITY)


class ReceiptInput(Document):
    reference: str = Field(min_length=1, max_length=128, description="Purchase order or ASN number")
    node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    lines: list[ReceiptLine] = Field(min_length=1, max_length=1000)


class TransferLine(Document):
    sku: str = Field(min_length=1, max_length=64)
    from_location: str = Field(min_length=1, max_length=64, description="The bin at the source node")
    quantity: int = Field(gt=0, le=MAX_LINE_QUANTITY)


class TransferInput(Document):
    reference: str = Field(min_length=1, max_length=128)
    from_node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    to_node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    actor: str = Field(min_length=1, max_length=128)
    lines: list[TransferLine] = Field(min_length=1, max_length=1000)


class ReceiptView(BaseModel):
    reference: str
    node: str
    transfer_from: str | None = Field(default=None, description="For a transfer: the node the units come from")
    is_return: bool = Field(default=False, description="A return authorization (RMA)")
    conditions: dict[str, dict[str, int]] = Field(default_factory=dict,
                                                  description="Returns: SKU -> condition -> units")
    expected: dict[str, int]
    received: dict[str, int]
    damaged: dict[str, int]
    discrepancies: dict[str, dict[str, int]] = Field(description="Per SKU: short and damaged units")


class ScanOutcome(BaseModel):
    scan_id: str
    outcome: str = Field(description="applied, or duplicate (this scan_id was applied or refused before)")


class Decision(Document):
    actor: str = Field(min_length=1, max_length=128, description="The supervisor; for a count not the counter")


class Resolution(Document):
    actor: str = Field(min_length=1, max_length=128)
    resolution: str = Field(min_length=1, max_length=1000, description="What was done, e.g. rescanned as s-124")



class LayoutStored(BaseModel):
    locations: int = Field(description="Locations in the layout sent")


class ResolvedException(BaseModel):
    scan_id: str
    status: Literal["resolved"]


class StockPlace(BaseModel):
    sku: str
    node: str
    location: str
    status: str
    lot: str = Field(description="'' when not lot-tracked")
    serial: str = Field(description="'' when not serialised")
    expiry: str = Field(description="ISO date, '' when none")


class StockLine(StockPlace):
    units: int


class MovementView(BaseModel):
    id: int
    sku: str
    quantity: int
    from_node: str | None
    from_location: str | None
    from_status: str | None
    from_lot: str | None
    from_serial: str | None
    from_expiry: str | None
    to_node: str | None
    to_location: str | None
    to_status: str | None
    to_lot: str | None
    to_serial: str | None
    to_expiry: str | None
    reason: str
    reference: str | None
    actor: str
    scan_id: str | None
    at: datetime


class ScanException(BaseModel):
    scan_id: str
    device_id: str
    node: str
    reason: str
    message: str
    scan: dict[str, Any] = Field(description="The scan as received")
    created_at: datetime
    resolved_by: str | None
    resolution: str | None
    resolved_at: datetime | None


class CountTaskView(BaseModel):
    id: str = Field(description="What count scans reference")
    node: str
    location: str | None
    sku: str | None
    status: str


class CountTaskLine(CountTaskView):
    counts: int
    created_by: str
    created_at: datetime


class ClosedCountTask(BaseModel):
    task_id: str
    status: Literal["done"]


class CountVarianceView(BaseModel):
    scan_id: str
    sku: str
    node: str
    location: str
    status: str
    lot: str
    serial: str
    expiry: str
    expected: int
    counted: int
    counted_by: str
    counted_at: datetime
    decision: str | None = Field(description="approved or rejected")
    decided_by: str | None
    decided_at: datetime | None


class DecidedVariance(BaseModel):
    scan_id: str
    decision: str = Field(description="approved or rejectd (sic: kept as answered so far)")


class PickTaskView(BaseModel):
    id: str = Field(description="What pick scans reference")
    order_id: str
    line_id: str
    node: str
    sku: str
    quantity: int
    picked: int
    packed: int
    shipped: int
    status: str
    suggested_bin: str | None
    wave_id: str | None
    created_at: datetime
    updated_at: datetime


class WaveView(BaseModel):
    id: str
    node: str
    service_level: str
    cutoff: datetime = Field(description="Carrier cut-off")
    status: str
    tasks: int
    released_by: str | None
    released_at: datetime | None


class ReleasedWave(BaseModel):
    wave_id: str
    status: Literal["released"]


class ShortPickReported(BaseModel):
    task_id: str
    short: int = Field(description="Units reported short to allocation")


class DeliveredOrder(BaseModel):
    order_id: str
    stage: Literal["delivered"]


class Drift(StockPlace):
    ledger: int = Field(description="Units by the sum of the movement ledger")
    balance: int


class Reconciliation(BaseModel):
    ok: bool
    drift: list[Drift]


@router.put("/warehouses/{node}/locations", dependencies=[require_staff()])
async def put_locations(node: NODE, layout: Layout, uow: UnitOfWork) -> LayoutStored:
    await admin.put_locations(uow, [Location(node, loc.code, loc.kind) for loc in layout.locations])
    return LayoutStored(locations=len(layout.locations))


@router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=ReceiptView,
             dependencies=[require_staff("supervisor")], responses={409: {"description": "Reference exists"}})
async def expect_receipt(body: ReceiptInput, uow: UnitOfWork):
    receipt = await admin.expect_receipt(uow, body.reference, body.node,
                                         [(line.sku, line.quantity) for line in body.lines])
    return _receipt_view(receipt)


@router.post("/transfers", status_code=status.HTTP_201_CREATED, response_model=ReceiptView,
             dependencies=[require_staff("supervisor")],
             responses={409: {"description": "Not enough in a bin, same node, or the reference exists"}})
async def dispatch_transfer(body: TransferInput, uow: UnitOfWork):
    """Ships units from bins at one node to another: in_transit until received there against `reference`."""
    receipt = await transfers.dispatch_transfer(
        uow, body.reference, body.from_node, body.to_node,
        [(line.sku, line.from_location, line.quantity) for line in body.lines], body.actor)
    return _receipt_view(receipt)


@router.get("/receipts/{reference}", response_model=ReceiptView)
async def get_receipt(reference: str, uow: UnitOfWork):
    receipt = (await uow.warehouse.receipts([reference], lock=False)).get(reference)
    if receipt is None:
        raise NotFound(f"receipt {reference} not found")
    return _receipt_view(receipt)


@router.post("/scans", response_model=ScanOutcome,
             responses={422: {"description": "Malformed, or not applicable: then queued as a scan exception"}})
async def post_scan(scan: Scan, request: Request, uow: UnitOfWork):
    result, = await scanning.apply_scans(uow, [(scanning.scan_command_of(scan), scan.model_dump_json())],
                                         request.app.state.runtime.settings.count_auto_adjust_units)
    if result.outcome == "refused":
        return JSONResponse(status_code=422, content={"scan_id": result.scan_id, "outcome": "refused", "detail": [
            {"loc": ["body", REFUSED_FIELD.get(result.reason, "scan")], "msg": result.message, "type": result.reason}]})
    return ScanOutcome(scan_id=result.scan_id, outcome=result.outcome)


@router.get("/stock")
async def get_stock(uow: UnitOfWork, sku: str | None = None, node: str | None = None,
                    location: str | None = None, stock_status: Annotated[str | None, Query(alias="status")] = None,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[StockLine]:
    """Units by SKU, node, location, status and lot."""
    return await uow.warehouse.stock(sku=sku, node=node, location=location, status=stock_status, limit=limit)


@router.get("/movements")
async def get_movements(sku: str, uow: UnitOfWork, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        before_id: Annotated[int | None, Query(ge=1, le=INT8_MAX)] = None) -> list[MovementView]:
    """A SKU's movement history, newest first (page with before_id)."""
    return await uow.warehouse.movements_of(sku, limit, before_id)


@router.get("/scan-exceptions")
async def list_scan_exceptions(uow: UnitOfWork, open_only: Annotated[bool, Query(alias="open")] = True,
                               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[ScanException]:
    return await uow.warehouse.scan_exceptions(open_only=open_only, limit=limit)


@router.post("/scan-exceptions/{scan_id}/resolve", dependencies=[require_staff("supervisor")],
             responses={404: {"description": "No open exception for this scan"}})
async def resolve_scan_exception(scan_id: str, body: Resolution, uow: UnitOfWork) -> ResolvedException:
    await scanning.resolve_scan_exception(uow, scan_id, body.actor, body.resolution)
    return ResolvedException(scan_id=scan_id, status="resolved")


class CountTaskInput(Document):
    node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    location: str | None = Field(default=None, max_length=64, description="Count this location (every SKU)")
    sku: str | None = Field(default=None, max_length=64, description="Count this SKU (everywhere at the node)")
    actor: str = Field(min_length=1, max_length=128)


@router.post("/count-tasks", status_code=status.HTTP_201_CREATED, dependencies=[require_staff("supervisor")])
async def create_count_task(body: CountTaskInput, uow: UnitOfWork) -> CountTaskView:
    """Count scans name the task as `reference`; one for a SKU at a location finishes it, others are closed."""
    task = await counting.create_count_task(uow, body.node, body.location, body.sku, body.actor)
    return CountTaskView(id=task.id, node=task.node, location=task.location, sku=task.sku, status=task.status)


@router.get("/count-tasks")
async def list_count_tasks(uow: UnitOfWork, node: str | None = None,
                           task_status: Annotated[str | None, Query(alias="status")] = "open",
                           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CountTaskLine]:
    return await uow.warehouse.count_task_list(node=node, status=task_status, limit=limit)


@router.post("/count-tasks/{task_id}/close", dependencies=[require_staff("supervisor")],
             responses={404: {"description": "No such task"}, 409: {"description": "Not open"}})
async def close_count_task(task_id: str, uow: UnitOfWork) -> ClosedCountTask:
    await counting.close_count_task(uow, task_id)
    return ClosedCountTask(task_id=task_id, status="done")


@router.get("/count-variances")
async def list_count_variances(uow: UnitOfWork, open_only: Annotated[bool, Query(alias="open")] = True,
                               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CountVarianceView]:
    """Counts that differ from the books beyond the automatic threshold, waiting for a supervisor."""
    return await uow.warehouse.count_variances(open_only=open_only, limit=limit)


@router.post("/count-variances/{scan_id}/{decision}", dependencies=[require_staff("supervisor")],
             responses={404: {"description": "No undecided variance"}, 409: {"description": "Own count, or moved"}})
async def decide_count_variance(scan_id: str, decision: Literal["approve", "reject"], body: Decision,
                                uow: UnitOfWork) -> DecidedVariance:
    """Approve adjusts the books by the variance (and publishes the stock change); reject leaves them."""
    await counting.decide_count_variance(uow, scan_id, body.actor, decision == "approve")
    return DecidedVariance(scan_id=scan_id, decision=f"{decision}d")


@router.get("/pick-tasks")
async def list_pick_tasks(uow: UnitOfWork, node: str | None = None, order_id: str | None = None,
                          task_status: Annotated[str | None, Query(alias="status")] = "open",
                          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[PickTaskView]:
    """Pick tasks (one per order line and node, made from allocation results), oldest first."""
    return await uow.warehouse.task_list(node=node, order_id=order_id, status=task_status, limit=limit)


@router.get("/waves")
async def list_waves(uow: UnitOfWork, node: str | None = None,
                     wave_status: Annotated[str | None, Query(alias="status")] = "planned",
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[WaveView]:
    """Waves by carrier cut-off: planned ones collect tasks, released ones are for the pickers."""
    return await uow.warehouse.wave_list(node=node, status=wave_status, limit=limit)


@router.post("/waves/{wave_id}/release", dependencies=[require_staff("supervisor")],
             responses={404: {"description": "No such wave"}, 409: {"description": "Released already"}})
async def release_wave(wave_id: str, body: Decision, uow: UnitOfWork) -> ReleasedWave:
    await tasks.release_wave(uow, wave_id, body.actor)
    return ReleasedWave(wave_id=wave_id, status="released")


class ShortPick(Document):
    actor: str = Field(min_length=1, max_length=128, description="The picker or supervisor")
    location: str = Field(min_length=1, max_length=64, description="The bin that came up short")
    found: int = Field(ge=0, le=INT4_MAX, description="Units actually in the bin")


@router.post("/pick-tasks/{task_id}/short", responses={409: {"description": "Nothing is missing there"}})
async def short_pick(task_id: str, body: ShortPick, uow: UnitOfWork) -> ShortPickReported:
    """The bin holds fewer units than the books: they are corrected, and allocation re-sources the line."""
    short = await tasks.report_short_pick(uow, task_id, body.location, body.found, body.actor)
    return ShortPickReported(task_id=task_id, short=short)


@router.post("/orders/{order_id}/delivery", dependencies=[require_staff("supervisor", "carrier")],
             responses={409: {"description": "The order is not shipped"}})
async def confirm_delivery(order_id: str, uow: UnitOfWork) -> DeliveredOrder:
    """The carrier's delivery confirmation (webhook or operator): the order becomes delivered."""
    await progress.confirm_delivery(uow, order_id)
    return DeliveredOrder(order_id=order_id, stage="delivered")


@router.get("/reconciliation", dependencies=[require_staff("supervisor", "auditor")])
async def get_reconciliation(uow: UnitOfWork) -> Reconciliation:
    """Balances against the sum of the movement ledger; `drift` lists every place where they differ."""
    drift = await uow.warehouse.ledger_drift()
    return Reconciliation(ok=not drift, drift=drift)


def _receipt_view(receipt: ExpectedReceipt) -> ReceiptView:
    return ReceiptView(reference=receipt.reference, node=receipt.node, transfer_from=receipt.transfer_from,
                       is_return=receipt.is_return, conditions=receipt.conditions,
                       expected=receipt.expected,
                       received=receipt.received, damaged=receipt.damaged, discrepancies=receipt.discrepancies())
