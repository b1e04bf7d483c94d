"""What the benchmarks in tools/ share: their options and --quick, a service as a real process on a database
and a topic prefix of its own, a watcher that notes when each order's event is read back, flat-out and
fixed-rate producing, the CPU meter, percentiles, repeats with the median reported, the table, the JSON report
and main. A benchmark subclasses Benchmark (and BenchOptions) with only what differs: run_main() does the rest.

tools/ is not a package: a benchmark puts its own directory on sys.path and imports this module by name.
"""

import argparse
import asyncio
import json
import logging
import math
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from ecomops_common.contracts.catalog import SkuChanged, SkuStatus
from ecomops_common.envelope import new_event
from ecomops_common.kafka_security import connection_options
from ecomops_common.migrations import for_service, upgrade
from ecomops_common.testing.issuer import admin_headers, test_issuer
from ecomops_common.testing.plugin import ServiceProcess, delete_topics, free_port

DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:19092"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres:postgres@127.0.0.1:15432/postgres"
REPO_ROOT = Path(__file__).resolve().parents[1]


def kafka_bootstrap_from_env() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA_BOOTSTRAP)


def postgres_admin_url_from_env() -> str:
    return os.environ.get("POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_ADMIN_URL)


# ---------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Option:
    help: str
    quick: Any = None  # the value with --quick when the option is not given; None: the default
    flag: str | None = None  # None: --<field name with dashes>
    must_be: str | None = "positive"  # or "non-negative", or None for any value


def option(default: Any, help: str, **how: Any) -> Any:
    """A field of a benchmark's options that the command line sets (see Option); `{unit}` in help is what
    the benchmark sends."""
    return field(default=default, metadata={"option": Option(help, **how)})


def rate_option(default: float) -> float:
    return option(default, "{unit}/s for the latency runs", quick=50.0)


def duration_option(default: float) -> float:
    return option(default, "seconds per latency run", quick=3.0, flag="--duration")


@dataclass
class BenchOptions:
    """What every benchmark takes. A benchmark's options subclass this with its sizes, its seed if it draws its
    workload from one, and its warm-up (warmup_<unit>): sent before measuring and not counted, as the
    service's consumer joins its group (a few seconds of rebalance delay on a fresh topic) and connection pools
    fill on the first messages."""

    unit: ClassVar[str] = "orders"  # what the benchmark sends, in --help
    rate: float = rate_option(200.0)
    duration_s: float = duration_option(15.0)
    repeats: int = option(3, "runs of every measure; the median is reported", quick=1)
    quick: bool = False
    json_path: Path | None = None
    kafka_bootstrap: str = field(default_factory=kafka_bootstrap_from_env)
    postgres_admin_url: str = field(default_factory=postgres_admin_url_from_env)


def parse_options(options_type: type[BenchOptions], description: str, argv: list[str] | None = None) -> BenchOptions:
    """Every option field as given, else with --quick its quick value, else its default; --quick, --json."""
    defaults = options_type()
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    declared = [(item, item.metadata["option"]) for item in fields(options_type) if "option" in item.metadata]
    for item, how in declared:
        default = getattr(defaults, item.name)
        shown = f"{default:g}" if isinstance(default, float) else default
        # None means "not given": --quick then picks its own small size, otherwise the default applies.
        parser.add_argument(how.flag or "--" + item.name.replace("_", "-"), dest=item.name, type=type(default),
                            help=f"{how.help.format(unit=options_type.unit)} (default {shown})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, well under a minute (smoke test)")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    options = options_type(quick=args.quick, json_path=args.json_path)
    for item, how in declared:
        given = getattr(args, item.name)
        if given is not None:
            setattr(options, item.name, given)
        elif args.quick and how.quick is not None:
            setattr(options, item.name, how.quick)
        value = getattr(options, item.name)
        if (how.must_be == "positive" and value <= 0) or (how.must_be == "non-negative" and value < 0):
            parser.error(f"{how.flag or '--' + item.name.replace('_', '-')} must be {how.must_be}")
    return options


# ------------------------------------------------------------------------------------------ environment


class ServiceUnderTest:
    """A service (`<name>_service`, settings prefix `<NAME>_`) as real processes (`replicas` of them, sharing its
    database) on a fresh database and topic prefix; all removed on exit. `env` adds settings of the benchmark's
    own. Services of one stack share a `run_id` (so a topic prefix), and the stack deletes the topics
    (`owns_topics=False`)."""

    def __init__(self, name: str, bench: str, kafka_bootstrap: str, postgres_admin_url: str,
                 env: dict[str, str] | None = None, *, run_id: str | None = None, replicas: int = 1,
                 owns_topics: bool = True) -> None:
        self.name = name
        self.kafka_bootstrap = kafka_bootstrap
        self.postgres_admin_url = postgres_admin_url
        self.extra_env = env or {}
        self.run_id = run_id or secrets.token_hex(4)
        self.database_name = f"bench_{self.run_id}_{name}"
        self.topic_prefix = f"bench{self.run_id}."
        self.replicas, self.owns_topics = replicas, owns_topics
        self.log_path = Path(tempfile.gettempdir()) / f"bench_{bench}_{self.run_id}_{name}.log"
        self.processes: list[ServiceProcess] = []
        # The service trusts the benchmark's own issuer (a key of this process): an admin for seeding and
        # reconciliation, a connector for what channels send.
        self.issuer = test_issuer()

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    @property
    def base_url(self) -> str:
        """The first replica's."""
        return self.processes[0].base_url

    @property
    def service_pid(self) -> int:
        return self.processes[0].process.pid

    @property
    def service_pids(self) -> list[int]:
        return [process.process.pid for process in self.processes]

    def admin_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, trust_env=False, timeout=300.0,
                                 headers=admin_headers())

    async def check_reconciliation(self, report: "BenchReport", say: Callable[[str], None]) -> None:
        """The service's GET /v1/reconciliation into the report; any drift or failure is an error."""
        try:
            async with self.admin_client() as client:
                response = await client.get("/v1/reconciliation")
            if response.status_code != 200:
                raise RuntimeError(f"GET /v1/reconciliation: HTTP {response.status_code}: {response.text[:300]}")
            report.extra["reconciliation"] = outcome = response.json()
        except (httpx.HTTPError, RuntimeError) as error:
            report.errors.append(f"reconciliation: {type(error).__name__}: {error}")
            return
        if not outcome["ok"]:
            report.errors.append(f"reconciliation: {len(outcome['drift'])} positions drift, e.g. "
                                 f"{outcome['drift'][:3]}")
        say(f"reconciliation: {'ok' if outcome['ok'] else 'DRIFT'}")

    def database_url(self) -> str:
        """The admin URL's credentials and host, this run's database, SQLAlchemy's asyncpg driver."""
        admin = urlsplit(self.postgres_admin_url)
        return urlunsplit(("postgresql+asyncpg", admin.netloc, "/" + self.database_name, admin.query, ""))

    def database_dsn(self) -> str:
        """This run's database as a plain libpq URL, for asyncpg.connect (reading what the service wrote)."""
        admin = urlsplit(self.postgres_admin_url)
        return urlunsplit((admin.scheme, admin.netloc, "/" + self.database_name, admin.query, ""))

    async def __aenter__(self):
        try:
            await self.create_database()
            self.launch()
            await self.wait_ready()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def create_database(self) -> None:
        """This run's database, migrated to head."""
        admin = await asyncpg.connect(self.postgres_admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database_name}"')
        finally:
            await admin.close()
        await asyncio.to_thread(upgrade, for_service(self.name), self.database_url())

    def launch(self) -> None:
        """Starts the processes; wait_ready() waits for them."""
        prefix = self.name.upper() + "_"
        for replica in range(self.replicas):
            port = free_port()
            process = ServiceProcess(f"{self.name}_service", {
                prefix + "DATABASE_URL": self.database_url(),
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "ECOMOPS_TOPIC_PREFIX": self.topic_prefix,
                prefix + "HTTP_HOST": "127.0.0.1",
                prefix + "HTTP_PORT": str(port),
                "OIDC_ISSUER": self.issuer.issuer,
                # Measures the pipeline, not the per-client budget a connector would have.
                prefix + "RATE_LIMIT_PER_CLIENT": "1000000/second",
                **self.extra_env,
            }, port, self.log_path.with_suffix(f".{replica}.log") if replica else self.log_path)
            self.processes.append(process.start(wait=False))

    async def wait_ready(self) -> None:
        # Polls /readyz with blocking calls: keep them off the event loop.
        for process in self.processes:
            await asyncio.to_thread(process.wait_ready, 90.0)

    async def __aexit__(self, *exc_info) -> None:
        await asyncio.gather(*(asyncio.to_thread(process.stop) for process in self.processes))
        try:
            await self._drop_database()
        finally:  # also when the database server is gone
            if self.owns_topics:
                await delete_topics_of_run(self.kafka_bootstrap, self.topic_prefix)

    async def _drop_database(self) -> None:
        admin = await asyncpg.connect(self.postgres_admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def scrape_metrics(self, client: httpx.AsyncClient) -> dict[tuple, float]:
        """The service's Prometheus samples as {(name, sorted labels): value}, summed over its replicas."""
        samples: dict[tuple, float] = {}
        for process in self.processes:
            text = (await client.get(process.base_url + "/metrics")).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    samples[key] = samples.get(key, 0.0) + sample.value
        return samples


async def delete_topics_of_run(bootstrap: str, topic_prefix: str) -> None:
    """Best effort: a fresh prefix per run would otherwise leave its topics on the broker forever."""
    try:
        await delete_topics(bootstrap, topic_prefix)
    except Exception as error:  # leftover topics are harmless: the prefix is never reused
        print(f"note: could not delete topics {topic_prefix}*: {error!r}", file=sys.stderr)


class CpuMeter:
    """CPU used from start() to figures(): by the service, by PostgreSQL when given a connection to the
    benchmark's database, by this load generator and by the whole machine. On a small shared machine they say
    whether the service, the database or the machine is the limit. Linux /proc; elsewhere the figures are None
    (but the generator's)."""

    def __init__(self, service_pid: int, postgres: asyncpg.Connection | None = None) -> None:
        self.service_pid = service_pid
        self.postgres = postgres

    async def start(self) -> "CpuMeter":
        self.started = time.perf_counter()
        self.service_s = self._process_seconds(self.service_pid)
        self.postgres_s = await self._postgres_seconds()
        self.generator_s = time.process_time()
        self.machine = self._machine_ticks()
        return self

    async def figures(self, measure: str) -> dict[str, float | None]:
        wall_s = time.perf_counter() - self.started
        service_s, machine = self._process_seconds(self.service_pid), self._machine_ticks()
        machine_busy = None
        if machine and self.machine and machine[1] > self.machine[1]:
            machine_busy = 100 * (machine[0] - self.machine[0]) / (machine[1] - self.machine[1])
        figures = {
            f"service_cpu_pct_{measure}": None if service_s is None or self.service_s is None
            else 100 * (service_s - self.service_s) / wall_s,
            f"generator_cpu_pct_{measure}": 100 * (time.process_time() - self.generator_s) / wall_s,
            f"machine_cpu_pct_{measure}": machine_busy,
        }
        if self.postgres is not None:
            postgres_s = await self._postgres_seconds()
            # A process that started during the measurement counts from 0; one that ended is missed.
            figures[f"postgres_cpu_pct_{measure}"] = None if not postgres_s or not self.postgres_s else 100 * sum(
                seconds - self.postgres_s.get(pid, 0.0) for pid, seconds in postgres_s.items()) / wall_s
        return figures

    async def _postgres_seconds(self) -> dict[int, float]:
        """CPU time per process of this database's backends and the server's background processes (WAL
        writer, checkpointer, ...), those on this machine (not on another host or in a container)."""
        if self.postgres is None:
            return {}
        pids = await self.postgres.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL")
        return {pid: seconds for (pid,) in pids if (seconds := self._process_seconds(pid, "postgres")) is not None}

    @staticmethod
    def _process_seconds(pid: int, command: str | None = None) -> float | None:
        """User + system CPU time of a process (of that command name, when given)."""
        try:
            if command and not Path(f"/proc/{pid}/comm").read_text().startswith(command):
                return None
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    @staticmethod
    def _machine_ticks() -> tuple[int, int] | None:
        """(busy, total) CPU ticks of the whole machine since boot."""
        try:
            ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return None
        idle = ticks[3] + ticks[4]  # idle + iowait
        return sum(ticks[:8]) - idle, sum(ticks[:8])  # guest time is already inside user time


# ------------------------------------------------------------------------------------------- event watch


def tagged_ids(tag: str, count: int) -> list[str]:
    """Ids `<tag>-<n>`: the tag (one per measurement) lets the watcher count arrivals per measurement."""
    return [f"{tag}-{number}" for number in range(count)]


def tag_of(identifier: str) -> str:
    return identifier.rsplit("-", 1)[0]


class FirstEventWatcher:
    """Reads a topic from its start for the whole benchmark and notes, per id (the payload field `id_field`
    of the event types watched), when its first event was read (time.perf_counter(), the clock the senders
    use too). `what` names those events in error messages."""

    def __init__(self, bootstrap: str, topic: str, event_types: Collection[str], id_field: str, what: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, **connection_options(bootstrap), group_id=None,
                                         auto_offset_reset="earliest", enable_auto_commit=False)
        self.event_types = {event_type.encode() for event_type in event_types}
        self.id_field = id_field
        self.what = what
        self.read_at: dict[str, float] = {}
        self.count_by_tag: Counter[str] = Counter()
        self.last_read_by_tag: dict[str, float] = {}
        self._progress = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._read_forever(), name="event-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()

    def first_copy(self, identifier: str, payload: dict[str, Any]) -> None:
        """Called with the first event read per id; a subclass keeps what it needs of it."""

    def identify(self, payload: dict[str, Any]) -> str | None:
        """The id an event counts for (None: it does not count); a subclass may count an order at several stages."""
        return payload[self.id_field]

    async def _read_forever(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100, max_records=10_000)
            read_at = time.perf_counter()  # the moment these records reached the reader
            for records in batches.values():
                for record in records:
                    if dict(record.headers).get("event_type") not in self.event_types:
                        continue
                    payload = json.loads(record.value)["payload"]
                    identifier = self.identify(payload)
                    if identifier is None or identifier in self.read_at:
                        continue  # at-least-once delivery: only the first copy counts
                    self.read_at[identifier] = read_at
                    self.first_copy(identifier, payload)
                    tag = tag_of(identifier)
                    self.count_by_tag[tag] += 1
                    self.last_read_by_tag[tag] = read_at
            if batches:
                self._progress.set()

    async def wait_for(self, tag: str, expected: int, timeout_s: float) -> int:
        """Waits until `expected` distinct ids of `tag` were read; returns how many are missing."""
        deadline = time.monotonic() + timeout_s
        while self.count_by_tag[tag] < expected:
            if self._task.done():
                self._task.result()  # the reader died: raise its error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), min(remaining, 1.0))
            except TimeoutError:
                pass
        return max(0, expected - self.count_by_tag[tag])


def events_timeout_s(orders: int) -> float:
    """How long to wait for the events of a measurement: generous, so only a stuck service times out."""
    return max(60.0, orders / 100)


# ----------------------------------------------------------------------------------------- measurements


@dataclass
class Measurement:
    figures: dict[str, float | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: a value that was actually measured."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# (id, key, value, headers): one message to produce, and the id its event is watched for.
Message = tuple[str, bytes | None, bytes, list[tuple[str, bytes]] | None]


def bench_producer(bootstrap: str, linger_ms: int) -> AIOKafkaProducer:
    return AIOKafkaProducer(**connection_options(bootstrap), linger_ms=linger_ms, max_batch_size=1024 * 1024,
                            acks=1)


async def measure_flat_out(service: ServiceUnderTest, watcher: FirstEventWatcher, tag: str, topic: str,
                           messages: list[Message], measure: str) -> Measurement:
    """N messages produced flat out; orders/s = N / (first produce -> Nth distinct event read).
    Figures `<measure>_orders_per_s`, `<measure>_produce_orders_per_s` and CPU use."""
    count = len(messages)
    producer = bench_producer(service.kafka_bootstrap, linger_ms=10)
    await producer.start()
    cpu = await CpuMeter(service.service_pid).start()
    try:
        started = time.perf_counter()
        deliveries = [await producer.send(topic, value=value, key=key, headers=headers)
                      for _, key, value, headers in messages]
        await asyncio.gather(*deliveries)
        produced = time.perf_counter()
    finally:
        await producer.stop()
    missing = await watcher.wait_for(tag, count, events_timeout_s(count))
    measurement = Measurement()
    if missing:
        measurement.errors.append(f"{measure} throughput: {missing} of {count} {watcher.what} never read")
    finished = watcher.last_read_by_tag.get(tag, time.perf_counter())
    arrived = count - missing
    measurement.figures = {
        f"{measure}_orders_per_s": arrived / (finished - started) if arrived else None,
        f"{measure}_produce_orders_per_s": count / (produced - started),
        **await cpu.figures(measure),
    }
    return measurement


def catalog_records(skus: list[str]) -> list[Message]:
    """The SKUs as the catalog service publishes them (SkuChanged on catalog.skus.v1): the order service holds
    orders for SKUs the SKU master does not know."""
    now = datetime.now(UTC)
    envelopes = [new_event("SkuChanged", 1, "catalog", "sku", sku, SkuChanged(
        sku=sku, revision=1, status=SkuStatus.active, name=sku, unit_cost=Decimal("8.00"), currency="EUR",
        changed_by="bench", changed_at=now)) for sku in skus]
    return [(envelope.event_id, envelope.aggregate_id.encode(), envelope.model_dump_json().encode(),
             envelope.kafka_headers()) for envelope in envelopes]


async def wait_for_rows(database_dsn: str, count_sql: str, wanted: int, timeout_s: float, what: str) -> None:
    """Until `count_sql` counts `wanted` rows in the service's database (what it has consumed); RuntimeError naming
    `what` after `timeout_s`."""
    database = await asyncpg.connect(database_dsn)
    try:
        deadline = time.monotonic() + timeout_s
        while await database.fetchval(count_sql) < wanted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} never arrived")
            await asyncio.sleep(0.2)
    finally:
        await database.close()


async def produce_all(bootstrap: str, topic: str, messages: list[Message]) -> None:
    """Messages produced and flushed, not measured: a warm-up's."""
    producer = bench_producer(bootstrap, linger_ms=5)
    await producer.start()
    try:
        for _, key, value, headers in messages:
            await producer.send(topic, value=value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


def fixed_rate_count(rate: float, duration_s: float) -> int:
    """How many sends a fixed-rate run makes."""
    return max(1, round(rate * duration_s))


async def send_at_fixed_rate(rate: float, duration_s: float, send_one: Callable[[int], None]) -> tuple[int, float]:
    """Calls send_one(n) at start + n/rate (an absolute schedule: a late call does not push the later
    ones back, so the rate holds even when the loop stalls). Returns (calls, achieved rate)."""
    count = fixed_rate_count(rate, duration_s)
    loop = asyncio.get_running_loop()
    start = loop.time()
    first = last = time.perf_counter()
    for number in range(count):
        delay = start + number / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        last = time.perf_counter()
        if number == 0:
            first = last
        send_one(number)
    achieved = (count - 1) / (last - first) if count > 1 and last > first else float(count)
    return count, achieved


async def produce_at_fixed_rate(bootstrap: str, topic: str, messages: list[Message], rate: float, duration_s: float,
                                sending: Callable[[str], None]) -> tuple[int, float]:
    """The first fixed_rate_count(rate, duration_s) messages produced at a fixed rate, sending(id) called just
    before each produce call; returns when all are acknowledged, with (messages sent, achieved rate)."""
    sends: list[asyncio.Task] = []
    # A connector's (or a scanner gateway's) producer at a modest rate: a short linger, so batching adds at
    # most a millisecond.
    producer = bench_producer(bootstrap, linger_ms=1)
    await producer.start()
    try:
        def send_one(number: int) -> None:
            identifier, key, value, headers = messages[number]
            sending(identifier)
            sends.append(asyncio.create_task(producer.send_and_wait(topic, value=value, key=key, headers=headers)))

        sent = await send_at_fixed_rate(rate, duration_s, send_one)
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return sent


async def measure_fixed_rate(service: ServiceUnderTest, watcher: FirstEventWatcher, tag: str, topic: str,
                             messages: list[Message], rate: float, duration_s: float, measure: str) -> Measurement:
    """fixed_rate_count(rate, duration_s) messages produced at a fixed rate; latency = event read - produce
    call. Figures `<measure>_latency_p50_ms`, `<measure>_latency_p99_ms`, `<measure>_achieved_rate`."""
    sent_at: dict[str, float] = {}

    def sending(identifier: str) -> None:
        sent_at[identifier] = time.perf_counter()

    count, achieved = await produce_at_fixed_rate(service.kafka_bootstrap, topic, messages, rate, duration_s, sending)
    measurement = latencies(watcher, tag, sent_at, await watcher.wait_for(tag, count, events_timeout_s(count)),
                            measure)
    measurement.figures[f"{measure}_achieved_rate"] = achieved
    return measurement


def latency_figures(sent_at: dict[str, float], arrived_at: dict[str, float], measure: str) -> dict[str, float | None]:
    """p50 and p99 of arrival - send over the ids that arrived."""
    latencies_ms = [1000 * (arrived_at[identifier] - sent) for identifier, sent in sent_at.items()
                    if identifier in arrived_at]
    return {f"{measure}_latency_p50_ms": percentile(latencies_ms, 0.50),
            f"{measure}_latency_p99_ms": percentile(latencies_ms, 0.99)}


def latencies(watcher: FirstEventWatcher, tag: str, sent_at: dict[str, float], missing: int,
              measure: str) -> Measurement:
    measurement = Measurement(figures=latency_figures(sent_at, watcher.read_at, measure))
    if missing:
        measurement.errors.append(f"{measure} latency: {missing} of {len(sent_at)} {watcher.what} never read")
    return measurement


# ---------------------------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Row:
    figure: str
    label: str
    target: tuple[str, float] | None = None  # (">=" or "<", value)
    digits: int = 0

    def verdict(self, value: float | None) -> str:
        if self.target is None:
            return ""
        if value is None:
            return "MISS"
        operator, bound = self.target
        return "PASS" if (value >= bound if operator == ">=" else value < bound) else "MISS"

    def target_text(self) -> str:
        if self.target is None:
            return "—"
        operator, bound = self.target
        return f"{'≥' if operator == '>=' else '<'} {bound:g}"


def cpu_rows(measure: str, run: str, postgres: bool = False) -> list[Row]:
    """The rows of CpuMeter's figures for one measurement."""
    # A Python service runs on one core: near 100 % its event loop is the limit. The machine's
    # figure is over all its cores: near 100 % nothing here can go faster on this machine.
    return [
        Row(f"service_cpu_pct_{measure}", f"service CPU % of one core ({run})"),
        *([Row(f"postgres_cpu_pct_{measure}", f"PostgreSQL CPU % of one core ({run})")] if postgres else []),
        Row(f"generator_cpu_pct_{measure}", f"load generator CPU % of one core ({run})"),
        Row(f"machine_cpu_pct_{measure}", f"machine CPU busy % of all cores ({run})"),
    ]


def median_of(runs: list[dict[str, float | None]], figure: str) -> float | None:
    values = [run[figure] for run in runs if run.get(figure) is not None]
    return statistics.median(values) if values else None


def render_table(runs: list[dict[str, float | None]], rows: list[Row]) -> str:
    def number(value: float | None, digits: int) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    lines = ["| measure | median | runs | target | verdict |", "| --- | ---: | --- | --- | --- |"]
    for row in rows:
        median = median_of(runs, row.figure)
        values = ", ".join(number(run.get(row.figure), row.digits) for run in runs)
        lines.append(f"| {row.label} | {number(median, row.digits)} | {values} | {row.target_text()} | "
                     f"{row.verdict(median)} |")
    return "\n".join(lines)


def metric_delta(before: dict[tuple, float], after: dict[tuple, float], name: str, **labels: str) -> float:
    """Sum over the samples of `name` whose labels include `labels`, after minus before."""
    def total(samples: dict[tuple, float]) -> float:
        return sum(value for (sample, sample_labels), value in samples.items()
                   if sample == name and labels.items() <= dict(sample_labels).items())
    return total(after) - total(before)


def consumer_figures(before: dict[tuple, float], after: dict[tuple, float], **labels: str) -> dict[str, float | None]:
    """Consumed batches over one measurement: how many, how big, how long (of the consumers `labels` select)."""
    batches = metric_delta(before, after, "ecomops_handler_duration_seconds_count", **labels)
    batch_s = metric_delta(before, after, "ecomops_handler_duration_seconds_sum", **labels)
    handled = metric_delta(before, after, "ecomops_messages_handled_total", **labels)
    return {
        "consumed_batches": batches,
        "mean_batch_size": handled / batches if batches else None,
        "mean_batch_ms": 1000 * batch_s / batches if batches else None,
    }


def outbox_figures(before: dict[tuple, float], after: dict[tuple, float]) -> dict[str, float | None]:
    return {
        "outbox_published": metric_delta(before, after, "ecomops_outbox_published_total"),
        "outbox_publish_errors": metric_delta(before, after, "ecomops_outbox_publish_errors_total"),
    }


# ------------------------------------------------------------------------------------------ repeats, main


@dataclass
class BenchReport:
    """The figures of every run; `extra` adds a benchmark's own entries to the JSON."""

    options: BenchOptions
    rows: list[Row]
    runs: list[dict[str, float | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    service_metrics: list[dict[str, dict[str, float | None]]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def medians(self) -> dict[str, float | None]:
        return {row.figure: median_of(self.runs, row.figure) for row in self.rows}

    @property
    def verdicts(self) -> dict[str, str]:
        medians = self.medians
        return {row.figure: row.verdict(medians[row.figure]) for row in self.rows if row.target}

    def to_json(self) -> dict:
        options = {name: str(value) if isinstance(value, Path) else value
                   for name, value in asdict(self.options).items() if name != "postgres_admin_url"}
        return {"options": options, "median": self.medians, "verdict": self.verdicts, "runs": self.runs,
                "errors": self.errors, "error_count": len(self.errors), "service_metrics": self.service_metrics,
                **self.extra}


Phase = tuple[str, Callable[[str], Awaitable[Measurement]]]  # (name, measure(tag))
Breakdown = Callable[[dict[tuple, float], dict[tuple, float]], dict[str, float | None]]


def phase_tag(repeat: int, phase: int) -> str:
    """The tag of a measurement: the ids it sends carry it."""
    return f"r{repeat}p{phase}"


async def repeat_phases(service: ServiceUnderTest, phases: list[Phase], repeats: int, breakdown: Breakdown,
                        report: BenchReport, say: Callable[[str], None]) -> bool:
    """Runs every phase `repeats` times (tag phase_tag()) into report; False when one aborted."""
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as metrics_client:
        for repeat in range(1, repeats + 1):
            figures: dict[str, float | None] = {}
            phase_metrics: dict[str, dict[str, float | None]] = {}
            report.runs.append(figures)
            report.service_metrics.append(phase_metrics)
            for number, (name, measure) in enumerate(phases):
                try:
                    before = await service.scrape_metrics(metrics_client)
                    measurement = await measure(phase_tag(repeat, number))
                    after = await service.scrape_metrics(metrics_client)
                except Exception as error:
                    # E.g. the broker went away: keep what was measured so far and report it.
                    report.errors.append(f"run {repeat}: {name} aborted: {type(error).__name__}: {error}")
                    say(report.errors[-1])
                    return False
                phase_metrics[name] = breakdown(before, after)
                figures.update(measurement.figures)
                report.errors.extend(f"run {repeat}: {error}" for error in measurement.errors)
                say(f"run {repeat}/{repeats} {name}: " + ", ".join(
                    f"{figure}={value:.1f}" for figure, value in measurement.figures.items()
                    if value is not None) + (f"  ({len(measurement.errors)} errors)"
                                             if measurement.errors else ""))
    return True


def print_figures(report: BenchReport) -> None:
    """The table, the service's metrics per measurement and the errors."""
    print(render_table(report.runs, report.rows))
    print()
    print("Service metrics per measurement (median over runs):")
    for phase in report.service_metrics[0] if report.service_metrics else []:
        values = {name: median_of([run[phase] for run in report.service_metrics if phase in run], name)
                  for name in report.service_metrics[0][phase]}
        print(f"  {phase}: " + ", ".join(f"{name}={value:.1f}" for name, value in values.items()
                                          if value is not None))
    if report.errors:
        print(f"\n{len(report.errors)} error(s):")
        for error, times in Counter(report.errors).most_common(20):
            print(f"  {times}× {error}")
    else:
        print("\nno errors")


def print_report(report: BenchReport, headline: str) -> None:
    """What was measured (headline), then the figures."""
    print()
    print(headline)
    if report.options.quick:
        print("(--quick: sizes far too small for the targets to mean anything)")
    print()
    print_figures(report)


Workload = TypeVar("Workload")


class Benchmark:
    """One benchmark: a subclass gives what differs (its options, its service, its table rows, the start of its
    headline, draw(), seed() and measure()), run() starts the service and runs them, run_main() reports."""

    Options: ClassVar[type[BenchOptions]]
    service: ClassVar[str]  # run as `python -m <service>_service`
    name: ClassVar[str]  # in the name of the service's log
    reconciles: ClassVar[bool] = False  # ends with the service's GET /v1/reconciliation, any drift an error

    def __init__(self, options: BenchOptions, say: Callable[[str], None] = print) -> None:
        self.options = options
        self.say = say

    def rows(self) -> list[Row]:
        raise NotImplementedError

    def subject(self) -> str:
        """What is measured at which sizes, the headline up to the latency runs."""
        raise NotImplementedError

    def draw(self) -> str | None:
        """Before the service starts: the workload drawn up front, kept on self; what was drawn, to say so."""
        return None

    async def seed(self, env: ServiceUnderTest) -> str | None:
        """With the service running, what it must hold before it is measured; what was seeded, to say so."""
        return None

    async def measure(self, env: ServiceUnderTest, report: BenchReport) -> None:
        """Warms the service up and runs its phases (repeat_phases())."""
        raise NotImplementedError

    def headline(self, report: BenchReport) -> str:
        options = self.options
        seed = f", seed {options.seed}" if hasattr(options, "seed") else ""
        return (f"{self.subject()}, {options.rate:g}/s for {options.duration_s:g} s per latency run{seed}, "
                f"{len(report.runs)} run(s), median reported")

    def drawn_up_front(self, draw: Callable[[str, int], Workload], warmup: int,
                       flat_out: int) -> dict[str, Workload]:
        """draw(tag, count) for every measurement in the order they run: the warm-up, then per repeat the
        flat-out phase (0) and the fixed-rate phase (1), by tag."""
        options = self.options
        workloads = {"warmup": draw("warmup", warmup)}
        for repeat in range(1, options.repeats + 1):
            for phase, count in enumerate((flat_out, fixed_rate_count(options.rate, options.duration_s))):
                workloads[phase_tag(repeat, phase)] = draw(phase_tag(repeat, phase), count)
        return workloads

    async def run(self) -> BenchReport:
        """Draws, starts the service, seeds, measures, checks reconciliation, tears everything down."""
        report = BenchReport(self.options, self.rows())
        started = time.perf_counter()
        if drawn := self.draw():
            self.say(f"drew {drawn} in {time.perf_counter() - started:.1f} s")
        async with ServiceUnderTest(self.service, self.name, self.options.kafka_bootstrap,
                                    self.options.postgres_admin_url) as env:
            self.say(f"{self.service} service pid {env.service_pid} on {env.base_url}, database "
                     f"{env.database_name}, topics {env.topic_prefix}*, log {env.log_path}")
            started = time.perf_counter()
            if seeded := await self.seed(env):
                self.say(f"seeded {seeded} in {time.perf_counter() - started:.1f} s")
            await self.measure(env, report)
            if self.reconciles:
                await env.check_reconciliation(report, self.say)
        return report


def run_main(benchmark_type: type[Benchmark], description: str, argv: list[str] | None = None) -> int:
    """Parses the options (--help shows `description`), runs the benchmark on the fastest event loop at hand,
    prints its report under its headline and writes it; the exit code."""
    options = parse_options(benchmark_type.Options, description, argv)
    # ServiceProcess starts the service from the repository root (it finds it from the working directory).
    os.chdir(REPO_ROOT)
    try:
        import uvloop  # the load generator shares the cores with the service: the cheaper its loop, the better
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    # Should the broker go away, aiokafka logs every reconnection attempt, thousands of lines; the
    # measurement it breaks is reported as an error anyway.
    aiokafka_log = logging.getLogger("aiokafka")
    aiokafka_level = aiokafka_log.level
    aiokafka_log.setLevel(logging.CRITICAL)
    benchmark = benchmark_type(options, lambda line: print(line, flush=True))
    # Stopped by a signal, it still stops its services and drops their databases (as on Ctrl-C).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        report = runner(benchmark.run())
    finally:
        aiokafka_log.setLevel(aiokafka_level)
    print_report(report, benchmark.headline(report))
    json_path = report.options.json_path
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        print(f"figures written to {json_path}")
    # Missed targets are a finding, not a failure of the tool; refused, lost or wrong results are.
    return 1 if report.errors else 0
