"""HTTP API: scans for handhelds that do not speak Kafka (scanners, operators, supervisors), receipts, transfers,
counts and approvals for supervisors, the layout for admins, read models for warehouse staff and auditors, and
delivery confirmations for carriers. Every route takes the issuer's bearer token and names the roles it needs
(ecomops_common.access); what a route records as done by someone is the token's subject, never a request field.
A scanner is bound to its token's node, a carrier client to the parcels it took."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common.access import caller
from ecomops_common.auth import ADMIN, AUDITOR, CARRIER, DEVICE, SUPERVISOR, WAREHOUSE_OPERATOR, Principal
from ecomops_common.contracts.types import INT4_MAX, INT8_MAX, MAX_LINE_QUANTITY, Document
from ecomops_common.contracts.warehouse import Scan
from ecomops_common.errors import NotFound
from ecomops_common.http import entered_unit_of_work
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.scans import ExpectedReceipt
from warehouse_service.service_layer import admin, counting, progress, scanning, tasks, transfers
from warehouse_service.service_layer.callers import node_filter
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork

router = APIRouter(prefix="/v1", tags=["warehouse"])
NODE = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
READERS = (WAREHOUSE_OPERATOR, SUPERVISOR, AUDITOR)  # who reads stock, the ledger, tasks and queues
# Which field of the scan a refusal is about, for the 422's `loc`.
REFUSED_FIELD = {"unknown_sku": "sku", "unexpected_sku": "sku", "unknown_location": "location",
                 "wrong_location": "location", "missing_to_location": "to_location", "same_location": "to_location",
                 "over_receipt": "quantity", "quantity_above_stock": "quantity", "non_positive_quantity": "quantity",
                 "no_receipt": "reference", "unknown_receipt": "reference", "unsupported_kind": "kind",
                 "unknown_task": "reference", "task_not_open": "reference", "wrong_item": "sku",
                 "over_pick": "quantity",
                 "no_packing_location": "to_location", "no_shipping_location": "to_location",
                 "wave_not_released": "reference", "unknown_rma": "reference", "missing_condition": "condition",
                 "over_pack": "quantity", "over_ship": "quantity", "missing_tracking_number": "tracking_number"}


UnitOfWork = Annotated[WarehouseUnitOfWork, Depends(entered_unit_of_work)]
Supervisor = Annotated[Principal, caller(SUPERVISOR)]


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
    model_config = ConfigDict(extra="forbid")  # an `actor` sent as before is refused: the caller is the actor

    reference: str = Field(min_length=1, max_length=128)
    from_node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    to_node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
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
    created_by: str | None = Field(default=None, description="Who expects it; none for an RMA")


class ScanOutcome(BaseModel):
    scan_id: str
    outcome: str = Field(description="applied, or duplicate (this scan_id was applied or refused before)")


class Resolution(Document):
    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(min_length=1, max_length=1000, description="What was done, e.g. rescanned as s-124")


class LayoutStored(BaseModel):
    locations: int = Field(description="Locations in the layout sent")


class ResolvedException(BaseModel):
    scan_id: str
    status: Literal["resolved", "approved"] = Field(description="approved: the units were booked")


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
    scanned_by: str | None = Field(description="Over HTTP the caller; over Kafka the scan's operator or device")
    created_at: datetime
    decision: str | None = Field(description="approved (the units were booked) or resolved (nothing was)")
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
    decision: Literal["approved", "rejected"]


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
    short: int = Field(description="Units reported short to allocation (none while the write-off waits)")
    short_pick_id: str | None = Field(description="The write-off waiting for a supervisor (answered with 202)")


class ShortPickView(BaseModel):
    id: str
    task_id: str
    sku: str
    node: str
    location: str
    held: int = Field(description="Units the books showed in the bin")
    found: int
    reported_by: str
    reported_at: datetime
    decision: str | None = Field(description="approved or rejected")
    decided_by: str | None
    decided_at: datetime | None


class DecidedShortPick(BaseModel):
    short_pick_id: str
    decision: Literal["approved", "rejected"]
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


@router.put("/warehouses/{node}/locations", dependencies=[caller(ADMIN)])
async def put_locations(node: NODE, layout: Layout, uow: UnitOfWork) -> LayoutStored:
    await admin.put_locations(uow, [Location(node, loc.code, loc.kind) for loc in layout.locations])
    return LayoutStored(locations=len(layout.locations))


@router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=ReceiptView,
             responses={409: {"description": "Reference exists"}})
async def expect_receipt(body: ReceiptInput, uow: UnitOfWork, by: Supervisor):
    """Receive scans book units only against an expected receipt (or transfer); recorded as the caller's."""
    receipt = await admin.expect_receipt(uow, body.reference, body.node,
                                         [(line.sku, line.quantity) for line in body.lines], by.subject)
    return _receipt_view(receipt)


