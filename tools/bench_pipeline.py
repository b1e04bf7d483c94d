"""Whole-pipeline benchmark: the platform as a retailer at peak meets it. Every service runs as real processes
(`--replicas` of each, as `make up` runs them, each service on a database of its own) on one broker and one
PostgreSQL server; channel orders are published to channel.orders.v1 and followed on order.events.v1 until each
order's OrderStatusChanged to released_to_warehouse.

    make bench-pipeline BENCH_ARGS="--repeats 3 --json .local/bench-pipeline.json"
    make bench-pipeline BENCH_ARGS="--replicas 2"         # two processes of every service
    .venv/bin/python tools/bench_pipeline.py --quick      # a minute, for the smoke test

Per repeat, in this order:
- the raw ceilings of this machine, measured while the stack idles: aiokafka producing the flat-out run's channel
  orders (the services' producer settings) and consuming them back, and pgbench on a transaction shaped like
  intake (an order row and an outbox row, one commit);
- flat out: `--orders` channel orders produced at once; orders/s from the first send to the last order's release
  (and to its placement and allocation), then, once the stack is idle again, CPU ms per order of each process
  (services, Kafka, PostgreSQL; the idle rate measured before is subtracted), database transactions, rows
  written and WAL bytes per order per service, Kafka messages per order; the efficiency ratio is pipeline orders/s
  over the ceiling those transactions and messages per order allow on this machine (pgbench transactions/s over
  transactions per order; produced messages/s over messages per order);
- at fixed rates (`--rates`, plus `--rate` for the target), `--duration` seconds each: p50/p99 from sending an
  order to reading its OrderPlaced (placed), its first allocation status (allocated) and its release.

The warehouses are stocked first by receive and putaway scans deep enough for every order, and the benchmark
waits until allocation has the levels. The orders: 1-3 lines of 1-2 units, SKUs drawn with a Zipf skew, one
channel, standard service. Every order must be released; one that is not is an error. The machine is shared and
noisy: every measure is repeated and the median reported.
"""

import asyncio
import json
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from ecomops_common.contracts import CATALOG_SKUS, CHANNEL_ORDERS, ORDER_EVENTS, WAREHOUSE_SCANS
from ecomops_common.kafka_security import connection_options
from ecomops_common.producer import kafka_producer
from ecomops_common.testing.samples import channel_order

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/ is not a package

from benchlib import (
    Benchmark,
    BenchOptions,
    BenchReport,
    CpuMeter,
    FirstEventWatcher,
    Measurement,
    Message,
    Row,
    ServiceUnderTest,
    bench_producer,
    catalog_records,
    delete_topics_of_run,
    events_timeout_s,
    latency_figures,
    metric_delta,
    option,
    phase_tag,
    produce_all,
    run_main,
    send_at_fixed_rate,
    tagged_ids,
    wait_for_rows,
)

SERVICES = ("order", "allocation", "warehouse", "returns", "finance", "control")
CHANNEL = "web-eu"
NODES = ("WH1", "WH2", "WH3")
DOCK, BIN = "DOCK", "BIN-1"
STAGES = ("placed", "allocated", "released")
ALLOCATED = {"allocated", "partially_allocated", "backordered"}  # the order's first allocation result
RELEASED = "released_to_warehouse"
# The ceiling's intake-shaped transaction: an order row and an outbox row, as the order service writes them.
PGBENCH_SCHEMA = """
CREATE TABLE orders (id text PRIMARY KEY, channel text NOT NULL, external_order_id text NOT NULL,
                     status text NOT NULL, document jsonb NOT NULL, created_at timestamptz NOT NULL,
                     UNIQUE (channel, external_order_id));
CREATE TABLE outbox (position bigserial PRIMARY KEY, id text NOT NULL UNIQUE, aggregatetype text NOT NULL,
                     aggregateid text NOT NULL, type text NOT NULL, topic text NOT NULL, payload text NOT NULL,
                     headers text NOT NULL, created_at timestamptz NOT NULL, published_at timestamptz);
CREATE INDEX ON outbox (position) WHERE published_at IS NULL;
CREATE INDEX ON outbox (aggregateid, position) WHERE published_at IS NULL;
"""


