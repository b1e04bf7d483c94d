"""Control service benchmark: how fast its pages answer with 100,000 orders in its read model, how fast it
projects events into that read model (in-process, and through Kafka), and how big the read model is.

It runs against the real broker and PostgreSQL (KAFKA_BOOTSTRAP_SERVERS, POSTGRES_ADMIN_URL) and starts the
control service as a real process on a database and a topic prefix of its own, removed at the end.

    make bench-console BENCH_ARGS="--repeats 3 --json .local/bench-console.json"
    .venv/bin/python tools/bench_console.py --quick        # under a minute, for the smoke test

The read model is seeded with --orders orders placed over the last --days days and their lives as the services
publish them: 3 channels, 3 nodes, 500 SKUs (skewed popularity), 2 carriers. Some orders are placed on a hold
(released or cancelled later), rejected, backordered (most filled days later, some cancelled, some still
waiting), cancelled before release; the others are released, picked, packed, shipped (some split in two
shipments, with a journal entry each) and delivered (some late); about 10 % of the delivered come back (RMA,
receipt, inspection, disposition, refund approved by policy or a supervisor, paid or declined). Besides the
orders: the warehouse's stock levels and allocation's availability per SKU x node (daily at 100,000 orders, less
often for fewer; a few disagreeing at the end), cycle counts (some with a variance), scan exceptions, short picks,
allocation exceptions and dead letters. Lives go on until now: recent orders are still in progress, so the
exception inbox has what it would have. The seeding runs the service's own projection in this process
(service_layer/projecting.py, a unit of work per batch of --batch-events events of one topic, as a consumer's
batch) on the database, not through Kafka; its events/s is the projection's own throughput (the time inside
project_events only).

Then, per run: the lives of --kafka-orders more orders produced to the service's topics flat out, timed until
the service's events table holds them all (its consumers, decoding and projection: the catch-up of a read model
behind); then every page, each --requests times round-robin after a warm-up, one request at a time: the JSON
API with an admin's bearer token (of the benchmark's own issuer, which the service trusts) and the console with
the session cookie of an admin whose session row the benchmark inserted. Pages that call other services (the
finance page, inventory of one SKU at one node) are not measured. The verdict: every page's median under
300 ms. The machine may be shared and noisy, so every measure is repeated and the median is reported.
"""

import asyncio
import json
import math
import random
import secrets
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import httpx
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel

from control_service.domain.kpis import KPIS
from control_service.domain.projection import DeadLetter
from control_service.service_layer.alerts import evaluate_alerts
from control_service.service_layer.console_sessions import SESSION_COOKIE
from control_service.service_layer.handlers import thresholds
from control_service.service_layer.projecting import project_dead_letters, project_events
from control_service.service_layer.unit_of_work import SqlControlUnitOfWork
from control_service.settings import ControlSettings
from ecomops_common.contracts import (
    ALLOCATION_EVENTS,
    FINANCE_EVENTS,
    INVENTORY_AVAILABILITY,
    INVENTORY_STOCK,
    ORDER_EVENTS,
    REGISTRY,
    RETURNS_EVENTS,
    WAREHOUSE_EVENTS,
)
from ecomops_common.db import Database
from ecomops_common.envelope import EventEnvelope
from ecomops_common.ids import new_id
from ecomops_common.messaging import Delivery
from ecomops_common.testing.issuer import admin_headers, test_issuer
from ecomops_common.topics import dead_letter_topic

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ is not a package

from benchlib import (
    Benchmark,
    BenchOptions,
    BenchReport,
    CpuMeter,
    Measurement,
    Message,
    Row,
    ServiceUnderTest,
    bench_producer,
    consumer_figures,
    cpu_rows,
    events_timeout_s,
    option,
    percentile,
    repeat_phases,
    run_main,
)

PAGE_TARGET_MS = 300.0
KAFKA = "kafka"  # the figures' prefix of the catch-up through Kafka

# ------------------------------------------------------------------------------------------------ the world

CHANNELS = {"web-eu": 50, "app-eu": 30, "marketplace-amz": 20}
EXTERNAL_ID = {"web-eu": "WEB-{:08d}", "app-eu": "APP-{:08d}", "marketplace-amz": "302-{:07d}-{:07d}"}
NODES = ("AMS1", "BER1", "PAR1")
COUNTRIES = {"DE": (40, ("BER1", "AMS1", "PAR1")), "FR": (25, ("PAR1", "AMS1", "BER1")),
             "NL": (20, ("AMS1", "BER1", "PAR1")), "AT": (15, ("BER1", "AMS1", "PAR1"))}
CARRIERS = {"dhl": 60, "ups": 40}
SKU_COUNT = 500
SKU_SKEW = 0.9  # Zipf exponent of the SKU popularity
CATEGORIES = ("apparel", "shoes", "electronics", "home", "beauty", "toys")
LINE_COUNTS = {1: 55, 2: 28, 3: 12, 4: 5}
CUSTOMERS = 40_000
HOLDS = {"payment_hold": 50, "fraud_review": 35, "address_hold": 15}
RETURN_REASONS = {"size_fit": 40, "changed_mind": 20, "defective": 15, "not_as_described": 15,
                  "damaged_in_transit": 10}
DISPOSITIONS = {"restock": 70, "refurbish": 15, "quarantine": 5, "scrap": 10}
GRADES = {"restock": "A", "refurbish": "B", "quarantine": "C", "scrap": "D"}
CONDITIONS = {"restock": "like_new", "refurbish": "opened", "quarantine": "damaged", "scrap": "damaged"}
# Shares of orders (of the orders reaching that step).
REJECTED = 0.004
HELD = 0.06
HOLD_CANCELLED = 0.15
BACKORDERED = 0.03  # nothing in stock at first allocation
PARTIAL = 0.05  # one line short at first allocation
BACKORDER_FILLED = 0.7
UNFILLED_CANCELLED = 0.5
CANCELLED_BEFORE_RELEASE = 0.02
STUCK = 0.003  # never leave a status (lost pick task, parcel never scanned): the inbox's stuck orders
SHORT_PICK = 0.005
SPLIT = 0.1  # of the orders of several lines: shipped in two parcels
LATE = 0.12  # deliveries taking days longer than usual
RETURNED = 0.13  # of the delivered (the last two weeks' returns are still to come: about 10 % show)
NEVER_RECEIVED = 0.05
SUPERVISOR_APPROVAL = 0.2  # refunds waiting for a refund approver
REFUND_DECLINED = 0.03
# Besides the orders: per day and node
FULL_SCALE = 100_000  # orders: the operations below are per day at this size, fewer for fewer orders
COUNTS_PER_DAY = 60
COUNT_VARIANCE = 0.03
SCAN_EXCEPTIONS_PER_DAY = 2
DRIFTING_POSITIONS = 6  # SKU x nodes where allocation and the warehouse disagree at the end
DEAD_LETTERS = 12
SUPERVISOR = "sam.supervisor"

