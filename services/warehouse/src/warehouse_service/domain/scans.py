"""What a scan does to stock, or why it cannot be applied. Plain Python: no framework, no I/O.

A scan is checked against the layout, the open receipts and the balances before anything moves: one that
cannot be applied is refused with a reason for the exception queue, never applied in part.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from warehouse_service.domain.catalog import SkuRules, is_expired, require_receivable
from warehouse_service.domain.layout import Location, LocationKind
from warehouse_service.domain.ledger import Balances, InsufficientStock, Movement, Place, Reason, StockStatus
from warehouse_service.domain.recovery import VendorReturn
from warehouse_service.domain.refusals import ScanRefused
from warehouse_service.domain.tasks import CountTask, PickTask, pick_order
from warehouse_service.domain.waves import WaveStatus, require_released

DAMAGED_CONDITIONS = frozenset({"damaged", "missing_parts", "empty_box"})
IN_TRANSIT = "in-transit"  # where units between nodes are booked, at their destination node
# Why a receive scan matched no expected receipt: such a scan waits in the exception queue, where a supervisor
# other than the scanner may approve it (the units are booked) or resolve it (nothing is booked).
UNEXPECTED_RECEIPTS = frozenset({"no_receipt", "unknown_receipt", "unexpected_sku", "over_receipt"})


@dataclass(frozen=True)
class ScanCommand:
    scan_id: str
    device_id: str
    operator_id: str | None
    node: str
    scanned_at: datetime
    kind: str
    sku: str
    quantity: int
    location: str
    to_location: str | None = None
    reference: str | None = None
    condition: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    shipping_cost: Decimal | None = None
    currency: str | None = None

    @property
    def actor(self) -> str:
        return self.operator_id or f"device:{self.device_id}"


@dataclass(frozen=True)
class InboundTerms:
    """What an advance ship notice says of a SKU it announces: its purchase order line's unit cost, and the lot
    and expiry when the vendor gave one for all its units."""

    unit_cost: Decimal
    lot: str | None = None
    expiry: date | None = None


@dataclass
class ExpectedReceipt:
    """A purchase order or advance shipping notice: what a node expects to receive, per SKU."""

    reference: str
    node: str
    expected: dict[str, int]
    received: dict[str, int] = field(default_factory=dict)
    damaged: dict[str, int] = field(default_factory=dict)
    transfer_from: str | None = None  # a transfer from this node: the units come out of in_transit
    is_return: bool = False  # a return authorization (RMA): units arrive with their condition
    conditions: dict[str, dict[str, int]] = field(default_factory=dict)  # returns: sku -> condition -> units
    created_by: str | None = None  # the supervisor who expects it; None for an RMA of the returns service
    expected_date: date | None = None  # of an advance ship notice or a transfer
    # An advance ship notice (the reference is its id): what its receipts are booked against, announced as
    # GoodsReceived valued at the line's cost
    po_id: str | None = None
    currency: str | None = None
    terms: dict[str, InboundTerms] = field(default_factory=dict)

    @property
    def fully_received(self) -> bool:
        return all(self.received.get(sku, 0) >= units for sku, units in self.expected.items())

    def with_announced_lot(self, scan: ScanCommand) -> ScanCommand:
        """A receive scan without a lot or expiry takes the ones the advance ship notice gave for its SKU."""
        terms = self.terms.get(scan.sku)
        if terms is None:
            return scan
        return replace(scan, lot=scan.lot or terms.lot, expiry=scan.expiry or terms.expiry)

    def note_condition(self, sku: str, condition: str, quantity: int) -> None:
        by_condition = self.conditions.setdefault(sku, {})
        by_condition[condition] = by_condition.get(condition, 0) + quantity

    def receive(self, sku: str, quantity: int, damaged: bool) -> None:
        if sku not in self.expected:
            raise ScanRefused("unexpected_sku", f"{sku} is not expected on receipt {self.reference}")
        already = self.received.get(sku, 0)
        if already + quantity > self.expected[sku]:
            raise ScanRefused("over_receipt", f"receipt {self.reference} expects {self.expected[sku]} of {sku}, "
                                              f"{already} received, {quantity} more scanned")
        self.received[sku] = already + quantity
        if damaged:
            self.damaged[sku] = self.damaged.get(sku, 0) + quantity

    def discrepancies(self) -> dict[str, dict[str, int]]:
        """Per SKU: short (expected but not received) and damaged units."""
        report = {}
        for sku, expected in self.expected.items():
            short, damaged = expected - self.received.get(sku, 0), self.damaged.get(sku, 0)
            if short or damaged:
                report[sku] = {"short": short, "damaged": damaged}
        return report


@dataclass(frozen=True)
class CountVariance:
    """A count that differs from the books by more than may be adjusted without a supervisor."""

    scan_id: str
    sku: str
    place: Place
    expected: int
    counted: int
    counted_by: str

    @property
    def variance(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class Count:
    """A count scan: what it found at a place against what the books held there when it was applied."""

    scan: ScanCommand
    place: Place
    expected: int


# What a count at a location of each kind counts.
COUNTED_STATUS = {LocationKind.storage: StockStatus.sellable,
                  LocationKind.receiving: StockStatus.received_pending_putaway,
                  LocationKind.quarantine: StockStatus.quarantined,
                  LocationKind.returns: StockStatus.return_pending_inspection}


@dataclass
class ScanContext:
    """What scans are checked against: the node's locations, open receipts and the balances (mutated)."""

    locations: Mapping[tuple[str, str], Location]
    receipts: Mapping[str, ExpectedReceipt]
    balances: Balances
    known_skus: set[str] | None = None  # None: any SKU may be received
    sku_rules: Mapping[str, SkuRules] = field(default_factory=dict)  # the catalog's, of the scans' SKUs
    count_auto_adjust_units: int = 0  # a count variance up to this many units is adjusted without approval
    variances: list[CountVariance] = field(default_factory=list)  # counts waiting for a supervisor
    counts: list[Count] = field(default_factory=list)  # every count scan, with or without a variance
    tasks: Mapping[str, PickTask] = field(default_factory=dict)  # pick tasks the scans name (mutated)
    wave_status: Mapping[str, WaveStatus] = field(default_factory=dict)  # of those tasks' waves
    inspections: list[ScanCommand] = field(default_factory=list)  # inspect scans: graded, nothing moved
    count_tasks: Mapping[str, CountTask] = field(default_factory=dict)  # count tasks the scans name (mutated)
    # return-to-vendor authorizations the pick, pack and ship scans name (mutated)
    vendor_returns: Mapping[str, VendorReturn] = field(default_factory=dict)


