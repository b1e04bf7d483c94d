"""Allocation benchmark: orders/s from OrderPlaced on order.events.v1 to the order's allocation result
(OrderAllocated or OrderBackordered) on allocation.events.v1, and that latency at a steady rate.

It runs against the real broker and PostgreSQL (KAFKA_BOOTSTRAP_SERVERS, POSTGRES_ADMIN_URL) and starts
the allocation service as a real process on a database and a topic prefix of its own, removed at the end.

    make bench-allocation BENCH_ARGS="--repeats 5 --json .local/bench-allocation.json"
    .venv/bin/python tools/bench_allocation.py --quick      # seconds, for the smoke test

The catalogue: 1,000 SKUs over 3 nodes (3,000 positions, seeded by PUT /v1/stock). 980 SKUs are stocked
at two of the three nodes, each of them deep enough for the whole benchmark's demand of that SKU, so those
never run short and multi-line orders sometimes ship from two nodes. 20 SKUs are short: on hand 2 and
safety stock 2 everywhere, nothing to promise. The stock is seeded once, for every run: all orders of the
benchmark are drawn (from --seed) before the service starts, and their demand sizes the stock.

The orders: 1-4 lines (50/30/15/5 %), 1-3 units a line, SKUs drawn with a Zipf skew (a few hot SKUs take
much of the demand), four channels (one with sourcing rules by country, a marketplace with a protected
quantity), 15 % express, 5 % VIP, five ship-to countries. 5 % of the orders have one line of a short SKU:
those come back partially allocated (multi-line) or backordered (one line); every other order must come
back allocated in full. A result that differs is an error, as is drift at the end (GET /v1/reconciliation).

An order's result counts when it is read back from Kafka, the first one per order id: that is what the
order service sees, so the figures include the transactional outbox and its relay. The machine may be
shared and noisy, so every measure is repeated and the median is reported.
"""

import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

from ecomops_common.contracts import ALLOCATION_EVENTS, ORDER_EVENTS
from ecomops_common.testing.samples import order_placed

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ is not a package

from benchlib import (
    Benchmark,
    BenchOptions,
    BenchReport,
    Breakdown,
    FirstEventWatcher,
    Measurement,
    Message,
    Row,
    ServiceUnderTest,
    consumer_figures,
    cpu_rows,
    measure_fixed_rate,
    measure_flat_out,
    option,
    outbox_figures,
    produce_all,
    repeat_phases,
    run_main,
)

# The service's consumer of order events; its metrics carry this name after the topic prefix.
ORDER_EVENTS_CONSUMER = "allocation-service.order-events"
RESULT_EVENTS = ("OrderAllocated", "OrderBackordered")
MEASURE = "allocation"  # the figures' prefix: allocation_orders_per_s, allocation_latency_p99_ms, ...
STOCK_CHUNK = 5000  # PUT /v1/stock takes at most this many levels per call

# ---------------------------------------------------------------------------------------- the order mix

NODES = ("AMS1", "BER1", "PAR1")
SKU_COUNT = 1000
SHORT_SKU_COUNT = 20
SHORT_SHARE = 0.05  # orders with one line of a short SKU
SKU_SKEW = 1.0  # Zipf exponent of the SKU popularity: the top SKU takes ~13 % of the normal lines
LINE_COUNTS = {1: 50, 2: 30, 3: 15, 4: 5}  # lines per order: weight
MAX_QUANTITY = 3
CHANNELS = {"web-eu": 50, "app-eu": 25, "marketplace-amz": 20, "b2b-eu": 5}
COUNTRIES = {"DE": 40, "FR": 25, "NL": 15, "AT": 10, "IT": 10}
EXPRESS_SHARE = 0.15
VIP_SHARE = 0.05
SAFETY_STOCK = 5  # at every stocked node of a normal SKU
MARKETPLACE_PROTECTED = 3
CHANNEL_RULES = {
    "web-eu": {"node_priority": {"DE": ["BER1", "AMS1", "PAR1"], "AT": ["BER1", "AMS1", "PAR1"],
                                 "FR": ["PAR1", "AMS1", "BER1"], "NL": ["AMS1", "BER1", "PAR1"]},
               "node_cost": {"AMS1": "4.90", "BER1": "4.50", "PAR1": "5.20"}},
    "marketplace-amz": {"protected_quantity": MARKETPLACE_PROTECTED},
}


