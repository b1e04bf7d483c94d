"""Scan benchmark: scans/s applied by the warehouse service, sustained, from warehouse.scans.v1 to its
movement ledger (or its exception queue), and the latency of one scan at a steady rate.

It runs against the real broker and PostgreSQL (KAFKA_BOOTSTRAP_SERVERS, POSTGRES_ADMIN_URL) and starts
the warehouse service as a real process on a database and a topic prefix of its own, removed at the end.

    make bench-scans BENCH_ARGS="--repeats 5 --json .local/bench-scans.json"
    .venv/bin/python tools/bench_scans.py --quick          # seconds, for the smoke test

The layout: 3 warehouses, each a receiving dock and 200 storage bins (PUT /v1/warehouses/{node}/locations),
1,000 SKUs. Each SKU x warehouse is worked by one handheld of that warehouse (50 devices in all; the device
id is the message key) and has 3 home bins among the 200: it is received onto the dock against its purchase
order (seeded by POST /v1/receipts: a receive without one books nothing, it waits in the exception queue for
a supervisor), put away in part or in full into a home bin (where it becomes sellable) and moved between its
home bins. Kafka keeps the order of a key only, so all scans of a SKU x warehouse come from one device: then
each is valid when applied, and the benchmark knows the stock every scan leaves. All scans are drawn (from
--seed) before the service starts.

1 % of the messages resend an earlier scan of the same device (same scan_id: applied once), 1 % are scans
that must be refused into the exception queue (an unknown location, or a move of more than the bin holds).

A scan counts as handled when its movement row or its exception is committed: the benchmark reads the
service's database. scans/s = the run's unique scans / (first send -> all of them committed), the counts
polled every 50 ms. The latency of a valid scan at a steady rate: its send -> its commit, seen by polling
the service's inbox (written in the transaction that writes the movement) every 5 ms, so it reads late
by 2.5 ms on average. Every valid scan must end up in the ledger exactly once, every invalid one in the
exception queue with its reason; at the end the balances, sellable levels and receipts must be exactly
what the scans add up to, and GET /v1/reconciliation ok. Anything else is an error (exit code 1).
The machine may be shared and noisy, so every measure is repeated and the median is reported.
"""

import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from ecomops_common.contracts import WAREHOUSE_SCANS
from ecomops_common.contracts.warehouse import Scan

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ is not a package

from benchlib import (
    Benchmark,
    BenchOptions,
    BenchReport,
    Breakdown,
    CpuMeter,
    Measurement,
    Message,
    Row,
    ServiceUnderTest,
    bench_producer,
    consumer_figures,
    cpu_rows,
    duration_option,
    events_timeout_s,
    latency_figures,
    metric_delta,
    option,
    outbox_figures,
    produce_all,
    produce_at_fixed_rate,
    rate_option,
    repeat_phases,
    run_main,
)

# The service's scan consumer: its metrics carry this name after the topic prefix; its inbox, without.
SCANS_CONSUMER = "warehouse-service.scans"
MEASURE = "scans"  # the figures' prefix: scans_per_s, scans_latency_p99_ms, service_cpu_pct_scans, ...
COUNT_POLL_S = 0.05  # how often the throughput run counts the committed scans
COMMIT_POLL_S = 0.005  # how often the latency run looks for the commits of the scans in flight
STALL_S = 60.0  # a run whose count has not moved for this long is given up

# ------------------------------------------------------------------------------------------- the layout

NODES = ("AMS1", "BER1", "PAR1")
DOCK = "DOCK-01"
BINS = tuple(f"BIN-{number:03d}" for number in range(1, 201))
SKU_COUNT = 1000
DEVICE_COUNT = 50
HOME_BINS = 3  # per SKU x warehouse
SKUS_PER_ORDER = 50  # SKUs per purchase order of a warehouse

# ---------------------------------------------------------------------------------------- the scan mix