@router.post("/transfers", status_code=status.HTTP_201_CREATED, response_model=ReceiptView,
             responses={409: {"description": "Not enough in a bin, same node, or the reference exists"}})
async def dispatch_transfer(body: TransferInput, uow: UnitOfWork, by: Supervisor):
    """Ships units from bins at one node to another: in_transit until received there against `reference`."""
    receipt = await transfers.dispatch_transfer(
        uow, body.reference, body.from_node, body.to_node,
        [(line.sku, line.from_location, line.quantity) for line in body.lines], by.subject)
    return _receipt_view(receipt)


@router.get("/receipts/{reference}", response_model=ReceiptView, dependencies=[caller(*READERS)])
async def get_receipt(reference: str, uow: UnitOfWork):
    receipt = (await uow.warehouse.receipts([reference], lock=False)).get(reference)
    if receipt is None:
        raise NotFound(f"receipt {reference} not found")
    return _receipt_view(receipt)


@router.post("/scans", response_model=ScanOutcome,
             responses={403: {"description": "A scanner's scan at another node than its token's (reason node)"},
                        422: {"description": "Malformed, or not applicable: then queued as a scan exception"}})
async def post_scan(scan: Scan, request: Request, uow: UnitOfWork,
                    by: Annotated[Principal, caller(DEVICE, WAREHOUSE_OPERATOR, SUPERVISOR, rate_limited=True)]):
    """The operator recorded is the caller (the token's subject), whatever `operator_id` says. A receive without
    the reference of an expected receipt or transfer books nothing: it waits in the exception queue for a
    supervisor's approval, as a count variance beyond the threshold does."""
    result = await scanning.take_scan_by(uow, scan, by, request.app.state.runtime.settings.count_auto_adjust_units)
    if result.outcome == "refused":
        return JSONResponse(status_code=422, content={"scan_id": result.scan_id, "outcome": "refused", "detail": [
            {"loc": ["body", REFUSED_FIELD.get(result.reason, "scan")], "msg": result.message, "type": result.reason}]})
    return ScanOutcome(scan_id=result.scan_id, outcome=result.outcome)