@dataclass(frozen=True)
class OrderSpec:
    order_id: str
    lines: tuple[tuple[str, str, int], ...]  # (line id, sku, quantity)
    channel: str
    tier: str
    service_level: str
    country: str
    short: bool  # one line is of a short SKU

    @property
    def expected_status(self) -> str:
        if not self.short:
            return "allocated"
        return "backordered" if len(self.lines) == 1 else "partially_allocated"


class OrderMix:
    """The catalogue and a deterministic stream of orders per measurement (from the seed and its tag)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        skus = [f"SKU-{number:04d}" for number in range(SKU_COUNT)]
        self.normal_skus = skus[:SKU_COUNT - SHORT_SKU_COUNT]
        self.short_skus = skus[SKU_COUNT - SHORT_SKU_COUNT:]
        # Which SKUs are hot is drawn from the seed too, so popularity is not tied to the SKU number.
        popularity = random.Random(f"{seed}:popularity").sample(self.normal_skus, len(self.normal_skus))
        self._popular = popularity
        self._cumulative = list(accumulate(1 / (rank + 1) ** SKU_SKEW for rank in range(len(popularity))))

    def orders(self, tag: str, count: int) -> list[OrderSpec]:
        rng = random.Random(f"{self.seed}:{tag}")
        return [self._order(rng, f"{tag}-{number}") for number in range(count)]

    def _order(self, rng: random.Random, order_id: str) -> OrderSpec:
        line_count = rng.choices(list(LINE_COUNTS), weights=list(LINE_COUNTS.values()))[0]
        skus: list[str] = []
        while len(skus) < line_count:
            sku = rng.choices(self._popular, cum_weights=self._cumulative)[0]
            if sku not in skus:
                skus.append(sku)
        short = rng.random() < SHORT_SHARE
        if short:
            skus[rng.randrange(line_count)] = rng.choice(self.short_skus)
        return OrderSpec(
            order_id=order_id,
            lines=tuple((str(number), sku, rng.randint(1, MAX_QUANTITY)) for number, sku in enumerate(skus, 1)),
            channel=rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0],
            tier="vip" if rng.random() < VIP_SHARE else "standard",
            service_level="express" if rng.random() < EXPRESS_SHARE else "standard",
            country=rng.choices(list(COUNTRIES), weights=list(COUNTRIES.values()))[0],
            short=short,
        )

    def stock_levels(self, orders: list[OrderSpec]) -> list[dict[str, Any]]:
        """3,000 levels: every normal SKU at two nodes, each deep enough for all of `orders`; short SKUs
        with nothing to promise anywhere."""
        demand: Counter[str] = Counter()
        for order in orders:
            for _, sku, quantity in order.lines:
                demand[sku] += quantity
        levels = []
        for number, sku in enumerate(self.normal_skus):
            depth = demand[sku] + SAFETY_STOCK + MARKETPLACE_PROTECTED + 10
            for node_number, node in enumerate(NODES):
                stocked = node_number != number % len(NODES)
                levels.append({"sku": sku, "node": node, "on_hand": depth if stocked else 0,
                               "safety_stock": SAFETY_STOCK if stocked else 0})
        levels.extend({"sku": sku, "node": node, "on_hand": 2, "safety_stock": 2}
                      for sku in self.short_skus for node in NODES)
        return levels


def order_messages(orders: list[OrderSpec]) -> list[Message]:
    """OrderPlaced envelopes as the order service's relay publishes them."""
    placed_at = datetime.now(UTC).isoformat()
    messages: list[Message] = []
    for order in orders:
        envelope = order_placed(order.order_id, list(order.lines), channel=order.channel, tier=order.tier,
                                service_level=order.service_level, placed_at=placed_at, country=order.country)
        messages.append((order.order_id, envelope.aggregate_id.encode(), envelope.model_dump_json().encode(),
                         envelope.kafka_headers()))
    return messages


