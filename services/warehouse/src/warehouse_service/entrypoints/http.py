"""HTTP API: scans for handhelds that do not speak Kafka (scanners, operators, supervisors), receipts, transfers,
counts and approvals for supervisors, the exits of returned units from the recovery statuses (refurbishment, QA
decisions, return to vendor, liquidation, scrap, write-offs beyond the value threshold) for supervisors and
inspectors, the layout for admins, read models for warehouse staff and auditors (with the catalog's handling
rules per SKU), parcels' carrier labels for staff and scanners, and delivery confirmations for carriers. Every
route takes the issuer's bearer token and names the roles it needs (ecomops_common.access); what a route records
as done by someone is the token's subject, never a request field. A scanner is bound to its token's node, a
carrier client to the parcels it took."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ecomops_common.access import caller
from ecomops_common.auth import (
    ADMIN,
    AUDITOR,
    CARRIER,
    CUSTOMER_SERVICE,
    DEVICE,
    INSPECTOR,
    SUPERVISOR,
    WAREHOUSE_OPERATOR,
    Principal,
)
from ecomops_common.contracts.types import INT4_MAX, INT8_MAX, MAX_LINE_QUANTITY, CurrencyCode, Document, Money
from ecomops_common.contracts.warehouse import DisposalRecord, Scan
from ecomops_common.errors import NotFound
from ecomops_common.http import entered_unit_of_work
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import StockStatus
from warehouse_service.domain.recovery import GradedVariant, VendorReturn
from warehouse_service.domain.scans import ExpectedReceipt
from warehouse_service.service_layer import admin, counting, progress, recovery, scanning, tasks, transfers
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
                 "over_pack": "quantity", "over_ship": "quantity", "missing_tracking_number": "tracking_number",
                 "missing_currency": "currency", "bundle_sku": "sku", "missing_lot": "lot", "missing_serial": "serial",
                 "missing_expiry": "expiry", "expired": "expiry", "not_first_expiry": "expiry"}


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
    expected_date: date | None = Field(default=None, description="When the units are due at to_node (not before "
                                                                 "today); default: WAREHOUSE_TRANSFER_DAYS from now")


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
    expected_date: date | None = Field(default=None, description="Of an advance ship notice or a transfer")
    po_id: str | None = Field(default=None, description="For an advance ship notice (the reference): its purchase "
                                                        "order; receipts are announced as GoodsReceived")


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
    suggested_lot: str | None = Field(description="With suggested_expiry: for an expiry-controlled SKU the lot "
                                                  "expiring first (never an expired one)")
    suggested_expiry: date | None
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
async def dispatch_transfer(body: TransferInput, uow: UnitOfWork, request: Request, by: Supervisor):
    """Ships units from bins at one node to another: in_transit until received there against `reference`."""
    receipt = await transfers.dispatch_transfer(
        uow, body.reference, body.from_node, body.to_node,
        [(line.sku, line.from_location, line.quantity) for line in body.lines], by.subject,
        expected_date=body.expected_date, transfer_days=request.app.state.runtime.settings.transfer_days)
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


class ParcelView(BaseModel):
    parcel_id: str = Field(description="<order_id>@<node>")
    order_id: str
    node: str
    lines: dict[str, int] = Field(description="SKU -> units packed")
    packed_at: datetime
    carrier: str | None = Field(description="The label's; none until the shipping service bought it")
    service: str | None
    tracking_number: str | None
    label_url: str | None
    cost: Decimal | None
    currency: str | None
    estimated_delivery: date | None
    label_purchased_at: datetime | None


@router.get("/labels/{order_id}", responses={403: {"description": "A scanner asking for another node (reason "
                                                                  "node)"},
                                             404: {"description": "No parcel of the order was packed (at the "
                                                                  "scanner's node)"}})
async def get_labels(order_id: str, uow: UnitOfWork,
                     by: Annotated[Principal, caller(SUPERVISOR, WAREHOUSE_OPERATOR, CUSTOMER_SERVICE, DEVICE)],
                     node: str | None = None) -> list[ParcelView]:
    """The order's packed parcels and the carrier labels bought for them; a ship scan without tracking number,
    carrier or cost takes its parcel's label's. A scanner sees its own node's parcels only."""
    parcels = await uow.warehouse.parcels_of(order_id, node_filter(by, node))
    if not parcels:
        raise NotFound(f"no parcel of order {order_id} was packed")
    return parcels