MODELS: dict[tuple[str, str], type[BaseModel]] = {(spec.topic, spec.message_type): spec.model for spec in REGISTRY}
SOURCES = {ORDER_EVENTS: "order", ALLOCATION_EVENTS: "allocation", WAREHOUSE_EVENTS: "warehouse",
           INVENTORY_STOCK: "warehouse", INVENTORY_AVAILABILITY: "allocation", RETURNS_EVENTS: "returns",
           FINANCE_EVENTS: "finance"}


@dataclass(frozen=True, slots=True)
class Fact:
    """One event as its service publishes it, before it becomes an envelope."""

    topic: str
    event_type: str
    key: str  # the aggregate id, also the Kafka key
    at: datetime
    payload: dict[str, Any]

    def message(self) -> BaseModel:
        return MODELS[self.topic, self.event_type].model_validate(self.payload)

    def envelope(self, payload: dict[str, Any]) -> EventEnvelope:
        # Built without validation: the payload model (message()) is what is checked.
        return EventEnvelope.model_construct(
            event_id=new_id(), event_type=self.event_type, schema_version=1, source=SOURCES[self.topic],
            occurred_at=self.at, aggregate_type=self.topic.split(".", 1)[0], aggregate_id=self.key,
            correlation_id=None, causation_id=None, traceparent=None, payload=payload)