@dataclass
class PipelineOptions(BenchOptions):
    rate: float = option(200.0, "orders/s the target latency is checked at (also run)", quick=50.0)
    duration_s: float = option(60.0, "seconds per fixed-rate run", quick=3.0, flag="--duration")
    rates: str = option("50,100,400", "further fixed rates, orders/s, comma-separated", quick="100",
                        must_be=None)
    orders: int = option(20_000, "orders produced flat out", quick=300)
    warmup_orders: int = option(500, "unmeasured orders first", quick=50, must_be="non-negative")
    replicas: int = option(1, "processes of every service")
    skus: int = option(300, "SKUs stocked at every warehouse", quick=50)
    pgbench_s: float = option(10.0, "seconds of pgbench per repeat", quick=2.0)
    seed: int = option(17, "seed of the drawn orders", must_be=None)
    profile: str = option("", "a directory: py-spy samples every service process through the first flat-out run "
                          "into <service>.<pid>.txt (collapsed stacks)", must_be=None)

    def fixed_rates(self) -> list[float]:
        return sorted({self.rate, *(float(rate) for rate in self.rates.split(",") if rate.strip())})


def rate_name(rate: float) -> str:
    return f"{rate:g}"


# ----------------------------------------------------------------------------------------------- orders


class Orders:
    """Channel orders drawn from a seed: 1-3 lines (60/30/10 %) of 1-2 units, SKUs with a Zipf skew."""

    def __init__(self, skus: list[str], seed: int) -> None:
        self.skus, self.seed = skus, seed
        self.cumulative = list(accumulate(1 / rank for rank in range(1, len(skus) + 1)))

    def draw(self, tag: str, count: int) -> list[Message]:
        rng = random.Random(f"{self.seed}:{tag}")
        return [self._message(rng, external_order_id) for external_order_id in tagged_ids(tag, count)]

    def _message(self, rng: random.Random, external_order_id: str) -> Message:
        skus = {rng.choices(self.skus, cum_weights=self.cumulative)[0]
                for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0])}
        lines = [{"line_id": str(number), "sku": sku, "quantity": rng.randint(1, 2), "unit_price": "19.99"}
                 for number, sku in enumerate(sorted(skus), 1)]
        total = sum(line["quantity"] for line in lines) * 19.99 + 4.99
        document = channel_order(channel=CHANNEL, external_order_id=external_order_id, lines=lines,
                                 payment={"status": "authorized", "amount": f"{total:.2f}", "method": "card"})
        return (external_order_id, f"{CHANNEL}:{external_order_id}".encode(), json.dumps(document).encode(), None)


# ------------------------------------------------------------------------------------------------ stack


class Stack:
    """Every service (`replicas` processes each) on one topic prefix, a database each; topics removed on exit."""

    def __init__(self, options: PipelineOptions) -> None:
        self.options = options
        self.run_id = secrets.token_hex(4)
        self.services = {name: ServiceUnderTest(name, "pipeline", options.kafka_bootstrap, options.postgres_admin_url,
                                                run_id=self.run_id, replicas=options.replicas, owns_topics=False)
                         for name in SERVICES}
        self.topic_prefix = self.services["order"].topic_prefix

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    async def __aenter__(self) -> "Stack":
        try:
            for service in self.services.values():  # migrations one after the other: each takes a core
                await service.create_database()
            for service in self.services.values():  # the processes together: ready in the time of the slowest
                service.launch()
            for service in self.services.values():
                await service.wait_ready()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await asyncio.gather(*(service.__aexit__(None, None, None) for service in self.services.values()),
                             return_exceptions=True)
        await delete_topics_of_run(self.options.kafka_bootstrap, self.topic_prefix)

    async def scrape_metrics(self, client: httpx.AsyncClient) -> dict[tuple, float]:
        """Every process's Prometheus samples, labelled with its service."""
        return {(sample, tuple(sorted((*labels, ("service", name))))): value
                for name, service in self.services.items()
                for (sample, labels), value in (await service.scrape_metrics(client)).items()}

    def pids(self) -> dict[str, list[int]]:
        return {name: service.service_pids for name, service in self.services.items()}