KIND_WEIGHTS = {"receive": 20, "putaway": 40, "move": 40}  # of the valid scans, once there is stock to work
STREAM_TRIES = 50  # random SKU x warehouses tried for a putaway or a move before receiving instead
RECEIVE_UNITS = (6, 48)
WHOLE_PUTAWAY_SHARE = 0.5  # putaways of everything on the dock; the others put away part of it
WHOLE_MOVE_SHARE = 0.3
EVERY = 100  # of each 100 messages: one invalid scan and one resend
INVALID_AT, RESEND_AT = 50, 99
RESEND_WINDOW = 10  # a resend repeats one of the device's last 10 messages
UNKNOWN_DOCK, UNKNOWN_BIN = "DOCK-99", "BIN-999"
PENDING, SELLABLE = "received_pending_putaway", "sellable"


@dataclass
class ItemStream:
    """One SKU at one warehouse: its device, its home bins and the stock its scans so far leave."""

    sku: str
    node: str
    device: str
    operator: str
    bins: tuple[str, ...]
    purchase_order: str
    dock: int = 0
    held: dict[str, int] = field(default_factory=dict)


@dataclass
class RunPlan:
    """The messages of one measurement and what each unique scan must come to."""

    tag: str
    messages: list[Message] = field(default_factory=list)  # (scan id, device id, scan JSON, no headers)
    applied: set[str] = field(default_factory=set)  # valid scans: one movement each
    refused: dict[str, str] = field(default_factory=dict)  # invalid scans: their exception reason
    kinds: Counter[str] = field(default_factory=Counter)  # valid scans by kind

    @property
    def unique(self) -> int:
        return len(self.applied) + len(self.refused)

    @property
    def resends(self) -> int:
        return len(self.messages) - self.unique


