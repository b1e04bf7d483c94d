"""A parcel and its label, in plain Python: bought exactly once, whatever the carrier answers or however often the
parcel is announced.

The parcel is stored pending first. Then a service is chosen and kept (the plan) before the carrier is asked for a
label with the parcel's idempotency key, so every later attempt asks the same carrier for the same service with the
same key, and the carrier answers with the label it sold the first time. A carrier call has three outcomes:
`bought` and `refused` (nothing sold: the parcel fails, and a supervisor's retry may choose again) are final;
`unknown` (a timeout, a 5xx, a dropped connection) may have bought the label, so it is asked again later, with
backoff, with the same key and plan. After `max_attempts` the parcel fails visibly until a supervisor retries it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from shipping_service.domain.rates import Choice, ParcelSpec


class ParcelKind(StrEnum):
    outbound = "outbound"  # an order's parcel from a node to the customer
    return_ = "return"  # an RMA's parcel from the customer back to a node


class ParcelStatus(StrEnum):
    pending = "pending"  # waiting for its label (again, after an unknown outcome)
    labelled = "labelled"
    failed = "failed"  # for a supervisor: refused by the carrier, no service, or too many unknown outcomes


class LabelOutcome(StrEnum):
    bought = "bought"
    refused = "refused"
    unknown = "unknown"


@dataclass(frozen=True)
class BoughtLabel:
    label_id: str
    tracking_number: str
    cost: Decimal
    currency: str
    label_url: str | None = None


@dataclass(frozen=True)
class LabelResult:
    outcome: LabelOutcome
    label: BoughtLabel | None = None
    code: str | None = None  # why refused or unknown, e.g. too_heavy, timeout
    message: str | None = None

    @property
    def error(self) -> str:
        return f"{self.code}: {self.message}" if self.message else str(self.code)


@dataclass(frozen=True)
class LabelRequest:
    idempotency_key: str
    carrier: str
    service: str
    weight_kg: float
    hazmat: bool
    reference: str
    ship_from: str
    is_return: bool


def return_parcel_id(rma_id: str) -> str:
    """One return parcel, so one return label, per RMA."""
    return f"return:{rma_id}"


@dataclass
class Parcel:
    parcel_id: str  # the idempotency key of its label: `<order_id>@<node>`, or `return:<rma_id>`
    kind: ParcelKind
    node: str
    lines: list[tuple[str, int]]  # (sku, units)
    created_at: datetime
    order_id: str | None = None
    rma_id: str | None = None
    channel: str | None = None  # whose carrier rules apply: the RMA's, or the order's once known
    status: ParcelStatus = ParcelStatus.pending
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    # The plan: kept from the first label call on, so every attempt asks for the same label.
    weight_kg: float | None = None
    hazmat: bool | None = None
    carrier: str | None = None
    service: str | None = None
    ship_date: date | None = None
    estimated_delivery: date | None = None
    promised_date: date | None = None
    meets_promise: bool | None = None
    # The label.
    label_id: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    purchased_at: datetime | None = None
    # Its journey.
    dispatched_at: datetime | None = None
    handed_over_at: datetime | None = None
    tracking_status: str | None = None
    delivered_at: datetime | None = None
    retried_by: str | None = None
    retried_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        return self.parcel_id

    @property
    def planned(self) -> bool:
        return self.carrier is not None

    def plan(self, spec: ParcelSpec, choice: Choice, promised: date | None) -> None:
        if self.planned:
            raise ValueError(f"parcel {self.parcel_id} has its plan already: its label may be bought under it")
        self.weight_kg, self.hazmat = spec.weight_kg, spec.hazmat
        self.carrier, self.service = choice.service.carrier, choice.service.service
        self.ship_date, self.estimated_delivery = choice.ship_date, choice.estimated_delivery
        self.promised_date, self.meets_promise = promised, choice.meets_promise
        self.cost, self.currency = choice.quote.amount, choice.quote.currency

    def label_request(self) -> LabelRequest:
        if not self.planned:
            raise ValueError(f"parcel {self.parcel_id} has no plan yet")
        return LabelRequest(self.idempotency_key, self.carrier, self.service, self.weight_kg, self.hazmat,
                            self.parcel_id, self.node, self.kind is ParcelKind.return_)

    def postpone(self, reason: str, now: datetime, retry_after: timedelta, max_attempts: int) -> None:
        """Not labelled this time (no answer, or what it needs is not known yet): again later with backoff, or
        failed after `max_attempts`. The plan stays."""
        self.attempts += 1
        self.last_error = reason
        if self.attempts >= max_attempts:
            self.status, self.next_attempt_at = ParcelStatus.failed, None
        else:
            self.next_attempt_at = now + retry_after * min(2 ** (self.attempts - 1), 12)

    def fail(self, reason: str) -> None:
        """Nothing can have been bought (no service, or the carrier refused): the plan goes, a retry chooses
        again."""
        self.attempts += 1
        self.status, self.last_error, self.next_attempt_at = ParcelStatus.failed, reason, None
        self.carrier = self.service = self.ship_date = self.estimated_delivery = self.meets_promise = None
        self.cost = self.currency = None

    def record(self, result: LabelResult, now: datetime, retry_after: timedelta, max_attempts: int) -> bool:
        """Applies the carrier's answer to the label call; True when the label was bought now."""
        if self.status is not ParcelStatus.pending:
            return False
        if result.outcome is LabelOutcome.bought:
            label = result.label
            self.attempts += 1
            self.status, self.purchased_at, self.last_error, self.next_attempt_at = (
                ParcelStatus.labelled, now, None, None)
            self.label_id, self.tracking_number, self.label_url = label.label_id, label.tracking_number, label.label_url
            self.cost, self.currency = label.cost, label.currency
            return True
        if result.outcome is LabelOutcome.refused:
            self.fail(result.error)
        else:
            self.postpone(result.error, now, retry_after, max_attempts)
        return False

    def retry(self, actor: str, now: datetime) -> None:
        """A supervisor's retry of a failed parcel (e.g. after changing a carrier service): pending again with
        the same key; a kept plan stays (its label may have been bought)."""
        if self.status is not ParcelStatus.failed:
            raise ValueError(f"parcel {self.parcel_id} is {self.status}; only a failed parcel is retried")
        self.status, self.attempts, self.next_attempt_at = ParcelStatus.pending, 0, None
        self.retried_by, self.retried_at = actor, now

    def dispatch(self, at: datetime) -> bool:
        """The warehouse shipped it: the carrier is to be told (handover). False if known already."""
        if self.dispatched_at is not None:
            return False
        self.dispatched_at = at
        return True

    def track(self, status: str, at: datetime) -> None:
        self.tracking_status = status
        if status == "delivered" and self.delivered_at is None:
            self.delivered_at = at


@dataclass(frozen=True)
class SkuHandling:
    weight_kg: float | None
    hazmat: bool


def parcel_spec(lines: list[tuple[str, int]], skus: dict[str, SkuHandling], unknown_weight_kg: float) -> ParcelSpec:
    """The parcel's weight and whether it carries dangerous goods, from the SKU master; a SKU without a weight
    counts `unknown_weight_kg` a unit."""
    weight = 0.0
    for sku, units in lines:
        known = skus.get(sku)
        weight += units * (known.weight_kg if known and known.weight_kg else unknown_weight_kg)
    # to the gram, and at least one: a carrier rates no weightless parcel
    return ParcelSpec(max(round(weight, 3), 0.001), any(skus[sku].hazmat for sku, _ in lines if sku in skus))


def order_delivered(parcels: list[Parcel]) -> bool:
    """Every parcel of the order labelled so far is delivered (and there is one)."""
    labelled = [p for p in parcels if p.kind is ParcelKind.outbound and p.status is ParcelStatus.labelled]
    return bool(labelled) and all(p.delivered_at is not None for p in labelled)