def apply_scan(scan: ScanCommand, context: ScanContext) -> list[Movement]:
    """Moves stock for the scan, or refuses it; nothing changes when refused. A count beyond the automatic
    threshold moves nothing and adds a CountVariance for approval instead."""
    if context.known_skus is not None and scan.sku not in context.known_skus:
        raise ScanRefused("unknown_sku", f"unknown SKU {scan.sku}")
    location = _location(context, scan.node, scan.location)
    if scan.shipping_cost is not None and scan.currency is None:
        raise ScanRefused("missing_currency", "a shipping_cost needs its currency")
    handler = _RTV_HANDLERS.get(scan.kind) if scan.reference in context.vendor_returns else _HANDLERS.get(scan.kind)
    if handler is None:
        raise ScanRefused("unsupported_kind", f"{scan.kind} scans are not handled yet")
    if scan.quantity <= 0 and scan.kind != "count":  # counting an empty bin is a count of 0
        raise ScanRefused("non_positive_quantity", f"a {scan.kind} scan needs a quantity above 0")
    try:
        movements = handler(scan, location, context)
    except ValueError as invalid:  # a movement the ledger cannot take, e.g. to the place it comes from
        raise ScanRefused("invalid_scan", str(invalid)) from None
    try:
        context.balances.apply_all(movements)
    except InsufficientStock as short:
        raise ScanRefused("quantity_above_stock", str(short)) from None
    return movements