class ScanMix:
    """The layout, the devices and a deterministic stream of scans per measurement, drawn in the order the
    measurements run: each continues from the stock the ones before it leave."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = random.Random(f"{seed}:layout")
        devices: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for number in range(DEVICE_COUNT):
            node = NODES[number % len(NODES)]
            devices[node].append((f"{node}-HH{number:02d}", f"op-{number:02d}"))
        self.streams: list[ItemStream] = []
        for sku_number in range(SKU_COUNT):
            sku = f"SKU-{sku_number:04d}"
            for node in NODES:
                device, operator = rng.choice(devices[node])
                self.streams.append(ItemStream(sku, node, device, operator, tuple(rng.sample(BINS, HOME_BINS)),
                                               f"PO-{node}-{sku_number // SKUS_PER_ORDER:03d}"))
        self.ordered: dict[str, Counter[str]] = defaultdict(Counter)  # purchase order -> SKU -> units received
        self._clock = datetime.now(UTC).replace(microsecond=0)

    def run(self, tag: str, count: int) -> RunPlan:
        rng = random.Random(f"{self.seed}:{tag}")
        plan = RunPlan(tag)
        recent: dict[str, list[Message]] = defaultdict(list)  # device -> its last messages
        for number in range(count):
            if number % EVERY == RESEND_AT and recent:
                plan.messages.append(rng.choice(rng.choice(list(recent.values()))))
                continue
            scan_id = f"{tag}-{plan.unique}"
            if number % EVERY == INVALID_AT:
                stream = rng.choice(self.streams)
                fields, reason = self._invalid(rng, stream)
                plan.refused[scan_id] = reason
            else:
                kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
                stream, kind = self._stream_for(rng, kind)
                fields = self._valid(rng, stream, kind)
                plan.applied.add(scan_id)
                plan.kinds[kind] += 1
            self._clock += timedelta(milliseconds=20)
            document = Scan(scan_id=scan_id, device_id=stream.device, operator_id=stream.operator,
                            warehouse_id=stream.node, scanned_at=self._clock, sku=stream.sku, **fields)
            message = (scan_id, stream.device.encode(), document.model_dump_json(exclude_none=True).encode(), None)
            plan.messages.append(message)
            sent = recent[stream.device]
            sent.append(message)
            del sent[:-RESEND_WINDOW]
        return plan

    def _stream_for(self, rng: random.Random, kind: str) -> tuple[ItemStream, str]:
        """A SKU x warehouse where a scan of `kind` can be made (units on the dock to put away, in a bin to
        move); a receive where none is found, as at the start when nothing was received yet."""
        for _ in range(STREAM_TRIES):
            stream = rng.choice(self.streams)
            if kind == "receive" or (kind == "putaway" and stream.dock) or (kind == "move" and any(
                    stream.held.values())):
                return stream, kind
        return stream, "receive"

    def _valid(self, rng: random.Random, stream: ItemStream, kind: str) -> dict[str, Any]:
        """The stream's next scan of `kind`, and the stock it leaves."""
        if kind == "receive":
            units = rng.randint(*RECEIVE_UNITS)
            self.ordered[stream.purchase_order][stream.sku] += units
            stream.dock += units
            return {"kind": kind, "quantity": units, "location": DOCK, "reference": stream.purchase_order}
        if kind == "putaway":
            units = stream.dock if rng.random() < WHOLE_PUTAWAY_SHARE else rng.randint(1, stream.dock)
            target = rng.choice(stream.bins)
            stream.dock -= units
            stream.held[target] = stream.held.get(target, 0) + units
            return {"kind": kind, "quantity": units, "location": DOCK, "to_location": target}
        source = rng.choice([code for code in stream.bins if stream.held.get(code)])
        target = rng.choice([code for code in stream.bins if code != source])
        units = stream.held[source] if rng.random() < WHOLE_MOVE_SHARE else rng.randint(1, stream.held[source])
        stream.held[source] -= units
        stream.held[target] = stream.held.get(target, 0) + units
        return {"kind": kind, "quantity": units, "location": source, "to_location": target}

    @staticmethod
    def _invalid(rng: random.Random, stream: ItemStream) -> tuple[dict[str, Any], str]:
        """A scan the service must refuse, and the reason it must give; the stock stays as it is."""
        choice = rng.randrange(3)
        if choice == 0:
            return {"kind": "receive", "quantity": rng.randint(*RECEIVE_UNITS), "location": UNKNOWN_DOCK}, \
                "unknown_location"
        if choice == 1:
            return {"kind": "putaway", "quantity": 1, "location": DOCK, "to_location": UNKNOWN_BIN}, \
                "unknown_location"
        source, target = rng.sample(stream.bins, 2)
        return {"kind": "move", "quantity": stream.held.get(source, 0) + rng.randint(1, 5), "location": source,
                "to_location": target}, "quantity_above_stock"

    # --- what the service must hold when every planned scan was applied ---------------------------------

    def expected_balances(self) -> dict[tuple[str, str, str, str], int]:
        balances = {}
        for stream in self.streams:
            if stream.dock:
                balances[stream.sku, stream.node, DOCK, PENDING] = stream.dock
            for code, units in stream.held.items():
                if units:
                    balances[stream.sku, stream.node, code, SELLABLE] = units
        return balances

    def expected_sellable(self) -> dict[tuple[str, str], int]:
        return {(stream.sku, stream.node): sum(stream.held.values()) for stream in self.streams}

    def receipts(self) -> list[dict[str, Any]]:
        """The purchase orders, each expecting exactly what the scans will receive against it."""
        return [{"reference": reference, "node": reference.split("-")[1],
                 "lines": [{"sku": sku, "quantity": units} for sku, units in sorted(lines.items())]}
                for reference, lines in sorted(self.ordered.items())]


# ---------------------------------------------------------------------------------------------- options


@dataclass
class ScansOptions(BenchOptions):
    unit = "scans"
    rate: float = rate_option(500.0)
    duration_s: float = duration_option(10.0)
    scans: int = option(50_000, "scan messages produced flat out, resends included", quick=500)
    seed: int = option(1, "draws the devices, home bins and scans", must_be=None)
    warmup_scans: int = option(500, "unmeasured scans first", quick=50, must_be="non-negative")


# ------------------------------------------------------------------------------ what the service wrote