# ---------------------------------------------------------------------------------------------- options


@dataclass
class AllocationOptions(BenchOptions):
    orders: int = option(20_000, "orders produced flat out", quick=300)
    seed: int = option(1, "draws the order mix and which SKUs are hot", must_be=None)
    warmup_orders: int = option(200, "unmeasured orders first", quick=20, must_be="non-negative")


# ----------------------------------------------------------------------------------------- measurements


class AllocationResultWatcher(FirstEventWatcher):
    """Notes, per order id, when its first OrderAllocated or OrderBackordered was read, and its status."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic, RESULT_EVENTS, "order_id", "allocation results")
        self.status_by_id: dict[str, str] = {}

    def first_copy(self, identifier: str, payload: dict[str, Any]) -> None:
        self.status_by_id[identifier] = payload["status"]


def status_check(watcher: AllocationResultWatcher, orders: list[OrderSpec], measure: str) -> Measurement:
    """The split of the statuses read back, and an error per kind of result that is not the expected one."""
    statuses = Counter(watcher.status_by_id[order.order_id] for order in orders
                       if order.order_id in watcher.status_by_id)
    results = sum(statuses.values())
    measurement = Measurement(figures={
        f"{status}_pct": 100 * statuses[status] / results if results else None
        for status in ("allocated", "partially_allocated", "backordered")})
    measurement.figures["short_orders_pct"] = 100 * sum(order.short for order in orders) / len(orders)
    wrong: dict[tuple[str, str], list[str]] = {}
    for order in orders:
        status = watcher.status_by_id.get(order.order_id)
        if status is not None and status != order.expected_status:
            wrong.setdefault((order.expected_status, status), []).append(order.order_id)
    for (expected, status), order_ids in sorted(wrong.items()):
        measurement.errors.append(f"{measure}: {len(order_ids)} of {len(orders)} orders {status}, expected "
                                  f"{expected} (e.g. {', '.join(order_ids[:3])})")
    return measurement


async def warm_up(env: ServiceUnderTest, watcher: AllocationResultWatcher, orders: list[OrderSpec]) -> list[str]:
    """Unmeasured orders, waited for: the first measurement must not pay for the consumer group's join or
    empty connection pools. Returns the errors of their results."""
    if not orders:
        return []
    await produce_all(env.kafka_bootstrap, env.topic(ORDER_EVENTS), order_messages(orders))
    if missing := await watcher.wait_for("warmup", len(orders), 120.0):
        raise RuntimeError(f"warm-up: {missing} allocation results never arrived (see {env.log_path})")
    return status_check(watcher, orders, "warm-up").errors


async def measure_throughput(env: ServiceUnderTest, watcher: AllocationResultWatcher, tag: str,
                             orders: list[OrderSpec]) -> Measurement:
    """N orders produced flat out; orders/s = N / (first produce -> Nth distinct result read)."""
    messages = order_messages(orders)  # built before the clock starts
    measurement = await measure_flat_out(env, watcher, tag, env.topic(ORDER_EVENTS), messages, MEASURE)
    statuses = status_check(watcher, orders, "throughput")
    measurement.figures.update(statuses.figures)
    measurement.errors.extend(statuses.errors)
    return measurement


async def measure_latency(env: ServiceUnderTest, watcher: AllocationResultWatcher, tag: str,
                          orders: list[OrderSpec], rate: float, duration_s: float) -> Measurement:
    """Orders produced at a fixed rate; latency = result read - produce call."""
    messages = order_messages(orders)
    measurement = await measure_fixed_rate(env, watcher, tag, env.topic(ORDER_EVENTS), messages, rate, duration_s,
                                           MEASURE)
    measurement.errors.extend(status_check(watcher, orders, "latency").errors)
    return measurement


# ------------------------------------------------------------------------------------------- the benchmark


def service_breakdown(env: ServiceUnderTest) -> Breakdown:
    consumer = env.topic_prefix + ORDER_EVENTS_CONSUMER

    def breakdown(before: dict[tuple, float], after: dict[tuple, float]) -> dict[str, float | None]:
        """From the service's own metrics over one measurement: its order-event batches and its relay."""
        return {**consumer_figures(before, after, consumer=consumer), **outbox_figures(before, after)}

    return breakdown