@router.get("/stock", dependencies=[caller(*READERS)])
async def get_stock(uow: UnitOfWork, sku: str | None = None, node: str | None = None,
                    location: str | None = None, stock_status: Annotated[str | None, Query(alias="status")] = None,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[StockLine]:
    """Units by SKU, node, location, status and lot."""
    return await uow.warehouse.stock(sku=sku, node=node, location=location, status=stock_status, limit=limit)


@router.get("/movements", dependencies=[caller(*READERS)])
async def get_movements(sku: str, uow: UnitOfWork, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        before_id: Annotated[int | None, Query(ge=1, le=INT8_MAX)] = None) -> list[MovementView]:
    """A SKU's movement history, newest first (page with before_id)."""
    return await uow.warehouse.movements_of(sku, limit, before_id)


@router.get("/scan-exceptions", dependencies=[caller(*READERS)])
async def list_scan_exceptions(uow: UnitOfWork, open_only: Annotated[bool, Query(alias="open")] = True,
                               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[ScanException]:
    return await uow.warehouse.scan_exceptions(open_only=open_only, limit=limit)


@router.post("/scan-exceptions/{scan_id}/resolve", responses={404: {"description": "No open exception for this scan"}})
async def resolve_scan_exception(scan_id: str, body: Resolution, uow: UnitOfWork, by: Supervisor
                                 ) -> ResolvedException:
    """Closes the exception, booking nothing (a receive that matched no receipt is thereby rejected)."""
    await scanning.resolve_scan_exception(uow, scan_id, by.subject, body.resolution)
    return ResolvedException(scan_id=scan_id, status="resolved")


@router.post("/scan-exceptions/{scan_id}/approve",
             responses={403: {"description": "The caller scanned it (reason segregation_of_duties)"},
                        404: {"description": "No open exception for this scan"},
                        409: {"description": "Not a receive that matched no expected receipt, or its location "
                                             "is gone"}})
async def approve_scan_exception(scan_id: str, body: Resolution, uow: UnitOfWork, by: Supervisor
                                 ) -> ResolvedException:
    """Books the units of a receive that matched no expected receipt (reasons no_receipt, unknown_receipt,
    unexpected_sku, over_receipt) onto the dock; a supervisor other than the scanner approves."""
    await scanning.approve_scan_exception(uow, scan_id, by.subject, body.resolution)
    return ResolvedException(scan_id=scan_id, status="approved")


class CountTaskInput(Document):
    model_config = ConfigDict(extra="forbid")

    node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    location: str | None = Field(default=None, max_length=64, description="Count this location (every SKU)")
    sku: str | None = Field(default=None, max_length=64, description="Count this SKU (everywhere at the node)")


@router.post("/count-tasks", status_code=status.HTTP_201_CREATED)
async def create_count_task(body: CountTaskInput, uow: UnitOfWork, by: Supervisor) -> CountTaskView:
    """Count scans name the task as `reference`; one for a SKU at a location finishes it, others are closed."""
    task = await counting.create_count_task(uow, body.node, body.location, body.sku, by.subject)
    return CountTaskView(id=task.id, node=task.node, location=task.location, sku=task.sku, status=task.status)


@router.get("/count-tasks", dependencies=[caller(*READERS)])
async def list_count_tasks(uow: UnitOfWork, node: str | None = None,
                           task_status: Annotated[str | None, Query(alias="status")] = "open",
                           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CountTaskLine]:
    return await uow.warehouse.count_task_list(node=node, status=task_status, limit=limit)


@router.post("/count-tasks/{task_id}/close", dependencies=[caller(SUPERVISOR)],
             responses={404: {"description": "No such task"}, 409: {"description": "Not open"}})
async def close_count_task(task_id: str, uow: UnitOfWork) -> ClosedCountTask:
    await counting.close_count_task(uow, task_id)
    return ClosedCountTask(task_id=task_id, status="done")


@router.get("/count-variances", dependencies=[caller(*READERS)])
async def list_count_variances(uow: UnitOfWork, open_only: Annotated[bool, Query(alias="open")] = True,
                               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CountVarianceView]:
    """Counts that differ from the books beyond the automatic threshold, waiting for a supervisor."""
    return await uow.warehouse.count_variances(open_only=open_only, limit=limit)


@router.post("/count-variances/{scan_id}/{decision}",
             responses={403: {"description": "The caller counted it (reason segregation_of_duties)"},
                        404: {"description": "No undecided variance"}, 409: {"description": "Stock moved"}})
async def decide_count_variance(scan_id: str, decision: Literal["approve", "reject"], uow: UnitOfWork,
                                by: Supervisor) -> DecidedVariance:
    """Approve adjusts the books by the variance (and publishes the stock change); reject leaves them. The
    counter may not decide their own count."""
    await counting.decide_count_variance(uow, scan_id, by.subject, decision == "approve")
    return DecidedVariance(scan_id=scan_id, decision="approved" if decision == "approve" else "rejected")


@router.get("/pick-tasks", responses={403: {"description": "A scanner asking for another node (reason node)"}})
async def list_pick_tasks(uow: UnitOfWork, by: Annotated[Principal, caller(*READERS, DEVICE)],
                          node: str | None = None, order_id: str | None = None,
                          task_status: Annotated[str | None, Query(alias="status")] = "open",
                          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[PickTaskView]:
    """Pick tasks (one per order line and node, made from allocation results), oldest first. A scanner sees its
    own node's only."""
    return await uow.warehouse.task_list(node=node_filter(by, node), order_id=order_id, status=task_status,
                                         limit=limit)


@router.get("/waves", dependencies=[caller(*READERS)])
async def list_waves(uow: UnitOfWork, node: str | None = None,
                     wave_status: Annotated[str | None, Query(alias="status")] = "planned",
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[WaveView]:
    """Waves by carrier cut-off: planned ones collect tasks, released ones are for the pickers."""
    return await uow.warehouse.wave_list(node=node, status=wave_status, limit=limit)


@router.post("/waves/{wave_id}/release",
             responses={404: {"description": "No such wave"}, 409: {"description": "Released already"}})
async def release_wave(wave_id: str, uow: UnitOfWork, by: Supervisor) -> ReleasedWave:
    await tasks.release_wave(uow, wave_id, by.subject)
    return ReleasedWave(wave_id=wave_id, status="released")


class ShortPickInput(Document):
    model_config = ConfigDict(extra="forbid")

    location: str = Field(min_length=1, max_length=64, description="The bin that came up short")
    found: int = Field(ge=0, le=INT4_MAX, description="Units actually in the bin")


@router.post("/pick-tasks/{task_id}/short",
             responses={202: {"description": "More missing than may be written off at once: waits for a "
                                             "supervisor other than the reporter", "model": ShortPickReported},
                        403: {"description": "A scanner of another node than the task's (reason node)"},
                        409: {"description": "Nothing is missing there, or a short pick of the bin waits already"}})
async def short_pick(task_id: str, body: ShortPickInput, uow: UnitOfWork, request: Request, response: Response,
                     by: Annotated[Principal, caller(WAREHOUSE_OPERATOR, SUPERVISOR, DEVICE, rate_limited=True)]
                     ) -> ShortPickReported:
    """The bin holds fewer units than the books: up to `short_pick_approval_units` missing they are written off
    at once and allocation re-sources the line; beyond, the write-off waits for a supervisor's approval."""
    outcome = await tasks.report_short_pick(uow, task_id, body.location, body.found, by,
                                            request.app.state.runtime.settings.short_pick_approval_units)
    if outcome.waiting:
        response.status_code = status.HTTP_202_ACCEPTED
    return ShortPickReported(task_id=task_id, short=outcome.short, short_pick_id=outcome.waiting)


@router.get("/short-picks", dependencies=[caller(*READERS)])
async def list_short_picks(uow: UnitOfWork, open_only: Annotated[bool, Query(alias="open")] = True,
                           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[ShortPickView]:
    """Short picks beyond the automatic write-off, newest first."""
    return await uow.warehouse.short_pick_list(open_only=open_only, limit=limit)


@router.post("/short-picks/{short_pick_id}/{decision}",
             responses={403: {"description": "The caller reported it (reason segregation_of_duties)"},
                        404: {"description": "No undecided short pick"}, 409: {"description": "Stock moved"}})
async def decide_short_pick(short_pick_id: str, decision: Literal["approve", "reject"], uow: UnitOfWork,
                            by: Supervisor) -> DecidedShortPick:
    """Approve writes the missing units off (and allocation re-sources the line); reject leaves the books."""
    short = await tasks.decide_short_pick(uow, short_pick_id, by.subject, decision == "approve")
    return DecidedShortPick(short_pick_id=short_pick_id, decision="approved" if decision == "approve" else "rejected",
                            short=short)


@router.post("/orders/{order_id}/delivery",
             responses={403: {"description": "A carrier client confirming another carrier's parcels (reason "
                                             "carrier)"}, 409: {"description": "The order is not shipped"}})
async def confirm_delivery(order_id: str, uow: UnitOfWork,
                           by: Annotated[Principal, caller(CARRIER, SUPERVISOR, rate_limited=True)]) -> DeliveredOrder:
    """The carrier's delivery confirmation (its client, or a supervisor): the order becomes delivered."""
    await progress.confirm_delivery(uow, order_id, by)
    return DeliveredOrder(order_id=order_id, stage="delivered")


@router.get("/reconciliation", dependencies=[caller(SUPERVISOR, AUDITOR)])
async def get_reconciliation(uow: UnitOfWork) -> Reconciliation:
    """Balances against the sum of the movement ledger; `drift` lists every place where they differ."""
    drift = await uow.warehouse.ledger_drift()
    return Reconciliation(ok=not drift, drift=drift)


def _receipt_view(receipt: ExpectedReceipt) -> ReceiptView:
    return ReceiptView(reference=receipt.reference, node=receipt.node, transfer_from=receipt.transfer_from,
                       is_return=receipt.is_return, conditions=receipt.conditions,
                       expected=receipt.expected, received=receipt.received, damaged=receipt.damaged,
                       discrepancies=receipt.discrepancies(), created_by=receipt.created_by)