class Ledger:
    """Reads what the service committed, on a connection of its own to the benchmark's database."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        self.connection = await asyncpg.connect(self.dsn)

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def last_movement_id(self) -> int:
        """Taken before a measurement, once every earlier scan is committed: its movements are those above."""
        return await self.connection.fetchval("SELECT coalesce(max(id), 0) FROM movements")

    async def handled(self, base: int, tag: str) -> int:
        """Scans of the measurement applied (movements above `base`) or refused (exceptions of its tag)."""
        return await self.connection.fetchval(
            "SELECT (SELECT count(*) FROM movements WHERE id > $1)"
            " + (SELECT count(*) FROM scan_exceptions WHERE scan_id LIKE $2)", base, f"{tag}-%")

    async def wait_handled(self, base: int, plan: RunPlan, timeout_s: float,
                           samples: list[tuple[float, int]] | None = None) -> tuple[float | None, int]:
        """Polls until every unique scan of `plan` is handled; returns when that was first seen (None: never,
        after `timeout_s` or STALL_S without progress) and how many were. `samples` gets (time, handled)."""
        deadline = time.perf_counter() + timeout_s
        last_change, count = time.perf_counter(), -1
        while True:
            polled_at = time.perf_counter()  # the commits counted happened before the query's snapshot
            handled = await self.handled(base, plan.tag)
            if samples is not None:
                samples.append((polled_at, handled))
            if handled >= plan.unique:
                return polled_at, handled
            if handled != count:
                last_change, count = polled_at, handled
            if polled_at > deadline or polled_at - last_change > STALL_S:
                return None, handled
            await asyncio.sleep(COUNT_POLL_S)

    async def check_run(self, plan: RunPlan, base: int, measure: str) -> Measurement:
        """Every valid scan of the run applied exactly once, every invalid one refused with its reason."""
        applied = Counter({row["scan_id"]: row["times"] for row in await self.connection.fetch(
            "SELECT scan_id, count(*) AS times FROM movements WHERE id > $1 GROUP BY scan_id", base)})
        refused = {row["scan_id"]: row["reason"] for row in await self.connection.fetch(
            "SELECT scan_id, reason FROM scan_exceptions WHERE scan_id LIKE $1", f"{plan.tag}-%")}
        problems = {
            "valid scans neither applied nor refused (lost)":
                [scan for scan in plan.applied if scan not in applied and scan not in refused],
            "valid scans refused": [f"{scan} ({refused[scan]})" for scan in plan.applied if scan in refused],
            "scans applied more than once": [scan for scan, times in applied.items() if times > 1],
            "invalid scans applied": [scan for scan in plan.refused if scan in applied],
            "invalid scans neither refused nor applied (lost)":
                [scan for scan in plan.refused if scan not in refused and scan not in applied],
            "invalid scans refused for another reason": [
                f"{scan} ({refused[scan]}, expected {reason})" for scan, reason in plan.refused.items()
                if scan in refused and refused[scan] != reason],
            "movements of scans not sent in this run": [scan for scan in applied if scan not in plan.applied
                                                        and scan not in plan.refused],
        }
        measurement = Measurement(figures={"refused_pct": 100 * len(refused) / plan.unique if plan.unique else None})
        for problem, scans in problems.items():
            if scans:
                examples = ", ".join(str(scan) for scan in sorted(scans, key=str)[:3])
                measurement.errors.append(f"{measure}: {len(scans)} {problem} (e.g. {examples})")
        return measurement

    async def check_state(self, mix: ScanMix, plans: list[RunPlan]) -> list[str]:
        """The whole ledger, the balances, the sellable levels and the receipts against what the scans of
        `plans` (all of them sent) add up to."""
        errors = []
        movements, distinct = await self.connection.fetchrow("SELECT count(*), count(DISTINCT scan_id) FROM movements")
        valid = sum(len(plan.applied) for plan in plans)
        if movements != valid or distinct != valid:
            errors.append(f"ledger: {movements} movements of {distinct} scans, expected one for each of "
                          f"{valid} valid scans")
        expected = mix.expected_balances()
        actual: dict[tuple[str, str, str, str], int] = {}
        for row in await self.connection.fetch("SELECT sku, node, location, status, lot, units FROM stock_balances"):
            if row["lot"]:
                errors.append(f"balances: a lot where none was scanned: {dict(row)}")
            actual[row["sku"], row["node"], row["location"], row["status"]] = row["units"]
        differ = sorted(key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key))
        if differ:
            errors.append(f"balances: {len(differ)} of {len(expected)} positions differ from what the scans add "
                          f"up to, e.g. " + "; ".join(f"{key}: {actual.get(key)} held, {expected.get(key)} expected"
                                                      for key in differ[:3]))
        sellable = {(row["sku"], row["node"]): row["sellable"]
                    for row in await self.connection.fetch("SELECT sku, node, sellable FROM stock_levels")}
        differ = sorted(key for key, units in mix.expected_sellable().items() if sellable.get(key, 0) != units)
        if differ:
            errors.append(f"stock levels: {len(differ)} SKU x warehouses with a sellable on-hand other than "
                          f"their bins hold, e.g. {differ[:3]}")
        ordered = {receipt["reference"]: {line["sku"]: line["quantity"] for line in receipt["lines"]}
                   for receipt in mix.receipts()}
        received = {row["reference"]: json.loads(row["received"])
                    for row in await self.connection.fetch("SELECT reference, received FROM expected_receipts")}
        differ = sorted(reference for reference in ordered if received.get(reference) != ordered[reference])
        if differ:
            errors.append(f"receipts: {len(differ)} of {len(ordered)} purchase orders not received exactly as "
                          f"scanned, e.g. {differ[:3]}")
        return errors


class CommitWatcher:
    """Notes, per scan it is told to expect, when its inbox mark was first seen committed (time.perf_counter(),
    the clock the sender uses too): the service writes it in the transaction that applies the scan. It polls
    the scans in flight by primary key, so it does not depend on the order the service commits them in."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pending: set[str] = set()
        self.seen_at: dict[str, float] = {}
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._connection = await asyncpg.connect(self.dsn)
        self._task = asyncio.create_task(self._poll_forever(), name="commit-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()

    def expect(self, scan_id: str) -> None:
        self.pending.add(scan_id)

    async def _poll_forever(self) -> None:
        while True:
            if self.pending:
                polled_at = time.perf_counter()  # the commits seen happened before the query's snapshot
                rows = await self._connection.fetch(
                    "SELECT event_id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])",
                    SCANS_CONSUMER, list(self.pending))
                for (scan_id,) in rows:
                    self.seen_at[scan_id] = polled_at
                    self.pending.discard(scan_id)
            await asyncio.sleep(COMMIT_POLL_S)

    async def wait_all(self, timeout_s: float) -> int:
        """Waits until every expected scan was seen; returns how many were not."""
        deadline = time.monotonic() + timeout_s
        while self.pending and time.monotonic() < deadline:
            if self._task.done():
                self._task.result()  # the poller died: raise its error
            await asyncio.sleep(COUNT_POLL_S)
        return len(self.pending)


# ----------------------------------------------------------------------------------------- measurements


def mix_figures(plan: RunPlan) -> dict[str, float | None]:
    """How the run's messages split: valid scans by kind, invalid ones and resends."""
    valid = sum(plan.kinds.values())
    figures = {f"{kind}_pct": 100 * plan.kinds[kind] / valid if valid else None for kind in KIND_WEIGHTS}
    figures["invalid_pct"] = 100 * len(plan.refused) / len(plan.messages)
    figures["resent_pct"] = 100 * plan.resends / len(plan.messages)
    return figures


def steady_rate(samples: list[tuple[float, int]], total: int) -> float | None:
    """scans/s between the first counts of 10 % and of 90 % of the run: without the ramp-up and the tail."""
    low = next(((at, count) for at, count in samples if count >= 0.1 * total), None)
    high = next(((at, count) for at, count in samples if count >= 0.9 * total), None)
    if low is None or high is None or high[0] <= low[0]:
        return None
    return (high[1] - low[1]) / (high[0] - low[0])


async def send_and_wait_handled(env: ServiceUnderTest, ledger: Ledger, plan: RunPlan, what: str) -> list[str]:
    """Sends a plan's messages, unmeasured, and waits for every scan; the errors of its check."""
    base = await ledger.last_movement_id()
    await produce_all(env.kafka_bootstrap, env.topic(WAREHOUSE_SCANS), plan.messages)
    finished, handled = await ledger.wait_handled(base, plan, 120.0)
    if finished is None:
        raise RuntimeError(f"{what}: {plan.unique - handled} of {plan.unique} scans never handled "
                           f"(see {env.log_path})")
    return (await ledger.check_run(plan, base, what)).errors


async def measure_throughput(env: ServiceUnderTest, ledger: Ledger, plan: RunPlan) -> Measurement:
    """The run's messages produced flat out; scans/s = unique scans / (first send -> all committed)."""
    base = await ledger.last_movement_id()
    scans_topic = env.topic(WAREHOUSE_SCANS)
    producer = bench_producer(env.kafka_bootstrap, linger_ms=10)
    await producer.start()
    cpu = await CpuMeter(env.service_pid, postgres=ledger.connection).start()
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()
    # Counting from the first send on: the service applies scans while the rest are still being produced.
    counting = asyncio.create_task(ledger.wait_handled(base, plan, events_timeout_s(plan.unique), samples))
    try:
        deliveries = [await producer.send(scans_topic, value=value, key=key, headers=headers)
                      for _, key, value, headers in plan.messages]
        await asyncio.gather(*deliveries)
        produced = time.perf_counter()
    except BaseException:
        counting.cancel()
        await asyncio.gather(counting, return_exceptions=True)
        raise
    finally:
        await producer.stop()
    finished, handled = await counting
    cpu_figures = await cpu.figures(MEASURE)
    measurement = await ledger.check_run(plan, base, "throughput")
    if finished is None:
        measurement.errors.insert(0, f"throughput: {plan.unique - handled} of {plan.unique} scans never handled")
    measurement.figures.update({
        f"{MEASURE}_per_s": plan.unique / (finished - started) if finished else None,
        f"{MEASURE}_steady_per_s": steady_rate(samples, plan.unique),
        f"{MEASURE}_produce_per_s": len(plan.messages) / (produced - started),
        **mix_figures(plan),
        **cpu_figures,
    })
    return measurement


async def measure_latency(env: ServiceUnderTest, ledger: Ledger, watcher: CommitWatcher, plan: RunPlan,
                          rate: float, duration_s: float) -> Measurement:
    """The run's messages produced at a fixed rate; latency of a valid scan = its commit - its produce call
    (its first one: a resend is not timed)."""
    base = await ledger.last_movement_id()
    sent_at: dict[str, float] = {}

    def sending(scan_id: str) -> None:
        if scan_id in plan.applied and scan_id not in sent_at:
            sent_at[scan_id] = time.perf_counter()
            watcher.expect(scan_id)

    _, achieved = await produce_at_fixed_rate(env.kafka_bootstrap, env.topic(WAREHOUSE_SCANS), plan.messages, rate,
                                              duration_s, sending)
    timeout_s = events_timeout_s(plan.unique)
    missing = await watcher.wait_all(timeout_s)
    finished, handled = await ledger.wait_handled(base, plan, timeout_s)
    measurement = await ledger.check_run(plan, base, "latency")
    if finished is None:
        measurement.errors.insert(0, f"latency: {plan.unique - handled} of {plan.unique} scans never handled")
    elif missing:
        measurement.errors.insert(0, f"latency: {missing} of {len(sent_at)} valid scans' commits never seen")
    measurement.figures = {**latency_figures(sent_at, watcher.seen_at, MEASURE), f"{MEASURE}_achieved_rate": achieved}
    return measurement


# ------------------------------------------------------------------------------------------- the benchmark


def service_breakdown(env: ServiceUnderTest) -> Breakdown:
    consumer = env.topic_prefix + SCANS_CONSUMER

    def breakdown(before: dict[tuple, float], after: dict[tuple, float]) -> dict[str, float | None]:
        """From the service's own metrics over one measurement: its scan batches, resends skipped, dead
        letters and the relay of its StockLevelChanged events."""
        return {
            **consumer_figures(before, after, consumer=consumer),
            # Counted under the inbox's name, which has no topic prefix.
            "duplicates_skipped": metric_delta(before, after, "ecomops_duplicates_skipped_total",
                                               consumer=SCANS_CONSUMER),
            "dead_letters": metric_delta(before, after, "ecomops_dead_letters_total"),
            **outbox_figures(before, after),
        }

    return breakdown


class ScansBenchmark(Benchmark):
    Options = ScansOptions
    options: ScansOptions
    service, name = "warehouse", "scans"
    reconciles = True

    def subject(self) -> str:
        return (f"Scans: {len(NODES)} warehouses x ({len(BINS)} bins + a dock), {SKU_COUNT} SKUs, {DEVICE_COUNT} "
                f"devices, {self.options.scans} scan messages flat out")

    def rows(self) -> list[Row]:
        at = f"@{self.options.rate:g}/s"
        return [
            Row("scans_per_s", "scans/s applied or refused, sustained (first send -> all committed)", (">=", 2000)),
            Row("scans_steady_per_s", "scans/s from 10 % to 90 % committed (throughput run)"),
            Row("scans_latency_p50_ms", f"p50 ms send -> applied {at}", digits=1),
            Row("scans_latency_p99_ms", f"p99 ms send -> applied {at}", digits=1),
            # For reading the ones above: the mix as sent, is the load generator keeping up?
            Row("receive_pct", "receive % of valid scans (throughput run)", digits=1),
            Row("putaway_pct", "putaway % of valid scans (throughput run)", digits=1),
            Row("move_pct", "move % of valid scans (throughput run)", digits=1),
            Row("invalid_pct", "invalid % of messages (throughput run)", digits=1),
            Row("refused_pct", "refused % of unique scans (throughput run)", digits=1),
            Row("resent_pct", "resent % of messages (throughput run)", digits=1),
            Row("scans_achieved_rate", "achieved scans/s (latency run)", digits=1),
            Row("scans_produce_per_s", "produce scans/s (generator, throughput run)"),
            *cpu_rows(MEASURE, "throughput run", postgres=True),
        ]

    def draw(self) -> str:
        """Every scan of the benchmark, in the order the measurements run, and the purchase orders they need."""
        self.mix = ScanMix(self.options.seed)
        self.plans = self.drawn_up_front(self.mix.run, self.options.warmup_scans, self.options.scans)
        self.receipts = self.mix.receipts()
        return f"{sum(len(plan.messages) for plan in self.plans.values())} scan messages"

    async def seed(self, env: ServiceUnderTest) -> str:
        async with env.admin_client() as client:
            for node in NODES:
                locations = [{"code": DOCK, "kind": "receiving"}, *({"code": code, "kind": "storage"} for code in BINS)]
                response = await client.put(f"/v1/warehouses/{node}/locations", json={"locations": locations})
                if response.status_code != 200:
                    raise RuntimeError(f"PUT locations of {node}: HTTP {response.status_code}: "
                                       f"{response.text[:300]}")
            for receipt in self.receipts:
                response = await client.post("/v1/receipts", json=receipt)
                if response.status_code != 201:
                    raise RuntimeError(f"POST receipt {receipt['reference']}: HTTP {response.status_code}: "
                                       f"{response.text[:300]}")
        return f"{len(NODES)} warehouses x ({len(BINS)} bins + a dock) and {len(self.receipts)} purchase orders"

    async def measure(self, env: ServiceUnderTest, report: BenchReport) -> None:
        options, plans = self.options, self.plans
        ledger, watcher = Ledger(env.database_dsn()), CommitWatcher(env.database_dsn())
        await ledger.start()
        await watcher.start()
        try:
            if plans["warmup"].messages:
                report.errors.extend(await send_and_wait_handled(env, ledger, plans["warmup"], "warm-up"))
            phases = [
                ("throughput", lambda tag: measure_throughput(env, ledger, plans[tag])),
                ("latency", lambda tag: measure_latency(env, ledger, watcher, plans[tag], options.rate,
                                                        options.duration_s)),
            ]
            if await repeat_phases(env, phases, options.repeats, service_breakdown(env), report, self.say):
                state_errors = await ledger.check_state(self.mix, list(plans.values()))
                report.errors.extend(state_errors)
                self.say("ledger, balances, sellable levels and receipts against the scans: "
                         + ("ok" if not state_errors else f"{len(state_errors)} errors"))
            else:
                self.say("not every scan was sent: the stock is not checked against them")
        finally:
            await watcher.stop()
            await ledger.stop()


def main(argv: list[str] | None = None) -> int:
    return run_main(ScansBenchmark, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