def kafka_broker_pids() -> list[int]:
    """The local broker's JVM (scripts/infra/kafka.sh), if it runs on this machine."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"kafka.Kafka" in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


class StackCpu:
    """CPU seconds of each process group: every service's processes, the broker, PostgreSQL's server (all its
    processes), and this load generator."""

    def __init__(self, stack: Stack, postgres: asyncpg.Connection) -> None:
        self.stack, self.postgres = stack, postgres
        self.kafka_pids = kafka_broker_pids()

    async def seconds(self) -> dict[str, float]:
        groups = {name: sum(CpuMeter._process_seconds(pid) or 0.0 for pid in pids)
                  for name, pids in self.stack.pids().items()}
        groups["kafka"] = sum(CpuMeter._process_seconds(pid) or 0.0 for pid in self.kafka_pids)
        pids = [pid for (pid,) in await self.postgres.fetch("SELECT pid FROM pg_stat_activity")]
        groups["postgres"] = sum(CpuMeter._process_seconds(pid, "postgres") or 0.0 for pid in pids)
        groups["generator"] = time.process_time()
        return groups

    async def idle_rates(self, window_s: float = 3.0) -> dict[str, float]:
        """CPU seconds per second of each group while nothing is sent (relays polling, housekeeping)."""
        before = await self.seconds()
        await asyncio.sleep(window_s)
        after = await self.seconds()
        return {group: max(0.0, (after[group] - before[group]) / window_s) for group in before}

    async def wait_idle(self, idle: dict[str, float], timeout_s: float = 180.0) -> None:
        """Until the stack's CPU is back near its idle rate for a second (the control service catches up last)."""
        deadline = time.monotonic() + timeout_s
        idle_total = sum(rate for group, rate in idle.items() if group != "generator")
        while time.monotonic() < deadline:
            before = await self.seconds()
            await asyncio.sleep(1.0)
            after = await self.seconds()
            busy = sum(after[group] - before[group] for group in before if group != "generator")
            if busy < 1.3 * idle_total + 0.1:  # the machine is shared: near idle, not exactly
                return