def uuid7_at(at: datetime, rng: random.Random) -> str:
    """A UUIDv7 of that moment, as the services' ids are (new_id), drawn from rng."""
    value = ((int(at.timestamp() * 1000) << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
             | rng.getrandbits(62))
    return str(uuid.UUID(int=value))


def money(amount: float) -> str:
    return f"{amount:.2f}"


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass(frozen=True)
class Sku:
    sku: str
    category: str
    price: float


@dataclass
class Life:
    """An order's events up to now, and what became of it."""

    order_id: str
    external_order_id: str
    outcome: str
    facts: list[Fact] = field(default_factory=list)
    refunded: bool = False


class World:
    """The catalogue, and deterministic streams of order lives (from the seed and a tag) up to `now`."""

    def __init__(self, seed: int, days: int, now: datetime) -> None:
        self.seed, self.days, self.now = seed, days, now
        self.start = now - timedelta(days=days)
        rng = random.Random(f"{seed}:catalogue")
        self.skus = [Sku(f"SKU-{number:04d}", rng.choice(CATEGORIES), round(rng.uniform(4, 150), 2))
                     for number in range(SKU_COUNT)]
        self._popular = rng.sample(self.skus, len(self.skus))
        self._cumulative = list(accumulate(1 / (rank + 1) ** SKU_SKEW for rank in range(len(self.skus))))
        # Each SKU is stocked at two or three nodes.
        self.stocked = {sku.sku: sorted(rng.sample(NODES, rng.choice((2, 3)))) for sku in self.skus}

    # --- orders ------------------------------------------------------------------------------------------------

    def lives(self, tag: str, count: int) -> Iterator[Life]:
        """`count` orders placed over the window, in the order they were placed."""
        rng = random.Random(f"{self.seed}:{tag}")
        window_s = (self.now - self.start).total_seconds()
        for offset_s in sorted(rng.uniform(0, window_s) for _ in range(count)):
            yield self.life(rng, self.start + timedelta(seconds=offset_s))

    def life(self, rng: random.Random, placed_at: datetime) -> Life:
        channel = pick(rng, CHANNELS)
        pattern = EXTERNAL_ID[channel]
        external = pattern.format(*(rng.randrange(10 ** 7) for _ in range(pattern.count("{"))))
        order_id = uuid7_at(placed_at, rng)
        life = Life(order_id, external, "placed")
        now = self.now

        def emit(topic: str, event_type: str, at: datetime, payload: dict[str, Any], key: str = order_id) -> bool:
            """The event, if it already happened."""
            if at > now:
                return False
            life.facts.append(Fact(topic, event_type, key, at, payload))
            return True

        if rng.random() < REJECTED:
            life.outcome = "rejected"
            emit(ORDER_EVENTS, "OrderRejected", placed_at, {
                "order_id": order_id, "channel": channel, "external_order_id": external,
                "reasons": [{"field": "lines.0.quantity", "code": "non_positive_quantity",
                             "message": "quantity must be positive"}]})
            return life
        country = pick(rng, {code: weight for code, (weight, _) in COUNTRIES.items()})
        express = rng.random() < 0.15
        lines = self._lines(rng)
        units = sum(quantity for _, _, quantity in lines)
        goods = sum(sku.price * quantity for _, sku, quantity in lines)
        fee = 0.0 if goods >= 50 else 4.9
        total = goods + fee
        holds = [pick(rng, HOLDS)] if rng.random() < HELD else []
        customer = f"C-{rng.randrange(CUSTOMERS):06d}"
        promised = (placed_at + timedelta(days=2 if express else 4)).date()
        emit(ORDER_EVENTS, "OrderPlaced", placed_at, {
            "order_id": order_id, "channel": channel, "external_order_id": external, "placed_at": placed_at,
            "currency": "EUR", "customer": {"id": customer, "tier": "vip" if rng.random() < 0.05 else "standard"},
            "ship_to": {"city": "Somewhere", "postal_code": f"{rng.randrange(10000, 99999)}", "country": country},
            "service_level": "express" if express else "standard", "promised_date": promised,
            "payment": {"status": "authorized", "amount": money(total), "method": "card"},
            "fraud_score": rng.randrange(100),
            "lines": [{"line_id": line_id, "sku": sku.sku, "quantity": quantity, "unit_price": money(sku.price),
                       "category": sku.category} for line_id, sku, quantity in lines],
            "shipping_fee": money(fee), "tax": "0.00", "total": money(total),
            "status": "on_hold" if holds else "awaiting_allocation", "holds": holds})
        status = "on_hold" if holds else "awaiting_allocation"
        common = {"order_id": order_id, "channel": channel, "external_order_id": external}

        def move(to_status: str, at: datetime, actor: str, reason: str | None = None) -> bool:
            nonlocal status
            happened = emit(ORDER_EVENTS, "OrderStatusChanged", at, {
                **common, "from_status": status, "to_status": to_status, "holds": [], "actor": actor,
                "reason": reason})
            status = to_status
            return happened

        at = placed_at
        if holds:
            at += timedelta(minutes=rng.uniform(10, 240))
            if rng.random() < HOLD_CANCELLED:
                life.outcome = "cancelled" if move("cancelled", at, f"supervisor:{SUPERVISOR}", holds[0]) else "held"
                return life
            if not move("awaiting_allocation", at, f"supervisor:{SUPERVISOR}", f"{holds[0]} released"):
                life.outcome = "held"
                return life
        # allocation
        node = self._node(rng, country, [sku for _, sku, _ in lines])
        at += timedelta(seconds=rng.uniform(1, 30))
        draw = rng.random()
        if draw < BACKORDERED:
            short = list(lines)
        elif draw < BACKORDERED + PARTIAL and len(lines) > 1:
            short = [lines[-1]]
        else:
            short = []
        revision = 1

        def allocation(event_type: str, state: str, at: datetime, reason: str, allocated: list, waiting: list
                       ) -> bool:
            return emit(ALLOCATION_EVENTS, event_type, at, {
                "order_id": order_id, "channel": channel, "status": state, "revision": revision,
                "lines": [{"line_id": line_id, "sku": sku.sku, "node": node, "quantity": quantity}
                          for line_id, sku, quantity in allocated],
                "backordered": [{"line_id": line_id, "sku": sku.sku, "quantity": quantity}
                                for line_id, sku, quantity in waiting],
                "reason": reason, "service_level": "express" if express else "standard"})

        first = [line for line in lines if line not in short]
        state = "allocated" if not short else "partially_allocated" if first else "backordered"
        if not allocation("OrderBackordered" if state == "backordered" else "OrderAllocated", state, at, "placed",
                          first, short):
            return life
        move(state, at + timedelta(seconds=1), "allocation")
        if short:
            if rng.random() < BACKORDER_FILLED:
                at += timedelta(days=rng.uniform(0.5, 6))
                revision += 1
                if not allocation("OrderAllocated", "allocated", at, "backorder_filled", lines, []):
                    life.outcome = "backordered"
                    return life
                move("allocated", at + timedelta(seconds=1), "allocation")
            else:
                life.outcome = "backordered"
                if rng.random() < UNFILLED_CANCELLED:
                    at += timedelta(days=rng.uniform(4, 10))
                    if move("cancelled", at, f"channel:{channel}", "customer cancelled: no stock"):
                        revision += 1
                        allocation("AllocationReleased", "released", at + timedelta(seconds=2), "cancelled", [],
                                   [])
                        life.outcome = "cancelled"
                return life
        if rng.random() < CANCELLED_BEFORE_RELEASE:
            at += timedelta(minutes=rng.uniform(5, 120))
            if move("cancelled", at, f"channel:{channel}", "customer cancelled"):
                revision += 1
                allocation("AllocationReleased", "released", at + timedelta(seconds=2), "cancelled", [], [])
                life.outcome = "cancelled"
            return life
        stuck = rng.choice(("allocated", "released_to_warehouse", "picking", "packed", "shipped")) \
            if rng.random() < STUCK else None
        life.outcome = "in progress"
        if stuck == "allocated":
            return life

        def fulfilment(stage: str, at: datetime, picked: int, packed: int, shipped: int) -> bool:
            return emit(WAREHOUSE_EVENTS, "OrderFulfilmentChanged", at, {
                "order_id": order_id, "stage": stage, "units": units, "picked": picked, "packed": packed,
                "shipped": shipped})

        # the warehouse
        at += timedelta(minutes=rng.uniform(15, 240))
        if not fulfilment("released_to_warehouse", at, 0, 0, 0) or not move(
                "released_to_warehouse", at + timedelta(seconds=1), "warehouse") or stuck == "released_to_warehouse":
            return life
        at += timedelta(minutes=rng.uniform(10, 180))
        if not fulfilment("picking", at, units, 0, 0) or not move("picking", at + timedelta(seconds=1), "warehouse"):
            return life
        if rng.random() < SHORT_PICK:
            self._warehouse_exception(rng, emit, "short_pick", node, lines[0][1].sku, "short_pick", at,
                                      decision="approved")
        if stuck == "picking":
            return life
        at += timedelta(minutes=rng.uniform(5, 60))
        if not fulfilment("packed", at, units, units, 0) or not move("packed", at + timedelta(seconds=1),
                                                                     "warehouse") or stuck == "packed":
            return life
        at += timedelta(minutes=rng.uniform(30, 480))
        carrier = pick(rng, CARRIERS)
        parcels = [lines] if len(lines) == 1 or rng.random() >= SPLIT else [lines[:1], lines[1:]]
        for number, parcel in enumerate(parcels):
            shipped_at = at + timedelta(hours=5 * number)
            if not emit(WAREHOUSE_EVENTS, "ShipmentDispatched", shipped_at, {
                    "order_id": order_id, "node": node if number == 0 else rng.choice(NODES),
                    "tracking_number": f"{carrier.upper()}{rng.randrange(10 ** 11):011d}", "carrier": carrier,
                    "lines": [{"line_id": line_id, "sku": sku.sku, "quantity": quantity}
                              for line_id, sku, quantity in parcel],
                    "shipped_at": shipped_at, "shipping_cost": "3.95", "currency": "EUR"}):
                return life
        at += timedelta(hours=5 * (len(parcels) - 1))
        if not fulfilment("shipped", at, units, units, units) or not move("shipped", at + timedelta(seconds=1),
                                                                          "warehouse"):
            return life
        self._journal(emit, "sale", at + timedelta(seconds=5), total, order_id=order_id,
                      accounts=("receivables", "revenue"))
        if stuck == "shipped":
            return life
        transit = rng.uniform(18, 60) + (rng.uniform(48, 120) if rng.random() < LATE else 0)
        at += timedelta(hours=transit)
        if not move("delivered", at, f"carrier:{carrier}") or not fulfilment("delivered", at + timedelta(seconds=1),
                                                                             units, units, units):
            return life
        life.outcome = "delivered"
        if rng.random() < RETURNED:
            self._return(rng, emit, life, channel, customer, node, lines, at)
        return life

    def _lines(self, rng: random.Random) -> list[tuple[str, Sku, int]]:
        count = rng.choices(list(LINE_COUNTS), weights=list(LINE_COUNTS.values()))[0]
        skus: list[Sku] = []
        while len(skus) < count:
            sku = rng.choices(self._popular, cum_weights=self._cumulative)[0]
            if sku not in skus:
                skus.append(sku)
        return [(str(number), sku, rng.choices((1, 2, 3), weights=(75, 20, 5))[0])
                for number, sku in enumerate(skus, 1)]

    def _node(self, rng: random.Random, country: str, skus: list[Sku]) -> str:
        """The first node in the country's preference stocking every SKU, else the first stocking the first."""
        preference = COUNTRIES[country][1]
        for node in preference:
            if all(node in self.stocked[sku.sku] for sku in skus):
                return node
        return next(node for node in preference if node in self.stocked[skus[0].sku])

    def _return(self, rng: random.Random, emit: Callable[..., bool], life: Life, channel: str, customer: str,
                node: str, lines: list[tuple[str, Sku, int]], delivered_at: datetime) -> None:
        line_id, sku, quantity = rng.choice(lines)
        returned = rng.randint(1, quantity)
        reason = pick(rng, RETURN_REASONS)
        at = delivered_at + timedelta(days=rng.uniform(1, 14))
        rma_id = f"RMA-{uuid7_at(at, rng)}"
        rma = {"rma_id": rma_id, "order_id": life.order_id, "channel": channel}

        def status(state: str, at: datetime, actor: str = "returns", note: str | None = None) -> bool:
            return emit(RETURNS_EVENTS, "ReturnStatusChanged", at, {**rma, "status": state, "actor": actor,
                                                                     "note": note, "at": at}, key=rma_id)

        units = {"node": node, "sku": sku.sku, "quantity": returned}
        if not emit(RETURNS_EVENTS, "ReturnAuthorized", at, {
                **rma, "node": node, "lines": [{"line_id": line_id, "sku": sku.sku, "quantity": returned}],
                "authorized_at": at, "expected_by": at + timedelta(days=10), "resolution": "refund",
                "reason": reason}, key=rma_id):
            return
        life.outcome = "returned"
        if rng.random() < NEVER_RECEIVED:
            return
        at += timedelta(days=rng.uniform(2, 8))
        disposition = pick(rng, DISPOSITIONS)
        if not emit(WAREHOUSE_EVENTS, "ReturnReceived", at, {
                "rma_id": rma_id, **units, "condition": CONDITIONS[disposition], "received_at": at}, key=rma_id):
            return
        status("received", at + timedelta(seconds=1))
        at += timedelta(hours=rng.uniform(4, 60))
        if not emit(WAREHOUSE_EVENTS, "ReturnInspected", at, {
                "rma_id": rma_id, **units, "condition": CONDITIONS[disposition], "inspected_at": at,
                "inspector": "ian.inspector"}, key=rma_id):
            return
        status("inspected", at + timedelta(seconds=1))
        emit(RETURNS_EVENTS, "ReturnDispositionDecided", at + timedelta(seconds=2), {
            "rma_id": rma_id, "sku": sku.sku, "quantity": returned, "disposition": disposition,
            "decided_at": at + timedelta(seconds=2), "grade": GRADES[disposition]}, key=rma_id)
        emit(WAREHOUSE_EVENTS, "ReturnDispositionApplied", at + timedelta(hours=2), {
            "rma_id": rma_id, **units, "disposition": disposition, "applied_at": at + timedelta(hours=2)},
            key=rma_id)
        amount = sku.price * returned
        approver = "policy"
        if rng.random() < SUPERVISOR_APPROVAL:
            if not status("refund_pending_approval", at + timedelta(minutes=5), note="over the automatic limit"):
                return
            at += timedelta(hours=rng.uniform(1, 48))
            approver = "rita.approver"
        at += timedelta(minutes=5)
        if not status("refund_approved", at, approver):
            return
        refund_id = f"RF-{uuid7_at(at, rng)}"
        emit(RETURNS_EVENTS, "RefundApproved", at, {
            **rma, "refund_id": refund_id, "customer_id": customer, "amount": money(amount), "currency": "EUR",
            "reason": reason, "timing": "after_inspection",
            "lines": [{"line_id": line_id, "sku": sku.sku, "quantity": returned,
                       "grades": {GRADES[disposition]: returned}}],
            "breakdown": [{"line_id": line_id, "kind": "goods", "amount": money(amount)}],
            "approved_by": approver, "approved_at": at}, key=rma_id)
        at += timedelta(minutes=rng.uniform(1, 600))
        refund = {"refund_id": refund_id, "rma_id": rma_id, "order_id": life.order_id, "amount": money(amount),
                  "currency": "EUR"}
        if rng.random() < REFUND_DECLINED:
            emit(FINANCE_EVENTS, "RefundFailed", at, {**refund, "outcome": "declined",
                                                      "reason": "card expired", "at": at}, key=rma_id)
            return
        if emit(FINANCE_EVENTS, "RefundIssued", at, {**refund, "provider_reference": f"PSP-{refund_id[-12:]}",
                                                     "issued_at": at}, key=rma_id):
            self._journal(emit, "refund", at + timedelta(seconds=3), amount, order_id=life.order_id,
                          rma_id=rma_id, accounts=("refunds", "cash"))
            status("refunded", at + timedelta(seconds=5))
            life.refunded = True

    @staticmethod
    def _journal(emit: Callable[..., bool], kind: str, at: datetime, amount: float, *, order_id: str,
                 accounts: tuple[str, str], rma_id: str | None = None) -> None:
        emit(FINANCE_EVENTS, "JournalEntryPosted", at, {
            "entry_id": new_id(), "order_id": order_id, "rma_id": rma_id, "kind": kind, "currency": "EUR",
            "amount": money(amount), "posted_at": at,
            "lines": [{"account": accounts[0], "debit": money(amount), "credit": "0.00"},
                      {"account": accounts[1], "debit": "0.00", "credit": money(amount)}]}, key=order_id)

    @staticmethod
    def _warehouse_exception(rng: random.Random, emit: Callable[..., bool], kind: str, node: str, sku: str,
                             reason: str, at: datetime, decision: str, quantity: int = 1) -> None:
        """Raised, then (most of the time) decided by a supervisor some hours later."""
        exception_id = f"{kind[:2].upper()}-{uuid7_at(at, rng)}"
        raised = {"exception_id": exception_id, "kind": kind, "node": node, "sku": sku, "location": "A-01-01",
                  "quantity": quantity, "reason": reason}
        if emit(WAREHOUSE_EVENTS, "WarehouseExceptionChanged", at,
                {**raised, "status": "open", "actor": "device:hh-07", "at": at}, key=exception_id) \
                and rng.random() < 0.85:
            decided = at + timedelta(hours=rng.uniform(0.5, 12))
            emit(WAREHOUSE_EVENTS, "WarehouseExceptionChanged", decided,
                 {**raised, "status": decision, "actor": SUPERVISOR, "at": decided}, key=exception_id)

    # --- stock, counts and exceptions ---------------------------------------------------------------------------

    def operations(self, scale: float) -> list[Fact]:
        """What happens besides orders, in time order: the warehouse's level and allocation's view of each stocked
        SKU x node (every day at full scale: --orders 100,000; less often for fewer orders, the last day always),
        cycle counts and scan exceptions every day; allocation exceptions every other day."""
        rng = random.Random(f"{self.seed}:operations")
        facts: list[Fact] = []
        now = self.now

        def emit(topic: str, event_type: str, at: datetime, payload: dict[str, Any], key: str) -> bool:
            if at > now:
                return False
            facts.append(Fact(topic, event_type, key, at, payload))
            return True

        levels = {(sku.sku, node): rng.randint(20, 400) for sku in self.skus for node in self.stocked[sku.sku]}
        drifting = set(rng.sample(sorted(levels), DRIFTING_POSITIONS))
        stock_every = max(1, round(1 / scale))
        counts_per_day = max(1, round(COUNTS_PER_DAY * scale))
        for day in range(self.days):  # the last one began 18 hours ago
            morning = self.start + timedelta(days=day, hours=6)
            last = day == self.days - 1
            for sku in self.skus if (self.days - 1 - day) % stock_every == 0 else ():
                at = morning + timedelta(minutes=rng.uniform(0, 600))
                nodes = []
                for node in self.stocked[sku.sku]:
                    sellable = levels[sku.sku, node] = max(0, levels[sku.sku, node] + rng.randint(-30, 30))
                    emit(INVENTORY_STOCK, "StockLevelChanged", at, {
                        "sku": sku.sku, "node": node, "sellable_on_hand": sellable, "reason": "pick", "as_of": at,
                        "version": day + 1, "on_hand_by_status": {
                            "sellable": sellable, "return_pending_inspection": rng.randint(0, 5),
                            "quarantine": rng.randint(0, 2), "damaged": rng.randint(0, 2)}}, f"{sku.sku}@{node}")
                    reserved = rng.randint(0, min(sellable, 20))
                    on_hand = sellable + (3 if last and (sku.sku, node) in drifting else 0)
                    nodes.append({"node": node, "on_hand": on_hand, "reserved": reserved, "safety_stock": 5,
                                  "atp": max(0, on_hand - reserved - 5)})
                emit(INVENTORY_AVAILABILITY, "AvailabilityChanged", at + timedelta(seconds=1), {
                    "sku": sku.sku, "atp": sum(node["atp"] for node in nodes), "nodes": nodes,
                    "as_of": at + timedelta(seconds=1)}, sku.sku)
            for node in NODES:
                for _ in range(counts_per_day):
                    at = morning + timedelta(minutes=rng.uniform(0, 720))
                    sku = rng.choice(self.skus).sku
                    expected = rng.randint(0, 60)
                    variance = rng.random() < COUNT_VARIANCE
                    counted = max(0, expected + rng.choice((-3, -2, -1, 1, 2))) if variance else expected
                    count_id = f"CNT-{uuid7_at(at, rng)}"
                    emit(WAREHOUSE_EVENTS, "CountRecorded", at, {
                        "count_id": count_id, "node": node, "sku": sku, "location": "A-01-01", "expected": expected,
                        "counted": counted, "counted_at": at}, f"{sku}@{node}")
                    if variance and counted != expected:
                        self._warehouse_exception(rng, emit, "count_variance", node, sku, "count_variance", at,
                                                  decision="approved", quantity=counted - expected)
                for _ in range(SCAN_EXCEPTIONS_PER_DAY):
                    at = morning + timedelta(minutes=rng.uniform(0, 720))
                    self._warehouse_exception(rng, emit, "scan_exception", node, rng.choice(self.skus).sku,
                                              rng.choice(("unknown_location", "unreferenced_receive")), at,
                                              decision="resolved")
            if day % 2 == 0:
                at = morning + timedelta(hours=3)
                sku, node = rng.choice(sorted(levels))
                exception_id = f"AE-{uuid7_at(at, rng)}"
                emit(ALLOCATION_EVENTS, "AllocationExceptionRaised", at, {
                    "exception_id": exception_id, "sku": sku, "node": node, "shortfall": rng.randint(1, 4),
                    "affected_order_ids": [uuid7_at(at, rng) for _ in range(rng.randint(1, 3))], "raised_at": at},
                    f"{sku}@{node}")
        facts.sort(key=lambda fact: fact.at)
        return facts

    def dead_letters(self, topic_prefix: str) -> list[DeadLetter]:
        rng = random.Random(f"{self.seed}:dead-letters")
        letters = []
        for offset in range(DEAD_LETTERS):
            topic = topic_prefix + rng.choice((ORDER_EVENTS, WAREHOUSE_EVENTS, RETURNS_EVENTS))
            letters.append(DeadLetter(
                dlq_topic=dead_letter_topic(topic), partition=rng.randrange(6), offset=offset, original_topic=topic,
                consumer=f"{topic_prefix}finance-service.events", reason="schema_invalid",
                error="1 validation error for ShipmentDispatched: lines.0.quantity must be >= 1",
                failed_at=self.start + timedelta(days=rng.uniform(0, self.days)), key=new_id()))
        return letters


def deliveries(facts: list[Fact], topic_prefix: str, first_offset: int) -> list[Delivery]:
    """The facts as the service's consumer hands them to project_events: decoded payload, envelope, record."""
    batch = []
    for offset, fact in enumerate(facts, first_offset):
        record = ConsumerRecord(topic_prefix + fact.topic, 0, offset, 0, 0, None, None, None, 0, 0, ())
        batch.append(Delivery(record=record, headers={}, message=fact.message(), envelope=fact.envelope({})))
    return batch


def kafka_messages(facts: list[Fact]) -> tuple[list[tuple[str, Message]], str, str]:
    """(topic, message) per fact in time order, as the services' relays publish them; the lowest and highest
    event id (UUIDv7: made now, they sort above every event seeded before)."""
    messages = []
    ids = []
    for fact in sorted(facts, key=lambda fact: fact.at):
        envelope = fact.envelope(fact.message().model_dump(mode="json"))
        ids.append(envelope.event_id)
        messages.append((fact.topic, (envelope.event_id, fact.key.encode(), envelope.model_dump_json().encode(),
                                      envelope.kafka_headers())))
    return messages, min(ids), max(ids)


# ------------------------------------------------------------------------------------------------ seeding


@dataclass
class Seeded:
    events: int = 0
    batches: int = 0
    projecting_s: float = 0.0  # inside project_events
    outcomes: Counter[str] = field(default_factory=Counter)
    target: Life | None = None  # an order with a refunded return, for the order pages


async def seed_read_model(database_url: str, topic_prefix: str, world: World, orders: int, batch_events: int,
                          say: Callable[[str], None]) -> Seeded:
    """`orders` lives and the operations of their days projected by the service's own code in this process: per
    topic, batches of `batch_events` events in a unit of work each, as the service's consumer hands them over
    (topics interleaved in time); then the dead letters."""
    settings = ControlSettings()
    project = {"thresholds": thresholds(settings), "drift_grace": timedelta(minutes=settings.drift_minutes)}
    database = Database(database_url, pool_size=2)
    buffers: dict[str, list[Fact]] = defaultdict(list)
    seeded = Seeded()

    async def flush(topic: str) -> None:
        batch = deliveries(buffers.pop(topic), topic_prefix, seeded.events)
        started = time.perf_counter()
        async with SqlControlUnitOfWork(database) as uow:
            await project_events(uow, batch, **project)
        seeded.projecting_s += time.perf_counter() - started
        seeded.events += len(batch)
        seeded.batches += 1

    started = time.perf_counter()
    operations = iter(world.operations(min(1.0, orders / FULL_SCALE)))
    pending = next(operations, None)
    try:
        for number, life in enumerate(world.lives("seed", orders)):
            seeded.outcomes[life.outcome] += 1
            if seeded.target is None and life.refunded and number >= orders // 3:
                seeded.target = life
            placed_at = life.facts[0].at if life.facts else world.now
            while pending is not None and pending.at <= placed_at:
                buffers[pending.topic].append(pending)
                pending = next(operations, None)
            for fact in life.facts:
                buffers[fact.topic].append(fact)
            for topic in [topic for topic, facts in buffers.items() if len(facts) >= batch_events]:
                await flush(topic)
            if number and number % 20_000 == 0:
                rate = seeded.events / seeded.projecting_s
                say(f"  {number:,} orders, {seeded.events:,} events projected ({rate:,.0f}/s in project_events, "
                    f"{time.perf_counter() - started:,.0f} s so far)")
        while pending is not None:
            buffers[pending.topic].append(pending)
            pending = next(operations, None)
        for topic in list(buffers):
            await flush(topic)
        async with SqlControlUnitOfWork(database) as uow:
            await project_dead_letters(uow, [Delivery(record=None, headers={}, message=letter)
                                             for letter in world.dead_letters(topic_prefix)])
    finally:
        await database.dispose()
    if seeded.target is None:
        raise RuntimeError("no order with a refunded return was drawn: seed more orders")
    return seeded


# ---------------------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    figure: str  # the figures' prefix: <figure>_p50_ms, <figure>_p95_ms
    label: str
    path: str  # with {placeholders} for what the seeding decides (Targets)

    @property
    def console(self) -> bool:
        return self.path.startswith("/console/")


@dataclass(frozen=True)
class Targets:
    """What the pages ask for: an order (with a refunded return), the deep pages, the KPIs' window."""

    order_id: str
    external_order_id: str
    inbox_last_page: int
    orders_deep_page: int
    api_from: str
    api_to: str
    console_from: str
    console_to: str


def deep_orders_page(orders: int) -> int:
    """Page 500 of 50 orders, or the last page of a smaller read model."""
    return max(1, min(500, math.ceil(orders / 50)))


def pages(orders: int) -> list[Page]:
    deep = deep_orders_page(orders)
    api = [Page(f"api_kpi_{name}", f"GET /v1/kpis/{name} (30 days)", f"/v1/kpis/{name}?from={{api_from}}"
                                                                      f"&to={{api_to}}") for name in KPIS]
    api += [
        Page("api_inbox", "GET /v1/inbox (page 1)", "/v1/inbox"),
        Page("api_inbox_last", "GET /v1/inbox (last page)", "/v1/inbox?page={inbox_last_page}"),
        Page("api_orders_by_id", "GET /v1/orders?q=<order id>", "/v1/orders?q={order_id}"),
        Page("api_orders_by_external_id", "GET /v1/orders?q=<channel's order id>", "/v1/orders?q={external_order_id}"),
        Page("api_orders", "GET /v1/orders (page 1)", "/v1/orders"),
        Page("api_orders_deep", f"GET /v1/orders?page={deep}", "/v1/orders?page={orders_deep_page}"),
        Page("api_order_360", "GET /v1/orders/<id> (order 360)", "/v1/orders/{order_id}"),
        Page("api_inventory", "GET /v1/inventory (page 1)", "/v1/inventory"),
        Page("api_returns_pipeline", "GET /v1/returns/pipeline", "/v1/returns/pipeline"),
        Page("api_alerts", "GET /v1/alerts", "/v1/alerts"),
    ]
    console = [
        Page("console_overview", "console: overview", "/console/"),
        Page("console_inbox", "console: inbox (page 1)", "/console/inbox"),
        Page("console_inbox_last", "console: inbox (last page)", "/console/inbox?page={inbox_last_page}"),
        Page("console_orders", "console: orders (page 1)", "/console/orders"),
        Page("console_orders_by_id", "console: orders, search by order id", "/console/orders?q={order_id}"),
        Page("console_orders_by_external_id", "console: orders, search by channel's order id",
             "/console/orders?q={external_order_id}"),
        Page("console_orders_deep", f"console: orders page {deep}", "/console/orders?page={orders_deep_page}"),
        Page("console_order_360", "console: order 360", "/console/orders/{order_id}"),
        Page("console_inventory", "console: inventory (page 1)", "/console/inventory"),
        Page("console_returns", "console: returns", "/console/returns"),
    ]
    console += [Page(f"console_kpi_{name}", f"console: KPI {name} (30 days)",
                     f"/console/kpis/{name}?from={{console_from}}&to={{console_to}}") for name in KPIS]
    return api + console


async def insert_admin_session(connection: asyncpg.Connection) -> str:
    """A console session of an admin, as signing in leaves it (service_layer/console_sessions.py): its access
    token valid for days (no renewal) and its idle expiry far enough ahead not to be pushed back."""
    session_id, now = secrets.token_urlsafe(32), datetime.now(UTC)
    await connection.execute(
        "INSERT INTO console_sessions (session_id, subject, name, roles, access_token, refresh_token, id_token, "
        "csrf_token, access_expires_at, expires_at) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $8)",
        session_id, "bench-admin", "Bench Admin", json.dumps(["admin"]),
        test_issuer().token("bench-admin", "admin", expires_in=3 * 86400), secrets.token_urlsafe(32),
        now + timedelta(days=3), now + timedelta(days=3))
    return session_id


# ----------------------------------------------------------------------------------------------- options


@dataclass
class ConsoleOptions(BenchOptions):
    unit: ClassVar[str] = "orders"
    # Nothing here is sent at a fixed rate: no --rate, no --duration.
    rate: float = 0.0
    duration_s: float = 0.0
    orders: int = option(100_000, "orders seeded into the read model (in-process)", quick=1_000)
    kafka_orders: int = option(5_000, "more orders per run whose events go through Kafka (catch-up)", quick=150)
    days: int = option(30, "days the orders are placed over, up to now")
    requests: int = option(20, "timed requests per page per run", quick=4)
    warmup_requests: int = option(2, "unmeasured requests per page first", quick=1, must_be="non-negative")
    batch_events: int = option(1_000, "events per in-process projection batch (one transaction)")
    seed: int = option(1, "draws the orders' lives and the stock", must_be=None)


# ------------------------------------------------------------------------------------------ the benchmark


class ConsoleBenchmark(Benchmark):
    Options = ConsoleOptions
    options: ConsoleOptions
    service, name = "control", "console"

    def subject(self) -> str:
        options = self.options
        return (f"Control service: {options.orders:,} orders over {options.days} days ({len(CHANNELS)} channels, "
                f"{len(NODES)} nodes, {SKU_COUNT} SKUs, {len(CARRIERS)} carriers) seeded in-process, "
                f"{options.kafka_orders:,} more per run through Kafka, every page {options.requests} times per run")

    def headline(self, report: BenchReport) -> str:
        return f"{self.subject()}, seed {self.options.seed}, {len(report.runs)} run(s), median reported"

    def rows(self) -> list[Row]:
        rows = [
            Row("seed_events_per_s", "projection events/s in-process (seeding, time in project_events)"),
            Row("seed_orders_per_s", "orders/s seeded in-process (with the operations, time in project_events)",
                digits=1),
            Row(f"{KAFKA}_events_per_s", "projection events/s via Kafka (first send -> all in the events table)"),
            Row(f"{KAFKA}_produce_events_per_s", "produce events/s (generator, Kafka run)"),
            *cpu_rows(KAFKA, "Kafka run", postgres=True),
            Row("orders_in_read_model", "orders in the read model (when the pages were timed)"),
            Row("events_in_read_model", "events in the read model"),
            Row("open_inbox_items", "open inbox items (visible now)"),
            Row("database_mb", "database size MB"),
            Row("alerts_evaluation_ms", "business alerts evaluation ms (the service's job every 30 s)"),
            Row("slowest_page_p50_ms", "slowest page's median ms", ("<", PAGE_TARGET_MS)),
        ]
        for page in pages(self.options.orders):
            rows += [Row(f"{page.figure}_p50_ms", f"{page.label}: median ms", ("<", PAGE_TARGET_MS), digits=1),
                     Row(f"{page.figure}_p95_ms", f"{page.label}: p95 ms", digits=1)]
        return rows

    def draw(self) -> None:
        self.world = World(self.options.seed, self.options.days, datetime.now(UTC))

    async def seed(self, env: ServiceUnderTest) -> str:
        """The read model, then an admin's console session."""
        options = self.options
        seeded = await seed_read_model(env.database_url(), env.topic_prefix, self.world, options.orders,
                                       options.batch_events, self.say)
        self.target = seeded.target
        self.seed_figures = {"seed_events_per_s": seeded.events / seeded.projecting_s,
                             "seed_orders_per_s": options.orders / seeded.projecting_s}
        self.connection = await asyncpg.connect(env.database_dsn())
        self.session_id = await insert_admin_session(self.connection)
        self.say("outcomes: " + ", ".join(f"{outcome} {100 * count / options.orders:.1f} %"
                                          for outcome, count in seeded.outcomes.most_common()))
        return (f"{options.orders:,} orders and the operations: {seeded.events:,} events in {seeded.batches:,} "
                f"batches, {seeded.projecting_s:,.1f} s in project_events")

    async def measure(self, env: ServiceUnderTest, report: BenchReport) -> None:
        try:
            phases = [("kafka catch-up", lambda tag: self.measure_kafka(env, tag)),
                      ("pages", lambda tag: self.measure_pages(env))]
            await repeat_phases(env, phases, self.options.repeats, consumer_figures, report, self.say)
            if report.runs:
                report.runs[0].update(self.seed_figures)
            sizes = await self.connection.fetch("SELECT relname, pg_total_relation_size(relid) AS bytes "
                                                "FROM pg_stat_user_tables ORDER BY 2 DESC")
            report.extra["tables_mb"] = {row["relname"]: round(row["bytes"] / 1e6, 1) for row in sizes}
            report.extra["target_order"] = self.target.order_id
        finally:
            await self.connection.close()

    async def measure_kafka(self, env: ServiceUnderTest, tag: str) -> Measurement:
        """More orders' lives produced flat out to the service's topics; events/s = their events / (first send ->
        all of them in the events table, polled every 100 ms)."""
        facts = [fact for life in self.world.lives(tag, self.options.kafka_orders) for fact in life.facts]
        messages, lowest, highest = kafka_messages(facts)  # before the clock starts

        async def arrived() -> int:
            return await self.connection.fetchval(
                "SELECT count(*) FROM events WHERE event_id BETWEEN $1 AND $2", lowest, highest)

        producer = bench_producer(env.kafka_bootstrap, linger_ms=10)
        await producer.start()
        cpu = await CpuMeter(env.service_pid, postgres=self.connection).start()
        started = time.perf_counter()
        try:
            sent = [await producer.send(env.topic(topic), value=value, key=key, headers=headers)
                    for topic, (_, key, value, headers) in messages]
            await asyncio.gather(*sent)
            produced = time.perf_counter()
        finally:
            await producer.stop()
        deadline = time.monotonic() + events_timeout_s(len(messages))
        count = await arrived()
        while count < len(messages) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            count = await arrived()
        finished = time.perf_counter()
        measurement = Measurement(figures={
            f"{KAFKA}_events_per_s": count / (finished - started) if count == len(messages) else None,
            f"{KAFKA}_produce_events_per_s": len(messages) / (produced - started),
            **await cpu.figures(KAFKA)})
        if count < len(messages):
            measurement.errors.append(f"Kafka catch-up: {len(messages) - count} of {len(messages)} events never in "
                                      f"the events table (see {env.log_path})")
        return measurement

    async def targets(self, api: httpx.AsyncClient) -> Targets:
        inbox = await api.get("/v1/inbox")
        if inbox.status_code != 200:
            raise RuntimeError(f"GET /v1/inbox: HTTP {inbox.status_code}: {inbox.text[:300]}")
        orders = await self.connection.fetchval("SELECT count(*) FROM order_facts")
        end, start = self.world.now, self.world.now - timedelta(days=self.options.days)
        return Targets(order_id=self.target.order_id, external_order_id=self.target.external_order_id,
                       inbox_last_page=max(1, math.ceil(inbox.json()["total"] / 50)),
                       orders_deep_page=deep_orders_page(orders),
                       api_from=start.strftime("%Y-%m-%dT%H:%M:%SZ"), api_to=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       console_from=start.strftime("%Y-%m-%dT%H:%M"), console_to=end.strftime("%Y-%m-%dT%H:%M"))

    async def measure_pages(self, env: ServiceUnderTest) -> Measurement:
        """Every page `requests` times, round-robin (so noise spreads over all pages), one request at a time."""
        options = self.options
        measurement = Measurement()
        async with (httpx.AsyncClient(base_url=env.base_url, trust_env=False, timeout=120.0,
                                      headers=admin_headers()) as api,
                    httpx.AsyncClient(base_url=env.base_url, trust_env=False, timeout=120.0,
                                      cookies={SESSION_COOKIE: self.session_id}) as console):
            targets = await self.targets(api)
            urls = [(page, page.path.format(**targets.__dict__)) for page in pages(options.orders)]
            samples: dict[str, list[float]] = {page.figure: [] for page, _ in urls}
            failed: Counter[str] = Counter()
            for round_number in range(options.warmup_requests + options.requests):
                for page, url in urls:
                    client = console if page.console else api
                    started = time.perf_counter()
                    response = await client.get(url)
                    elapsed_ms = 1000 * (time.perf_counter() - started)
                    if response.status_code != 200:
                        failed[f"GET {url}: HTTP {response.status_code}: {response.text[:200]}"] += 1
                    elif round_number >= options.warmup_requests:
                        samples[page.figure].append(elapsed_ms)
        measurement.errors += [f"{error} ({times}×)" for error, times in failed.items()]
        medians = {}
        for figure, values in samples.items():
            medians[figure] = percentile(values, 0.5)
            measurement.figures[f"{figure}_p50_ms"] = medians[figure]
            measurement.figures[f"{figure}_p95_ms"] = percentile(values, 0.95)
        measured = [value for value in medians.values() if value is not None]
        measurement.figures["slowest_page_p50_ms"] = max(measured) if len(measured) == len(medians) else None
        slow = sorted(((value, figure) for figure, value in medians.items() if value and value >= PAGE_TARGET_MS),
                      reverse=True)
        if slow:
            self.say("  pages with a median of 300 ms or more: " + ", ".join(
                f"{figure} {value:.0f} ms" for value, figure in slow))
        measurement.figures.update(await self.read_model_figures(env))
        return measurement

    async def read_model_figures(self, env: ServiceUnderTest) -> dict[str, float | None]:
        """The read model's size, and how long the service's business-alerts job takes on it (run here, on the
        same database, as the service runs it every 30 s)."""
        row = await self.connection.fetchrow(
            "SELECT (SELECT count(*) FROM order_facts) AS orders, (SELECT count(*) FROM events) AS events, "
            "(SELECT count(*) FROM inbox_items WHERE status = 'open' AND visible_from <= now()) AS open_items, "
            "pg_database_size(current_database()) AS bytes")
        database = Database(env.database_url(), pool_size=1)
        try:
            started = time.perf_counter()
            async with SqlControlUnitOfWork(database) as uow:
                await evaluate_alerts(uow, ControlSettings())
            alerts_ms = 1000 * (time.perf_counter() - started)
        finally:
            await database.dispose()
        return {"orders_in_read_model": row["orders"], "events_in_read_model": row["events"],
                "open_inbox_items": row["open_items"], "database_mb": row["bytes"] / 1e6,
                "alerts_evaluation_ms": alerts_ms}


def main(argv: list[str] | None = None) -> int:
    return run_main(ConsoleBenchmark, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