def _receive(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    """Books units against an expected receipt or transfer only: one that matches none creates stock from
    nothing, so it waits in the exception queue until a supervisor other than the scanner approves it."""
    _require_kind(location, LocationKind.receiving, scan.kind)
    receipt = context.receipts.get(scan.reference or "")
    if receipt is not None and receipt.node == scan.node:
        scan = receipt.with_announced_lot(scan)
    # Before the receipt is matched: a supervisor approving an unexpected receipt books it as scanned.
    require_receivable(context.sku_rules.get(scan.sku), scan.lot, scan.serial, scan.expiry, scan.scanned_at.date())
    if scan.reference is None:
        raise ScanRefused("no_receipt", "a receive scan needs the reference of an expected receipt or transfer; "
                                        "without one the units wait for a supervisor's approval")
    if receipt is None or receipt.node != scan.node:
        raise ScanRefused("unknown_receipt", f"no open receipt {scan.reference} at {scan.node}")
    source = _place(scan, IN_TRANSIT, StockStatus.in_transit) if receipt.transfer_from else None
    if source is not None:
        _require_held(context, scan, source)
    receipt.receive(scan.sku, scan.quantity, scan.condition in DAMAGED_CONDITIONS)
    return [_movement(scan, source, _received_place(scan, location), Reason.transfer_in if source else Reason.receipt)]


def approved_receipt(scan: ScanCommand, locations: Mapping[tuple[str, str], Location], approver: str,
                     at: datetime) -> Movement:
    """A receive scan refused for matching no expected receipt (UNEXPECTED_RECEIPTS), booked once a supervisor
    approved it: the units enter the books on the dock, outside any receipt, recorded as the approver's."""
    location = _location_in(locations, scan.node, scan.location)
    _require_kind(location, LocationKind.receiving, scan.kind)
    return Movement(scan.sku, scan.quantity, None, _received_place(scan, location), Reason.receipt, scan.reference,
                    approver, scan.scan_id, at)


def _received_place(scan: ScanCommand, location: Location) -> Place:
    status = StockStatus.damaged if scan.condition in DAMAGED_CONDITIONS else StockStatus.received_pending_putaway
    return _place(scan, location.code, status)


def _return_receive(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    receipt = _return_authorization(scan, location, context)
    receipt.receive(scan.sku, scan.quantity, scan.condition in DAMAGED_CONDITIONS)
    receipt.note_condition(scan.sku, scan.condition, scan.quantity)
    return [_movement(scan, None, _place(scan, location.code, StockStatus.return_pending_inspection),
                      Reason.return_receipt)]


def _inspect(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    """Grades returned units waiting for inspection; the returns service decides what becomes of them."""
    _return_authorization(scan, location, context)
    _require_held(context, scan, _place(scan, location.code, StockStatus.return_pending_inspection))
    context.inspections.append(scan)
    return []


def _return_authorization(scan: ScanCommand, location: Location, context: ScanContext) -> ExpectedReceipt:
    """Checks a returns scan (at a returns location, with a condition) and gives its RMA."""
    _require_kind(location, LocationKind.returns, scan.kind)
    receipt = context.receipts.get(scan.reference or "")
    if receipt is None or not receipt.is_return or receipt.node != scan.node:
        raise ScanRefused("unknown_rma", f"no return authorization {scan.reference} at {scan.node}")
    if scan.condition is None:
        raise ScanRefused("missing_condition", f"a {scan.kind} scan needs the units' condition")
    return receipt


def _putaway(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    if location.kind is not LocationKind.returns:  # restocked returns are put away from the returns area
        _require_kind(location, LocationKind.receiving, scan.kind)
    target = _location(context, scan.node, _required_to_location(scan))
    _require_kind(target, LocationKind.storage, "putaway target")
    return [_movement(scan, _place(scan, location.code, StockStatus.received_pending_putaway),
                      _place(scan, target.code, StockStatus.sellable), Reason.putaway)]


def _move(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    _require_kind(location, LocationKind.storage, scan.kind)
    target = _location(context, scan.node, _required_to_location(scan))
    _require_kind(target, LocationKind.storage, "move target")
    if target == location:
        raise ScanRefused("same_location", f"a move needs another location than {location.code}")
    return [_movement(scan, _place(scan, location.code, StockStatus.sellable),
                      _place(scan, target.code, StockStatus.sellable), Reason.move)]


def _count(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    status = COUNTED_STATUS.get(location.kind)
    if status is None:
        raise ScanRefused("wrong_location", f"stock at {location.kind} location {location.code} is not counted")
    if scan.reference is not None:  # a count for a count task; a count without one is welcome too
        task = context.count_tasks.get(scan.reference)
        if task is None:
            raise ScanRefused("unknown_task", f"no count task {scan.reference}")
        task.record(scan.node, location.code, scan.sku)
    place = _place(scan, location.code, status)
    expected = context.balances.held(scan.sku, place)
    context.counts.append(Count(scan, place, expected))
    variance = scan.quantity - expected
    if not variance:
        return []
    if abs(variance) > context.count_auto_adjust_units:
        context.variances.append(CountVariance(scan.scan_id, scan.sku, place, expected, scan.quantity, scan.actor))
        return []
    return [count_adjustment(scan.sku, place, variance, scan.reference, scan.actor, scan.scan_id, scan.scanned_at)]


def count_adjustment(sku: str, place: Place, variance: int, reference: str | None, actor: str,
                     scan_id: str | None, at: datetime) -> Movement:
    """Found units enter the books at the place; missing ones leave them."""
    source, target = (None, place) if variance > 0 else (place, None)
    return Movement(sku, abs(variance), source, target, Reason.count_adjustment, reference, actor, scan_id, at)


def _pick(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    _require_kind(location, LocationKind.storage, scan.kind)
    task = _task(scan, context)
    require_released(context.wave_status.get(task.wave_id), task.id)
    packing = _target_location(context, scan, LocationKind.packing)
    bin_place = _place(scan, location.code, StockStatus.sellable)
    _require_first_expiry(scan, context)
    _require_held(context, scan, bin_place)
    task.pick(scan.quantity)
    return [_movement(scan, bin_place, _place(scan, packing.code, StockStatus.picked), Reason.pick)]


def _require_first_expiry(scan: ScanCommand, context: ScanContext) -> None:
    """Expired units are never picked; an expiry-controlled SKU's earliest-expiring units go first."""
    today = scan.scanned_at.date()
    if is_expired(scan.expiry, today):
        raise ScanRefused("expired", f"the units expired on {scan.expiry}: they are not picked")
    rules = context.sku_rules.get(scan.sku)
    if rules is None or not rules.expiry_controlled:
        return
    if scan.expiry is None:
        raise ScanRefused("missing_expiry", f"{scan.sku} is expiry-controlled: the pick scan needs the expiry")
    first = next(iter(pick_order(context.balances.places(scan.sku, scan.node, StockStatus.sellable), True, today)),
                 None)
    if first is not None and first.expiry is not None and first.expiry < scan.expiry:
        raise ScanRefused("not_first_expiry", f"pick the units expiring first: lot {first.lot or '-'} at "
                                              f"{first.location} expires on {first.expiry}, before {scan.expiry}")


def _pack(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    _require_kind(location, LocationKind.packing, scan.kind)
    task = _task(scan, context)
    shipping = _target_location(context, scan, LocationKind.shipping)
    source = _place(scan, location.code, StockStatus.picked)
    _require_held(context, scan, source)
    task.pack(scan.quantity)
    return [_movement(scan, source, _place(scan, shipping.code, StockStatus.packed), Reason.pack)]


def _ship(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    _require_kind(location, LocationKind.shipping, scan.kind)
    if not scan.tracking_number:
        raise ScanRefused("missing_tracking_number", "a ship scan needs the parcel's tracking_number")
    task = _task(scan, context)
    source = _place(scan, location.code, StockStatus.packed)
    _require_held(context, scan, source)
    task.ship(scan.quantity)
    return [_movement(scan, source, None, Reason.ship)]


def _rtv_pick(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    """Vendor-return units are picked wherever they wait (returns area, quarantine) onto a packing location."""
    packing = _target_location(context, scan, LocationKind.packing)
    source = _place(scan, location.code, StockStatus.vendor_return)
    _require_held(context, scan, source)
    context.vendor_returns[scan.reference].advance("pick", scan.node, scan.sku, scan.quantity)
    return [_movement(scan, source, _place(scan, packing.code, StockStatus.vendor_return), Reason.rtv_pick)]


def _rtv_pack(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    _require_kind(location, LocationKind.packing, scan.kind)
    shipping = _target_location(context, scan, LocationKind.shipping)
    source = _place(scan, location.code, StockStatus.vendor_return)
    _require_held(context, scan, source)
    context.vendor_returns[scan.reference].advance("pack", scan.node, scan.sku, scan.quantity)
    return [_movement(scan, source, _place(scan, shipping.code, StockStatus.vendor_return), Reason.rtv_pack)]


def _rtv_ship(scan: ScanCommand, location: Location, context: ScanContext) -> list[Movement]:
    _require_kind(location, LocationKind.shipping, scan.kind)
    source = _place(scan, location.code, StockStatus.vendor_return)
    _require_held(context, scan, source)
    context.vendor_returns[scan.reference].advance("ship", scan.node, scan.sku, scan.quantity)
    return [_movement(scan, source, None, Reason.rtv_ship)]


def _task(scan: ScanCommand, context: ScanContext) -> PickTask:
    task = context.tasks.get(scan.reference or "")
    if task is None:
        raise ScanRefused("unknown_task", f"no pick task or return-to-vendor authorization {scan.reference}")
    if (task.node, task.sku) != (scan.node, scan.sku):
        raise ScanRefused("wrong_item", f"pick task {task.id} is for {task.sku} at {task.node}")
    return task


def _require_held(context: ScanContext, scan: ScanCommand, place: Place) -> None:
    """Checked before a task counts the units, so a refused scan leaves the task as it was."""
    held = context.balances.held(scan.sku, place)
    if held < scan.quantity:
        raise ScanRefused("quantity_above_stock", f"{place.location} holds {held} {place.status} units of "
                                                  f"{scan.sku}, {scan.quantity} scanned: wrong location?")


def _target_location(context: ScanContext, scan: ScanCommand, kind: LocationKind) -> Location:
    """The scan's to_location, else the node's first location of that kind."""
    if scan.to_location:
        target = _location(context, scan.node, scan.to_location)
        _require_kind(target, kind, f"{scan.kind} target")
        return target
    candidates = sorted(code for (node, code), loc in context.locations.items()
                        if node == scan.node and loc.kind is kind)
    if not candidates:
        raise ScanRefused(f"no_{kind}_location", f"{scan.node} has no {kind} location for {scan.kind}ed units")
    return context.locations[scan.node, candidates[0]]


def fulfilled_by(movements: list[Movement], tasks: Mapping[str, PickTask]) -> dict[tuple[str, str], list]:
    """Per SKU×node, the (order id, line id, units) that pick movements took for their tasks."""
    fulfilled: dict[tuple[str, str], list] = {}
    for m in movements:
        if m.reason is Reason.pick:
            task = tasks[m.reference]
            fulfilled.setdefault((m.sku, task.node), []).append((task.order_id, task.line_id, m.quantity))
    return fulfilled


_HANDLERS = {"receive": _receive, "putaway": _putaway, "move": _move, "count": _count, "pick": _pick,
             "pack": _pack, "ship": _ship, "return_receive": _return_receive, "inspect": _inspect}
# Pick, pack and ship scans whose reference is a return-to-vendor authorization move vendor-return units.
_RTV_HANDLERS = {"pick": _rtv_pick, "pack": _rtv_pack, "ship": _rtv_ship}
TASK_SCANS = frozenset({"pick", "pack", "ship"})  # scans whose reference is a pick task or return-to-vendor


def _location(context: ScanContext, node: str, code: str) -> Location:
    return _location_in(context.locations, node, code)


def _location_in(locations: Mapping[tuple[str, str], Location], node: str, code: str) -> Location:
    location = locations.get((node, code))
    if location is None:
        raise ScanRefused("unknown_location", f"no location {code} at {node}")
    return location


def _require_kind(location: Location, kind: LocationKind, what: str) -> None:
    if location.kind is not kind:
        raise ScanRefused("wrong_location", f"{what} needs a {kind} location; {location.code} is {location.kind}")


def _required_to_location(scan: ScanCommand) -> str:
    if not scan.to_location:
        raise ScanRefused("missing_to_location", f"a {scan.kind} scan needs to_location")
    return scan.to_location


def _place(scan: ScanCommand, location: str, status: StockStatus) -> Place:
    """Where the scanned units are: the scan's node and the lot, serial and expiry it names."""
    return Place(scan.node, location, status, scan.lot, scan.serial, scan.expiry)


def _movement(scan: ScanCommand, source: Place | None, target: Place | None, reason: Reason) -> Movement:
    return Movement(scan.sku, scan.quantity, source, target, reason, scan.reference, scan.actor, scan.scan_id,
                    scan.scanned_at)