class Profiler:
    """py-spy (a dev dependency) sampling processes into collapsed-stack files, from start() to stop()."""

    def __init__(self, directory: Path, pids: dict[str, list[int]]) -> None:
        self.directory, self.pids = directory, pids
        self.samplers: list[subprocess.Popen] = []

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        for service, pids in self.pids.items():
            for pid in pids:
                self.samplers.append(subprocess.Popen(
                    [py_spy, "record", "--pid", str(pid), "--rate", "50", "--format", "raw", "--nonblocking",
                     "--output", str(self.directory / f"{service}.{pid}.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    async def stop(self) -> None:
        for sampler in self.samplers:
            sampler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        await asyncio.gather(*(asyncio.to_thread(sampler.wait, 30) for sampler in self.samplers))


async def stack_counters(stack: Stack, client: httpx.AsyncClient, postgres: asyncpg.Connection) -> dict[str, float]:
    """Per service: SQL statements and transactions (its metrics) and rows written (pg_stat_database, as far as
    its backends reported them); the server's WAL position; Kafka messages the relays published."""
    samples = await stack.scrape_metrics(client)
    counters = {"outbox_published": metric_delta({}, samples, "ecomops_outbox_published_total")}
    for name, service in stack.services.items():
        counters[f"statements_{name}"] = metric_delta({}, samples, "ecomops_db_statements_total", service=name)
        counters[f"transactions_{name}"] = metric_delta({}, samples, "ecomops_db_transactions_total", service=name)
        written = await postgres.fetchval(
            "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = $1",
            service.database_name)
        counters[f"rows_{name}"] = float(written or 0)
    counters["wal_bytes"] = float(await postgres.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))
    return counters


# ---------------------------------------------------------------------------------------------- watcher


class StageWatcher(FirstEventWatcher):
    """Reads order.events.v1 from its start for the whole benchmark and notes, per channel order id, when its
    OrderPlaced, its first allocation status and its release were read: under the ids `<stage>/<channel order
    id>`, so a measurement's tag per stage is `<stage>/<tag>`."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic, ("OrderPlaced", "OrderStatusChanged"), "external_order_id",
                         "orders released")

    def identify(self, payload: dict[str, Any]) -> str | None:
        status = payload.get("to_status")  # OrderPlaced has none
        stage = ("placed" if status is None else "allocated" if status in ALLOCATED
                 else "released" if status == RELEASED else None)
        return None if stage is None else f"{stage}/{payload['external_order_id']}"

    def stage_read_at(self, stage: str) -> dict[str, float]:
        """When each order reached `stage`, by channel order id."""
        prefix = stage + "/"
        return {identifier.removeprefix(prefix): at for identifier, at in self.read_at.items()
                if identifier.startswith(prefix)}


# ------------------------------------------------------------------------------------------- ceilings


async def kafka_ceilings(bootstrap: str, topic: str, messages: list[Message]) -> dict[str, float]:
    """aiokafka producing `messages` flat out with the services' producer settings (idempotent, acks=all) to
    a scratch topic of channel.orders.v1's partitions, then one consumer reading them back."""
    admin = AIOKafkaAdminClient(**connection_options(bootstrap))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    finally:
        await admin.close()
    producer = kafka_producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        deliveries = [await producer.send(topic, value=value, key=key) for _, key, value, _ in messages]
        await asyncio.gather(*deliveries)
        produce_s = time.perf_counter() - started
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, **connection_options(bootstrap), group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        started, read = time.perf_counter(), 0
        while read < len(messages):
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            read += sum(len(records) for records in batches.values())
        consume_s = time.perf_counter() - started
    finally:
        await consumer.stop()
    return {"kafka_produce_msgs_per_s": len(messages) / produce_s,
            "kafka_consume_msgs_per_s": len(messages) / consume_s}


def pgbench_path(server_major: int) -> str | None:
    """pgbench of the server's version (Debian's postgresql package, as scripts/infra/postgres.sh installs)."""
    candidate = Path(f"/usr/lib/postgresql/{server_major}/bin/pgbench")
    return str(candidate) if candidate.exists() else shutil.which("pgbench")


async def pgbench_ceiling(admin_url: str, database: str, seconds: float, order_document: bytes) -> float | None:
    """Transactions/s of pgbench on the intake-shaped transaction, 8 clients on 2 threads, prepared statements."""
    admin = await asyncpg.connect(admin_url)
    try:
        major = int(await admin.fetchval("SHOW server_version_num")) // 10000
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = admin_url.rsplit("/", 1)[0] + "/" + database
    try:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(PGBENCH_SCHEMA)
        finally:
            await connection.close()
        pgbench = pgbench_path(major)
        if pgbench is None:
            return None
        document = order_document.decode().replace("'", "''")
        envelope = json.dumps({"payload": json.loads(order_document)}).replace("'", "''")
        script = Path(tempfile.gettempdir()) / f"{database}.sql"
        await asyncio.to_thread(script.write_text, (
            "BEGIN;\n"
            f"INSERT INTO orders VALUES (gen_random_uuid()::text, 'web-eu', gen_random_uuid()::text, "
            f"'awaiting_allocation', '{document}'::jsonb, now());\n"
            "INSERT INTO outbox (id, aggregatetype, aggregateid, type, topic, payload, headers, created_at) VALUES "
            f"(gen_random_uuid()::text, 'order', gen_random_uuid()::text, 'OrderPlaced', 'order.events.v1', "
            f"'{envelope}', '{{\"event_type\": \"OrderPlaced\"}}', now());\n"
            "COMMIT;\n"))
        command = [pgbench, "-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", str(max(1, round(seconds))),
                   "-f", str(script), url]
        try:
            result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True,
                                             timeout=seconds + 120)
        finally:
            await asyncio.to_thread(script.unlink, missing_ok=True)
        found = re.search(r"tps = ([0-9.]+)", result.stdout)
        if result.returncode != 0 or not found:
            raise RuntimeError(f"pgbench failed: {result.stdout[-500:]} {result.stderr[-500:]}")
        return float(found.group(1))
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


# ----------------------------------------------------------------------------------------- measurements


class PipelineBenchmark(Benchmark):
    Options = PipelineOptions
    name = "pipeline"

    def rows(self) -> list[Row]:
        options = self.options
        rows = [
            Row("pipeline_orders_per_s", "orders/s flat out, channel → released to warehouse", (">=", 600)),
            Row("placed_orders_per_s", "orders/s flat out to OrderPlaced"),
            Row("allocated_orders_per_s", "orders/s flat out to the allocation status"),
        ]
        for rate in options.fixed_rates():
            for stage in STAGES:
                target = ("<", 1000) if rate == options.rate and stage == "released" else None
                rows += [Row(f"r{rate_name(rate)}_{stage}_latency_p50_ms", f"p50 ms → {stage} @{rate:g}/s", None, 1),
                         Row(f"r{rate_name(rate)}_{stage}_latency_p99_ms", f"p99 ms → {stage} @{rate:g}/s", target, 1)]
            rows += [Row(f"r{rate_name(rate)}_achieved_rate", f"orders/s sent @{rate:g}/s", None, 1),
                     Row(f"r{rate_name(rate)}_transactions_per_order", f"transactions per order @{rate:g}/s", None, 2),
                     Row(f"r{rate_name(rate)}_statements_per_order", f"SQL statements per order @{rate:g}/s", None, 1)]
        rows += [Row("stack_cpu_ms_per_order", "stack CPU ms per order (services + Kafka + PostgreSQL)",
                     ("<", 2.5), 2)]
        rows += [Row(f"cpu_ms_per_order_{group}", f"CPU ms per order: {group}", None, 2)
                 for group in (*SERVICES, "kafka", "postgres", "generator")]
        rows += [Row(f"idle_cpu_pct_{group}", f"CPU % of one core, stack idle: {group}")
                 for group in (*SERVICES, "kafka", "postgres")]
        rows += [Row(f"{figure}_per_order_{service}", f"{figure} per order: {service}", None, 2)
                 for figure in ("transactions", "statements") for service in SERVICES]
        rows += [Row("transactions_per_order", "transactions per order, all services", None, 2),
                 Row("statements_per_order", "SQL statements per order, all services", None, 1),
                 Row("rows_written_per_order", "rows written per order, all services", None, 1),
                 Row("wal_bytes_per_order", "WAL bytes per order (server)", None),
                 Row("kafka_msgs_per_order", "Kafka messages produced per order (outboxes + the channel order)",
                     None, 2),
                 Row("kafka_produce_msgs_per_s", "ceiling: aiokafka produce msgs/s"),
                 Row("kafka_consume_msgs_per_s", "ceiling: aiokafka consume msgs/s"),
                 Row("pgbench_tps", "ceiling: pgbench intake-shaped transactions/s"),
                 Row("ceiling_orders_per_s", "ceiling orders/s those transactions and messages per order allow"),
                 Row("efficiency", "efficiency: pipeline orders/s ÷ ceiling", None, 3)]
        return rows

    def headline(self, report: BenchReport) -> str:
        options = self.options
        return (f"Whole pipeline, channel.orders.v1 → released_to_warehouse, {options.replicas} process(es) per "
                f"service, {options.orders:,} orders flat out, {options.duration_s:g} s at each of "
                f"{', '.join(rate_name(rate) for rate in options.fixed_rates())} orders/s, seed {options.seed}, "
                f"{len(report.runs)} run(s), median reported")

    def draw(self) -> str:
        options = self.options
        self.skus = [f"SKU-{number:05d}" for number in range(options.skus)]
        orders = Orders(self.skus, options.seed)
        self.workloads = {"warmup": orders.draw("warmup", options.warmup_orders)}
        for repeat in range(1, options.repeats + 1):
            self.workloads[phase_tag(repeat, 0)] = orders.draw(phase_tag(repeat, 0), options.orders)
            for number, rate in enumerate(options.fixed_rates(), 1):
                self.workloads[phase_tag(repeat, number)] = orders.draw(
                    phase_tag(repeat, number), max(1, round(rate * options.duration_s)))
        units = sum(sum(line["quantity"] for line in json.loads(value)["lines"])
                    for messages in self.workloads.values() for _, _, value, _ in messages)
        return f"{sum(map(len, self.workloads.values())):,} orders ({units:,} units)"

    async def seed(self, stack: Stack) -> str:
        """Every SKU in the SKU master (as the catalog service publishes it: the order service holds orders for
        SKUs it does not know); each warehouse: a dock and a bin, an expected receipt of every SKU, its receive and
        putaway scans (100,000 units of each SKU at each warehouse); then waits until allocation holds every
        level, by which time the order service has long read the catalog it took from the start."""
        await produce_all(stack.options.kafka_bootstrap, stack.topic(CATALOG_SKUS), catalog_records(self.skus))
        now = datetime.now(UTC).isoformat()
        warehouse = stack.services["warehouse"]
        units = 100_000
        async with warehouse.admin_client() as client:
            for node in NODES:
                layout = {"locations": [{"code": DOCK, "kind": "receiving"}, {"code": BIN, "kind": "storage"}]}
                response = await client.put(f"/v1/warehouses/{node}/locations", json=layout)
                response.raise_for_status()
                receipt = {"reference": f"PO-{node}", "node": node,
                           "lines": [{"sku": sku, "quantity": units} for sku in self.skus]}
                response = await client.post("/v1/receipts", json=receipt)
                if response.status_code != 201:
                    raise RuntimeError(f"POST receipt: HTTP {response.status_code}: {response.text[:300]}")

        def scan(node: str, sku: str, kind: str, **extra: str) -> Message:
            document = {"scan_id": f"{node}-{sku}-{kind}", "device_id": "bench", "warehouse_id": node,
                        "scanned_at": now, "kind": kind, "sku": sku, "quantity": units, "location": DOCK, **extra}
            return (document["scan_id"], f"{node}:{sku}".encode(), json.dumps(document).encode(), None)

        scans_topic = stack.topic(WAREHOUSE_SCANS)
        await produce_all(stack.options.kafka_bootstrap, scans_topic, [
            scan(node, sku, "receive", reference=f"PO-{node}") for node in NODES for sku in self.skus])
        await asyncio.sleep(1.0)  # a putaway before its receive would wait in the exception queue
        await produce_all(stack.options.kafka_bootstrap, scans_topic, [
            scan(node, sku, "putaway", to_location=BIN) for node in NODES for sku in self.skus])
        await wait_for_rows(stack.services["allocation"].database_dsn(),
                            "SELECT count(*) FROM stock_positions WHERE on_hand > 0", len(NODES) * len(self.skus),
                            120, "the warehouses' stock levels, at allocation,")
        return f"{len(NODES)} warehouses × {len(self.skus)} SKUs × {units:,} units"

    async def run(self) -> BenchReport:
        options = self.options
        report = BenchReport(options, self.rows())
        started = time.perf_counter()
        self.say(f"drew {self.draw()} in {time.perf_counter() - started:.1f} s")
        async with Stack(options) as stack:
            self.say(f"{len(SERVICES)} services × {options.replicas} on topics {stack.topic_prefix}*, logs "
                     f"{Path(stack.services['order'].log_path).parent}/bench_pipeline_{stack.run_id}_*.log")
            started = time.perf_counter()
            self.say(f"seeded {await self.seed(stack)} in {time.perf_counter() - started:.1f} s")
            postgres = await asyncpg.connect(options.postgres_admin_url)
            watcher = StageWatcher(options.kafka_bootstrap, stack.topic(ORDER_EVENTS))
            await watcher.start()
            try:
                await self.measure(stack, watcher, postgres, report)
            finally:
                await watcher.stop()
                await postgres.close()
        return report

    async def measure(self, stack: Stack, watcher: StageWatcher, postgres: asyncpg.Connection,
                      report: BenchReport) -> None:
        options = self.options
        cpu = StackCpu(stack, postgres)
        warmup = self.workloads["warmup"]
        if warmup:
            await produce_all(options.kafka_bootstrap, stack.topic(CHANNEL_ORDERS), warmup)
            if missing := await watcher.wait_for("released/warmup", len(warmup), events_timeout_s(len(warmup))):
                report.errors.append(f"warm-up: {missing} of {len(warmup)} orders never released")
        async with httpx.AsyncClient(trust_env=False, timeout=30.0) as metrics_client:
            for repeat in range(1, options.repeats + 1):
                figures: dict[str, float | None] = {}
                report.runs.append(figures)
                try:
                    figures.update(await kafka_ceilings(options.kafka_bootstrap, stack.topic(f"ceiling.r{repeat}"),
                                                        self.workloads[phase_tag(repeat, 0)]))
                    figures["pgbench_tps"] = await pgbench_ceiling(
                        options.postgres_admin_url, f"bench_{stack.run_id}_pgbench", options.pgbench_s,
                        self.workloads[phase_tag(repeat, 0)][0][2])
                    self.say(f"run {repeat}: ceilings " + ", ".join(f"{name}={value:.0f}" for name, value in
                                                                   figures.items() if value is not None))
                    flat_out = await self.flat_out(stack, watcher, postgres, cpu, metrics_client,
                                                   phase_tag(repeat, 0))
                    self._record(report, figures, repeat, "flat out", flat_out)
                    for number, rate in enumerate(options.fixed_rates(), 1):
                        measured = await self.fixed_rate(stack, watcher, postgres, metrics_client,
                                                         phase_tag(repeat, number), rate)
                        self._record(report, figures, repeat, f"{rate:g}/s", measured)
                except Exception as error:  # e.g. the broker went away: report what was measured
                    report.errors.append(f"run {repeat} aborted: {type(error).__name__}: {error}")
                    self.say(report.errors[-1])
                    return
                self._efficiency(figures)

    def _record(self, report: BenchReport, figures: dict, repeat: int, name: str, measured: Measurement) -> None:
        figures.update(measured.figures)
        report.errors.extend(f"run {repeat}: {error}" for error in measured.errors)
        self.say(f"run {repeat}/{self.options.repeats} {name}: " + ", ".join(
            f"{figure}={value:.1f}" for figure, value in measured.figures.items() if value is not None))

    @staticmethod
    def _efficiency(figures: dict[str, float | None]) -> None:
        """The pipeline against what this machine's database and broker allow for its transactions and
        messages per order."""
        limits = []
        if figures.get("pgbench_tps") and figures.get("transactions_per_order"):
            limits.append(figures["pgbench_tps"] / figures["transactions_per_order"])
        if figures.get("kafka_produce_msgs_per_s") and figures.get("kafka_msgs_per_order"):
            limits.append(figures["kafka_produce_msgs_per_s"] / figures["kafka_msgs_per_order"])
        figures["ceiling_orders_per_s"] = min(limits) if limits else None
        figures["efficiency"] = (figures["pipeline_orders_per_s"] / figures["ceiling_orders_per_s"]
                                 if limits and figures.get("pipeline_orders_per_s") else None)

    async def flat_out(self, stack: Stack, watcher: StageWatcher, postgres: asyncpg.Connection, cpu: StackCpu,
                       metrics_client: httpx.AsyncClient, tag: str) -> Measurement:
        messages = self.workloads[tag]
        count = len(messages)
        await asyncio.sleep(2)  # the statistics of what ran before reach pg_stat_database first
        counters_idle = await stack_counters(stack, metrics_client, postgres)
        idle_started = time.perf_counter()
        idle = await cpu.idle_rates(5.0)
        profiler = None
        if self.options.profile and tag == phase_tag(1, 0):
            profiler = Profiler(Path(self.options.profile), stack.pids())
            profiler.start()
        counters_before = await stack_counters(stack, metrics_client, postgres)
        counted_from = time.perf_counter()
        # What the stack does idle (relays polling, housekeeping) is not the orders'.
        idle_counters = {name: (counters_before[name] - counters_idle[name]) / (counted_from - idle_started)
                         for name in counters_before}
        cpu_before = await cpu.seconds()
        producer = bench_producer(stack.options.kafka_bootstrap, linger_ms=10)
        await producer.start()
        try:
            started = time.perf_counter()
            deliveries = [await producer.send(stack.topic(CHANNEL_ORDERS), value=value, key=key)
                          for _, key, value, _ in messages]
            await asyncio.gather(*deliveries)
        finally:
            await producer.stop()
        missing = await watcher.wait_for(f"released/{tag}", count, events_timeout_s(count))
        if profiler is not None:
            await profiler.stop()
        measurement = Measurement()
        if missing:
            measurement.errors.append(f"flat out: {missing} of {count} orders never released")
        for stage, figure in (("placed", "placed"), ("allocated", "allocated"), ("released", "pipeline")):
            arrived, last = watcher.count_by_tag[f"{stage}/{tag}"], watcher.last_read_by_tag.get(f"{stage}/{tag}")
            measurement.figures[f"{figure}_orders_per_s"] = arrived / (last - started) if arrived and last else None
        await cpu.wait_idle(idle)
        cpu_after = await cpu.seconds()
        wall_s = time.perf_counter() - started
        for group, rate in idle.items():
            measurement.figures[f"idle_cpu_pct_{group}"] = 100 * rate
        for group, seconds in cpu_after.items():
            used = seconds - cpu_before[group] - (0 if group == "generator" else idle[group] * wall_s)
            measurement.figures[f"cpu_ms_per_order_{group}"] = max(0.0, 1000 * used / count)
        measurement.figures["stack_cpu_ms_per_order"] = sum(
            value for figure, value in measurement.figures.items()
            if figure.startswith("cpu_ms_per_order_") and not figure.endswith("generator"))
        # Statistics reach pg_stat_database when a backend next reports them (within 10 s of going idle).
        await asyncio.sleep(11)
        counters_after = await stack_counters(stack, metrics_client, postgres)
        counted_s = time.perf_counter() - counted_from

        def per_order(counter: str) -> float:
            counted = counters_after[counter] - counters_before[counter] - idle_counters[counter] * counted_s
            return max(0.0, counted) / count

        for figure in ("transactions", "statements"):
            for service in SERVICES:
                measurement.figures[f"{figure}_per_order_{service}"] = per_order(f"{figure}_{service}")
            measurement.figures[f"{figure}_per_order"] = sum(measurement.figures[f"{figure}_per_order_{service}"]
                                                             for service in SERVICES)
        measurement.figures["rows_written_per_order"] = sum(per_order(f"rows_{service}") for service in SERVICES)
        measurement.figures["wal_bytes_per_order"] = per_order("wal_bytes")
        measurement.figures["kafka_msgs_per_order"] = 1 + per_order("outbox_published")
        return measurement

    async def fixed_rate(self, stack: Stack, watcher: StageWatcher, postgres: asyncpg.Connection,
                         metrics_client: httpx.AsyncClient, tag: str, rate: float) -> Measurement:
        messages = self.workloads[tag]
        counters_before = await stack_counters(stack, metrics_client, postgres)
        sent_at: dict[str, float] = {}
        sends: list[asyncio.Task] = []
        # A connector's producer at a steady rate: a short linger, so batching adds at most a millisecond.
        producer = bench_producer(stack.options.kafka_bootstrap, linger_ms=1)
        await producer.start()
        try:
            def send_one(number: int) -> None:
                identifier, key, value, _ = messages[number]
                sent_at[identifier] = time.perf_counter()
                sends.append(asyncio.create_task(producer.send_and_wait(stack.topic(CHANNEL_ORDERS), value=value,
                                                                        key=key)))

            count, achieved = await send_at_fixed_rate(rate, self.options.duration_s, send_one)
            await asyncio.gather(*sends)
        finally:
            await producer.stop()
        missing = await watcher.wait_for(f"released/{tag}", count, events_timeout_s(count))
        measurement = Measurement()
        if missing:
            measurement.errors.append(f"{rate:g}/s: {missing} of {count} orders never released")
        for stage in STAGES:
            stage_figures = latency_figures(sent_at, watcher.stage_read_at(stage), stage)
            for figure, value in stage_figures.items():
                measurement.figures[f"r{rate_name(rate)}_{figure}"] = value
        measurement.figures[f"r{rate_name(rate)}_achieved_rate"] = achieved
        # Batches are small at a steady rate: what an order costs the databases then (statements are round trips).
        counters_after = await stack_counters(stack, metrics_client, postgres)
        for figure in ("transactions", "statements"):
            measurement.figures[f"r{rate_name(rate)}_{figure}_per_order"] = sum(
                counters_after[f"{figure}_{service}"] - counters_before[f"{figure}_{service}"]
                for service in SERVICES) / count
        return measurement


def main(argv: list[str] | None = None) -> int:
    return run_main(PipelineBenchmark, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