class AllocationBenchmark(Benchmark):
    Options = AllocationOptions
    options: AllocationOptions
    service, name = "allocation", "allocation"
    reconciles = True

    def subject(self) -> str:
        return f"Allocation: {SKU_COUNT} SKUs x {len(NODES)} nodes, {self.options.orders} orders flat out"

    def rows(self) -> list[Row]:
        at = f"@{self.options.rate:g}/s"
        return [
            Row("allocation_orders_per_s", "orders/s OrderPlaced -> allocation result", (">=", 1000)),
            Row("allocation_latency_p50_ms", f"p50 ms {at}", digits=1),
            Row("allocation_latency_p99_ms", f"p99 ms {at}", ("<", 250), digits=1),
            # For reading the ones above: the mix as it came back, is the load generator keeping up?
            Row("allocated_pct", "allocated % (throughput run)", digits=1),
            Row("partially_allocated_pct", "partially allocated % (throughput run)", digits=1),
            Row("backordered_pct", "backordered % (throughput run)", digits=1),
            Row("short_orders_pct", "orders with a short line % (throughput run)", digits=1),
            Row("allocation_achieved_rate", "achieved orders/s (latency run)", digits=1),
            Row("allocation_produce_orders_per_s", "produce orders/s (generator, throughput run)"),
            *cpu_rows(MEASURE, "throughput run"),
        ]

    def draw(self) -> None:
        """Every order of the benchmark, and the stock they need."""
        mix = OrderMix(self.options.seed)
        self.plan = self.drawn_up_front(mix.orders, self.options.warmup_orders, self.options.orders)
        self.levels = mix.stock_levels([order for orders in self.plan.values() for order in orders])

    async def seed(self, env: ServiceUnderTest) -> str:
        async with env.admin_client() as client:
            for start in range(0, len(self.levels), STOCK_CHUNK):
                response = await client.put("/v1/stock", json={"levels": self.levels[start:start + STOCK_CHUNK]})
                if response.status_code != 200:
                    raise RuntimeError(f"PUT /v1/stock: HTTP {response.status_code}: {response.text[:300]}")
            for channel, rules in CHANNEL_RULES.items():
                response = await client.put(f"/v1/channels/{channel}/rules", json=rules)
                if response.status_code != 200:
                    raise RuntimeError(f"PUT rules of {channel}: HTTP {response.status_code}: "
                                       f"{response.text[:300]}")
        return (f"{len(self.levels)} stock levels ({SKU_COUNT} SKUs x {len(NODES)} nodes) and the rules of "
                f"{len(CHANNEL_RULES)} channels")

    async def measure(self, env: ServiceUnderTest, report: BenchReport) -> None:
        options, plan = self.options, self.plan
        watcher = AllocationResultWatcher(options.kafka_bootstrap, env.topic(ALLOCATION_EVENTS))
        await watcher.start()
        try:
            report.errors.extend(await warm_up(env, watcher, plan["warmup"]))
            phases = [
                ("throughput", lambda tag: measure_throughput(env, watcher, tag, plan[tag])),
                ("latency", lambda tag: measure_latency(env, watcher, tag, plan[tag], options.rate,
                                                        options.duration_s)),
            ]
            await repeat_phases(env, phases, options.repeats, service_breakdown(env), report, self.say)
        finally:
            await watcher.stop()


def main(argv: list[str] | None = None) -> int:
    return run_main(AllocationBenchmark, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