class SkuRulesView(BaseModel):
    sku: str
    revision: int = Field(description="The catalog's revision applied")
    lot_controlled: bool
    serial_controlled: bool
    expiry_controlled: bool = Field(description="Receipts need an expiry; picks go first-expiry-first-out")
    shelf_life_days: int | None
    hazmat_class: str | None = Field(description="Scrapping units of a hazmat SKU needs a disposal record")
    barcodes: list[str] = Field(description="Scans may name the SKU by these")
    is_bundle: bool = Field(description="Stocked as its components: never received")


@router.get("/skus/{sku}", dependencies=[caller(*READERS)], responses={404: {"description": "Not announced by the "
                                                                                             "catalog"}})
async def get_sku_rules(sku: str, uow: UnitOfWork) -> SkuRulesView:
    """How the warehouse handles a SKU, as the catalog's SKU master last said."""
    rules = (await uow.warehouse.sku_rules([sku])).get(sku)
    if rules is None:
        raise NotFound(f"the catalog has not announced SKU {sku}")
    return SkuRulesView(**{**vars(rules), "barcodes": list(rules.barcodes)})


@router.get("/reconciliation", dependencies=[caller(SUPERVISOR, AUDITOR)])
async def get_reconciliation(uow: UnitOfWork) -> Reconciliation:
    """Balances against the sum of the movement ledger; `drift` lists every place where they differ."""
    drift = await uow.warehouse.ledger_drift()
    return Reconciliation(ok=not drift, drift=drift)


SKU = Field(min_length=1, max_length=64)
CODE = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LOCATION = Field(min_length=1, max_length=64)
QUANTITY = Field(gt=0, le=MAX_LINE_QUANTITY)
Recoverer = Annotated[Principal, caller(SUPERVISOR)]
QaDecider = Annotated[Principal, caller(SUPERVISOR, INSPECTOR)]


class GradedVariantInput(Document):
    model_config = ConfigDict(extra="forbid")

    base_sku: str = SKU
    grade: str = Field(min_length=1, max_length=16, description="e.g. A, B, open_box")
    list_price: Money = Field(ge=0)
    currency: CurrencyCode
    channels: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100, description="Channels that may sell it; empty: every channel")


class GradedVariantView(BaseModel):
    variant_sku: str
    base_sku: str
    grade: str
    list_price: Decimal
    currency: str
    channels: list[str]
    defined_by: str | None = None
    defined_at: datetime | None = None


class RefurbishmentInput(Document):
    model_config = ConfigDict(extra="forbid")

    node: str = CODE
    sku: str = SKU
    location: str = LOCATION
    quantity: int = QUANTITY
    outcome: Literal["sellable", "scrap"]
    variant_sku: str | None = Field(default=None, min_length=1, max_length=64,
                                    description="Sellable as this graded variant (PUT /v1/graded-variants first)")
    to_location: str | None = Field(default=None, min_length=1, max_length=64,
                                    description="The storage bin sellable units go to; default: where they are")
    disposal: DisposalRecord | None = Field(default=None, description="Required to scrap hazardous units")


class QaDecisionInput(Document):
    model_config = ConfigDict(extra="forbid")

    node: str = CODE
    sku: str = SKU
    location: str = LOCATION
    quantity: int = QUANTITY
    decision: Literal["sellable", "refurbish", "vendor_return", "scrap"]
    note: str | None = Field(default=None, max_length=2000)
    to_location: str | None = Field(default=None, min_length=1, max_length=64,
                                    description="Where released units go (sellable: a storage bin); default: where "
                                                "they are")
    disposal: DisposalRecord | None = Field(default=None, description="Required to scrap hazardous units")


class ScrapInput(Document):
    model_config = ConfigDict(extra="forbid")

    node: str = CODE
    sku: str = SKU
    location: str = LOCATION
    status: Literal["refurbish", "quarantined", "vendor_return", "liquidation", "damaged"]
    quantity: int = QUANTITY
    reason: str | None = Field(default=None, max_length=2000)
    disposal: DisposalRecord | None = Field(default=None, description="Required to scrap hazardous units")


class LiquidationLine(Document):
    sku: str = SKU
    location: str = LOCATION
    quantity: int = QUANTITY
    proceeds: Money = Field(ge=0, description="What the buyer pays for the line")


class LiquidationInput(Document):
    model_config = ConfigDict(extra="forbid")

    lot_id: str = Field(min_length=1, max_length=128)
    node: str = CODE
    buyer: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    lines: list[LiquidationLine] = Field(min_length=1, max_length=1000)


class VendorReturnLine(Document):
    sku: str = SKU
    quantity: int = QUANTITY


class VendorReturnInput(Document):
    model_config = ConfigDict(extra="forbid")

    rtv_id: str = Field(min_length=1, max_length=128)
    vendor_id: str = Field(min_length=1, max_length=128)
    node: str = CODE
    lines: list[VendorReturnLine] = Field(min_length=1, max_length=1000)
    claim_id: str | None = Field(default=None, min_length=1, max_length=128)


class VendorReturnLineView(BaseModel):
    sku: str
    quantity: int
    picked: int
    packed: int
    shipped: int


class VendorReturnView(BaseModel):
    rtv_id: str
    vendor_id: str
    node: str
    claim_id: str | None
    lines: list[VendorReturnLineView]
    created_by: str | None
    created_at: datetime | None


class RecoveryActionView(BaseModel):
    action_id: str
    action: str
    node: str
    sku: str
    quantity: int
    location: str
    from_status: str
    to_status: str | None = Field(description="None: the units left the books")
    to_location: str | None
    to_sku: str | None
    reference: str | None
    vendor_id: str | None
    buyer: str | None
    proceeds: Decimal | None
    currency: str | None
    disposal: dict[str, Any] | None
    note: str | None
    write_off_id: str | None
    requested_by: str
    decided_by: str
    at: datetime


class RecoveryOutcome(BaseModel):
    status: Literal["applied", "pending_approval", "rejected"]
    write_off_id: str | None = Field(default=None, description="The write-off waiting for (or given) approval")
    actions: list[RecoveryActionView] = Field(description="What was applied")


RECOVERY_RESPONSES = {202: {"description": "Worth more than the write-off threshold: waits for a supervisor other "
                                          "than the caller", "model": RecoveryOutcome},
                      409: {"description": "Not enough units in the source status and location (the shortfall)"},
                      422: {"description": "Unknown node, location or variant; a hazardous SKU scrapped without "
                                           "`disposal`"}}


class WriteOffView(BaseModel):
    id: str
    node: str
    action: str
    reference: str | None
    moves: list[dict[str, Any]]
    value: Decimal | None = Field(description="Units × unit cost; none when a unit cost is unknown")
    currency: str | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class WriteOffDecision(Document):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class WriteOffRejection(Document):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class UnitCostView(BaseModel):
    sku: str
    amount: Decimal
    currency: str
    at: datetime = Field(description="As of finance's UnitCostChanged")


class QaItemView(BaseModel):
    id: str = Field(description="<rma_id>/<sku>, the exception_id of its WarehouseExceptionChanged")
    node: str
    sku: str
    location: str
    rma_id: str
    remaining: int
    status: str
    opened_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None


def _threshold(request: Request) -> Decimal:
    return request.app.state.runtime.settings.write_off_approval_threshold


def _outcome(outcome: recovery.RecoveryOutcome, response: Response) -> RecoveryOutcome:
    if outcome.write_off_id and not outcome.actions:
        response.status_code = status.HTTP_202_ACCEPTED
        return RecoveryOutcome(status="pending_approval", write_off_id=outcome.write_off_id, actions=[])
    return RecoveryOutcome(status="applied", write_off_id=outcome.write_off_id, actions=outcome.actions)


def _disposal(record: DisposalRecord | None) -> dict[str, Any] | None:
    return record and record.model_dump()


@router.put("/graded-variants/{variant_sku}", responses={422: {"description": "The variant is its own base"}})
async def define_graded_variant(variant_sku: Annotated[str, Path(min_length=1, max_length=64)],
                                body: GradedVariantInput, uow: UnitOfWork,
                                by: Annotated[Principal, caller(ADMIN, SUPERVISOR)]) -> GradedVariantView:
    """A graded or open-box variant refurbished units of `base_sku` may become, with its own price and channels."""
    variant = GradedVariant(variant_sku, body.base_sku, body.grade, body.list_price, body.currency, body.channels)
    await recovery.define_graded_variant(uow, variant, by.subject)
    return GradedVariantView(**vars(variant), defined_by=by.subject)


@router.get("/graded-variants", dependencies=[caller(*READERS)])
async def list_graded_variants(uow: UnitOfWork, base_sku: str | None = None,
                               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[GradedVariantView]:
    return await uow.warehouse.graded_variant_list(base_sku=base_sku, limit=limit)


@router.post("/recovery/refurbishments", responses=RECOVERY_RESPONSES)
async def refurbish(body: RefurbishmentInput, uow: UnitOfWork, request: Request, response: Response,
                    by: Recoverer) -> RecoveryOutcome:
    """Refurbished units back to sellable (the same SKU, or the graded variant: they leave the base SKU), or
    scrapped from the bench (refurbish_failed, a write-off)."""
    return _outcome(await recovery.refurbish(
        uow, body.node, body.sku, body.location, body.quantity, body.outcome == "sellable", body.variant_sku,
        body.to_location, _disposal(body.disposal), by.subject, _threshold(request)), response)


@router.post("/recovery/qa-decisions", responses=RECOVERY_RESPONSES)
async def decide_qa(body: QaDecisionInput, uow: UnitOfWork, request: Request, response: Response,
                    by: QaDecider) -> RecoveryOutcome:
    """Quarantined units released to sellable, refurbish or vendor_return, or scrapped; the caller is the
    decision-maker recorded. Answers the QA queue."""
    return _outcome(await recovery.decide_qa(
        uow, body.node, body.sku, body.location, body.quantity, body.decision, body.note, body.to_location,
        _disposal(body.disposal), by.subject, _threshold(request)), response)


@router.post("/recovery/scraps", responses=RECOVERY_RESPONSES)
async def scrap(body: ScrapInput, uow: UnitOfWork, request: Request, response: Response,
                by: Recoverer) -> RecoveryOutcome:
    """Units of a recovery status off the books."""
    return _outcome(await recovery.scrap(
        uow, body.node, body.sku, body.location, StockStatus(body.status), body.quantity, body.reason,
        _disposal(body.disposal), by.subject, _threshold(request)), response)


@router.post("/recovery/liquidations", responses={**RECOVERY_RESPONSES,
                                                  409: {"description": "Not enough liquidation units, or the lot "
                                                                       "was sold already"}})
async def liquidate(body: LiquidationInput, uow: UnitOfWork, request: Request, response: Response,
                    by: Recoverer) -> RecoveryOutcome:
    """A lot sold through a secondary channel: the units leave `liquidation` for the proceeds."""
    return _outcome(await recovery.liquidate(
        uow, body.lot_id, body.node, body.buyer, body.currency,
        [(line.sku, line.location, line.quantity, line.proceeds) for line in body.lines], by.subject,
        _threshold(request)), response)


@router.get("/recovery/write-offs", dependencies=[caller(*READERS)])
async def list_write_offs(uow: UnitOfWork,
                          write_off_status: Annotated[Literal["pending_approval", "approved", "rejected"] | None,
                                                      Query(alias="status")] = None,
                          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[WriteOffView]:
    return await uow.warehouse.write_off_list(status=write_off_status, limit=limit)


@router.post("/recovery/write-offs/{write_off_id}/approve",
             responses={403: {"description": "The caller asked for it (reason segregation_of_duties)"},
                        404: {"description": "No write-off pending approval"},
                        409: {"description": "The units moved meanwhile"}})
async def approve_write_off(write_off_id: str, uow: UnitOfWork, by: Recoverer,
                            body: WriteOffDecision | None = None) -> RecoveryOutcome:
    """Applies the write-off, decided by the caller (a supervisor other than the requester)."""
    outcome = await recovery.decide_write_off(uow, write_off_id, by.subject, True, body and body.reason)
    return RecoveryOutcome(status="applied", write_off_id=write_off_id, actions=outcome.actions)


@router.post("/recovery/write-offs/{write_off_id}/reject",
             responses={403: {"description": "The caller asked for it (reason segregation_of_duties)"},
                        404: {"description": "No write-off pending approval"}})
async def reject_write_off(write_off_id: str, body: WriteOffRejection, uow: UnitOfWork,
                           by: Recoverer) -> RecoveryOutcome:
    await recovery.decide_write_off(uow, write_off_id, by.subject, False, body.reason)
    return RecoveryOutcome(status="rejected", write_off_id=write_off_id, actions=[])


@router.get("/recovery/actions", dependencies=[caller(*READERS)])
async def list_recovery_actions(uow: UnitOfWork, sku: str | None = None, node: str | None = None,
                                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[RecoveryActionView]:
    """The audit trail of units leaving recovery statuses: who requested, who decided, when, what."""
    return await uow.warehouse.recovery_actions(sku=sku, node=node, limit=limit)


@router.get("/recovery/unit-costs", dependencies=[caller(*READERS)])
async def list_unit_costs(uow: UnitOfWork, sku: str | None = None,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[UnitCostView]:
    """What write-offs are valued at: finance's latest unit cost per SKU."""
    return await uow.warehouse.unit_cost_list(sku=sku, limit=limit)


@router.get("/recovery/qa-queue", dependencies=[caller(*READERS, INSPECTOR)])
async def list_qa_queue(uow: UnitOfWork,
                        item_status: Annotated[Literal["open", "resolved"] | None, Query(alias="status")] = "open",
                        limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[QaItemView]:
    """Quarantined units waiting for a QA decision, oldest first."""
    return await uow.warehouse.qa_queue(status=item_status, limit=limit)


@router.post("/vendor-returns", status_code=status.HTTP_201_CREATED, response_model=VendorReturnView,
             responses={409: {"description": "The node holds fewer vendor_return units, or the id exists"},
                        422: {"description": "Unknown node"}})
async def authorize_vendor_return(body: VendorReturnInput, uow: UnitOfWork, by: Recoverer):
    """A return-to-vendor authorization: pick, pack and ship scans with reference = rtv_id move its
    vendor_return units to the vendor."""
    rtv = await recovery.authorize_vendor_return(uow, body.rtv_id, body.vendor_id, body.node,
                                                 [(line.sku, line.quantity) for line in body.lines],
                                                 body.claim_id, by.subject)
    return _vendor_return_view(rtv)


@router.get("/vendor-returns/{rtv_id}", response_model=VendorReturnView, dependencies=[caller(*READERS)])
async def get_vendor_return(rtv_id: str, uow: UnitOfWork):
    rtv = (await uow.warehouse.vendor_returns([rtv_id], lock=False)).get(rtv_id)
    if rtv is None:
        raise NotFound(f"no return-to-vendor authorization {rtv_id}")
    return _vendor_return_view(rtv)


def _vendor_return_view(rtv: VendorReturn) -> VendorReturnView:
    return VendorReturnView(rtv_id=rtv.rtv_id, vendor_id=rtv.vendor_id, node=rtv.node, claim_id=rtv.claim_id,
                            lines=[VendorReturnLineView(sku=sku, **vars(line)) for sku, line in rtv.lines.items()],
                            created_by=rtv.created_by, created_at=rtv.created_at)


def _receipt_view(receipt: ExpectedReceipt) -> ReceiptView:
    return ReceiptView(reference=receipt.reference, node=receipt.node, transfer_from=receipt.transfer_from,
                       is_return=receipt.is_return, conditions=receipt.conditions,
                       expected=receipt.expected, received=receipt.received, damaged=receipt.damaged,
                       discrepancies=receipt.discrepancies(), created_by=receipt.created_by,
                       expected_date=receipt.expected_date, po_id=receipt.po_id)
