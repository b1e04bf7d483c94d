"""Order intake benchmark: orders/s accepted via channel.orders.v1 and via POST /v1/orders, and the
latency from sending an order to reading its OrderPlaced on order.events.v1, at a steady rate.

It runs against the real broker and PostgreSQL (KAFKA_BOOTSTRAP_SERVERS, POSTGRES_ADMIN_URL) and starts
the order service as a real process on a database and a topic prefix of its own, removed at the end.

    make bench-intake BENCH_ARGS="--repeats 5 --json .local/bench-intake.json"
    .venv/bin/python tools/bench_intake.py --quick          # seconds, for the smoke test

An order counts as accepted when its OrderPlaced is read back from Kafka: that is what a downstream
service sees, so the figures include the transactional outbox and its relay, not just the database.
The machine may be shared and noisy, so every measure is repeated and the median is reported.
"""

import argparse
import asyncio
import json
import logging
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from ecomops_common.contracts import CHANNEL_ORDERS, ORDER_EVENTS
from ecomops_common.testing.plugin import ServiceProcess, free_port
from ecomops_common.testing.samples import channel_order

DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:19092"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres:postgres@127.0.0.1:15432/postgres"
CHANNEL = "bench"
JSON_HEADERS = {"content-type": "application/json"}


# ---------------------------------------------------------------------------------------------- options


@dataclass
class BenchOptions:
    topic_orders: int = 20_000
    http_orders: int = 5_000
    concurrency: int = 32
    rate: float = 200.0
    duration_s: float = 15.0
    repeats: int = 3
    # Sent before measuring and not counted: the service's consumer joins its group (a few seconds of
    # rebalance delay on a fresh topic) and connection pools fill on the first orders.
    warmup_orders: int = 200
    quick: bool = False
    json_path: Path | None = None
    kafka_bootstrap: str = field(default_factory=lambda: os.environ.get(
        "KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA_BOOTSTRAP))
    postgres_admin_url: str = field(default_factory=lambda: os.environ.get(
        "POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_ADMIN_URL))


QUICK_SIZES = {"topic_orders": 300, "http_orders": 200, "concurrency": 16, "rate": 50.0, "duration_s": 3.0,
               "repeats": 1, "warmup_orders": 20}


def parse_options(argv: list[str] | None = None) -> BenchOptions:
    defaults = BenchOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # None means "not given": --quick then picks its own small size, otherwise the default applies.
    parser.add_argument("--topic-orders", type=int, help=f"orders produced flat out (default {defaults.topic_orders})")
    parser.add_argument("--http-orders", type=int, help=f"orders POSTed flat out (default {defaults.http_orders})")
    parser.add_argument("--concurrency", type=int, help=f"concurrent POSTs (default {defaults.concurrency})")
    parser.add_argument("--rate", type=float, help=f"orders/s for the latency runs (default {defaults.rate:g})")
    parser.add_argument("--duration", dest="duration_s", type=float,
                        help=f"seconds per latency run (default {defaults.duration_s:g})")
    parser.add_argument("--repeats", type=int, help=f"runs of every measure; the median is reported "
                                                    f"(default {defaults.repeats})")
    parser.add_argument("--warmup-orders", type=int, help=f"unmeasured orders first (default {defaults.warmup_orders})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, well under a minute (smoke test)")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    options = BenchOptions(quick=args.quick, json_path=args.json_path)
    for name in ("topic_orders", "http_orders", "concurrency", "rate", "duration_s", "repeats", "warmup_orders"):
        given = getattr(args, name)
        if given is not None:
            setattr(options, name, given)
        elif args.quick:
            setattr(options, name, QUICK_SIZES[name])
    if min(options.topic_orders, options.http_orders, options.concurrency, options.repeats) < 1 \
            or options.rate <= 0 or options.duration_s <= 0 or options.warmup_orders < 0:
        parser.error("sizes, rate and duration must be positive")
    return options


# ----------------------------------------------------------------------------------------------- orders


def order_document(external_order_id: str) -> bytes:
    return json.dumps(channel_order(channel=CHANNEL, external_order_id=external_order_id)).encode()


def external_ids(tag: str, count: int) -> list[str]:
    """Ids `<tag>-<n>`: the tag (one per measurement) lets the watcher count arrivals per measurement."""
    return [f"{tag}-{number}" for number in range(count)]


def tag_of(external_order_id: str) -> str:
    return external_order_id.rsplit("-", 1)[0]


# ------------------------------------------------------------------------------------------ environment


class BenchEnvironment:
    """The order service as a real process on a fresh database and topic prefix; all removed on exit."""

    def __init__(self, options: BenchOptions) -> None:
        self.options = options
        self.run_id = secrets.token_hex(4)
        self.database_name = f"bench_{self.run_id}"
        self.topic_prefix = f"bench{self.run_id}."
        self.channel_orders_topic = self.topic_prefix + CHANNEL_ORDERS
        self.order_events_topic = self.topic_prefix + ORDER_EVENTS
        self.log_path = Path(tempfile.gettempdir()) / f"bench_intake_{self.run_id}_order.log"
        self.service: ServiceProcess | None = None

    @property
    def base_url(self) -> str:
        return self.service.base_url

    @property
    def service_pid(self) -> int:
        return self.service.process.pid

    def database_url(self) -> str:
        """The admin URL's credentials and host, this run's database, SQLAlchemy's asyncpg driver."""
        admin = urlsplit(self.options.postgres_admin_url)
        return urlunsplit(("postgresql+asyncpg", admin.netloc, "/" + self.database_name, admin.query, ""))

    async def __aenter__(self) -> "BenchEnvironment":
        admin = await asyncpg.connect(self.options.postgres_admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database_name}"')
        finally:
            await admin.close()
        port = free_port()
        self.service = ServiceProcess("order_service", {
            "ORDER_DATABASE_URL": self.database_url(),
            "KAFKA_BOOTSTRAP_SERVERS": self.options.kafka_bootstrap,
            "ECOMOPS_TOPIC_PREFIX": self.topic_prefix,
            "ORDER_HTTP_HOST": "127.0.0.1",
            "ORDER_HTTP_PORT": str(port),
        }, port, self.log_path)
        try:
            # start() polls /readyz with blocking calls: keep them off the event loop.
            await asyncio.to_thread(self.service.start, 90.0)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self.service is not None:
            await asyncio.to_thread(self.service.stop)
        try:
            await self._drop_database()
        finally:  # also when the database server is gone
            await self._delete_topics()

    async def _drop_database(self) -> None:
        admin = await asyncpg.connect(self.options.postgres_admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def _delete_topics(self) -> None:
        """Best effort: a fresh prefix per run would otherwise leave its topics on the broker forever."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.options.kafka_bootstrap)
        try:
            await admin.start()
            ours = [topic for topic in await admin.list_topics() if topic.startswith(self.topic_prefix)]
            if ours:
                await admin.delete_topics(ours)
        except Exception as error:  # leftover topics are harmless: the prefix is never reused
            print(f"note: could not delete topics {self.topic_prefix}*: {error!r}", file=sys.stderr)
        finally:
            await admin.close()

    async def scrape_metrics(self, client: httpx.AsyncClient) -> dict[tuple, float]:
        """The service's Prometheus samples as {(name, sorted labels): value}."""
        text = (await client.get(self.base_url + "/metrics")).text
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def machine_cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine since boot (Linux /proc/stat); None elsewhere."""
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks[:8]) - idle, sum(ticks[:8])  # guest time is already inside user time


class CpuUsage:
    """CPU used from creation to figures(): by the service, by this load generator and by the whole
    machine. On a small shared machine they say whether the service or the machine is the limit."""

    def __init__(self, service_pid: int) -> None:
        self.service_pid = service_pid
        self.started = time.perf_counter()
        self.service_s = process_cpu_seconds(service_pid)
        self.generator_s = time.process_time()
        self.machine = machine_cpu_ticks()

    def figures(self, measure: str) -> dict[str, float | None]:
        wall_s = time.perf_counter() - self.started
        service_s, machine = process_cpu_seconds(self.service_pid), machine_cpu_ticks()
        machine_busy = None
        if machine and self.machine and machine[1] > self.machine[1]:
            machine_busy = 100 * (machine[0] - self.machine[0]) / (machine[1] - self.machine[1])
        return {
            f"service_cpu_pct_{measure}": None if service_s is None or self.service_s is None
            else 100 * (service_s - self.service_s) / wall_s,
            f"generator_cpu_pct_{measure}": 100 * (time.process_time() - self.generator_s) / wall_s,
            f"machine_cpu_pct_{measure}": machine_busy,
        }


# ------------------------------------------------------------------------------------- OrderPlaced watch


class OrderPlacedWatcher:
    """Reads order.events.v1 from its start for the whole benchmark and notes, per external order id,
    when its first OrderPlaced was read (time.perf_counter(), the clock the senders use too)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                         auto_offset_reset="earliest", enable_auto_commit=False)
        self.read_at: dict[str, float] = {}
        self.count_by_tag: Counter[str] = Counter()
        self.last_read_by_tag: dict[str, float] = {}
        self._progress = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._read_forever(), name="order-placed-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()

    async def _read_forever(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100, max_records=10_000)
            read_at = time.perf_counter()  # the moment these records reached the reader
            for records in batches.values():
                for record in records:
                    if dict(record.headers).get("event_type") != b"OrderPlaced":
                        continue
                    external_order_id = json.loads(record.value)["payload"]["external_order_id"]
                    if external_order_id in self.read_at:
                        continue  # at-least-once delivery: only the first copy counts
                    self.read_at[external_order_id] = read_at
                    tag = tag_of(external_order_id)
                    self.count_by_tag[tag] += 1
                    self.last_read_by_tag[tag] = read_at
            if batches:
                self._progress.set()

    async def wait_for(self, tag: str, expected: int, timeout_s: float) -> int:
        """Waits until `expected` distinct OrderPlaced of `tag` were read; returns how many are missing."""
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


@dataclass(frozen=True)
class PostResponse:
    status_code: int
    text: str


class KeepAliveHttp:
    """A minimal HTTP/1.1 keep-alive client for POSTs to the service under test.

    httpx spends ~2.6 ms of CPU per request, which on a 2-core machine takes a core from the service;
    this client writes pre-built requests and reads Content-Length bodies, at a small part of that cost.
    """

    def __init__(self, base_url: str, max_connections: int) -> None:
        address = urlsplit(base_url)
        self.host, self.port = address.hostname, address.port
        self.max_connections = max_connections
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._open: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "KeepAliveHttp":
        return self

    async def __aexit__(self, *_exc) -> None:
        for writer in self._open:
            writer.close()

    async def post(self, path: str, content: bytes, headers: dict[str, str] | None = None) -> PostResponse:
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(content)}\r\n\r\n").encode()
        async with self._slots:
            while True:
                reused = bool(self._idle)
                reader, writer = self._idle.pop() if reused else await self._connect()
                try:
                    writer.write(head + content)
                    status_line = await reader.readline()
                    if not status_line and reused:
                        writer.close()  # the server closed an idle keep-alive connection: send again
                        continue
                    status = int(status_line.split()[1])
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = line.partition(b":")
                        if name.lower() == b"content-length":
                            length = int(value)
                    body = await reader.readexactly(length)
                except BaseException:
                    writer.close()
                    raise
                self._idle.append((reader, writer))
                return PostResponse(status, body.decode(errors="replace"))

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._open.append(writer)
        return reader, writer


HTTP_ERRORS = (OSError, asyncio.IncompleteReadError, ValueError, IndexError)


def http_client(base_url: str, concurrency: int) -> KeepAliveHttp:
    return KeepAliveHttp(base_url, concurrency)


def channel_order_producer(bootstrap: str, linger_ms: int) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=linger_ms, max_batch_size=1024 * 1024,
                            acks=1)


def describe_response(response: PostResponse) -> str:
    return f"HTTP {response.status_code}: {response.text[:300]}"


async def warm_up(env: BenchEnvironment, watcher: OrderPlacedWatcher, count: int) -> None:
    """Unmeasured orders through both paths, waited for: the first measurement must not pay for the
    consumer group's join or empty connection pools."""
    if count == 0:
        return
    producer = channel_order_producer(env.options.kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        for external_order_id in external_ids("warmup-topic", count):
            await producer.send(env.channel_orders_topic, value=order_document(external_order_id),
                                key=f"{CHANNEL}:{external_order_id}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    http_count = max(1, count // 4)
    async with http_client(env.base_url, env.options.concurrency) as client:
        for external_order_id in external_ids("warmup-http", http_count):
            response = await client.post("/v1/orders", content=order_document(external_order_id),
                                         headers=JSON_HEADERS)
            if response.status_code != 201:
                raise RuntimeError(f"warm-up order refused: {describe_response(response)}")
    for tag, expected in (("warmup-topic", count), ("warmup-http", http_count)):
        if missing := await watcher.wait_for(tag, expected, 120.0):
            raise RuntimeError(f"warm-up: {missing} OrderPlaced of {tag} never arrived (see {env.log_path})")


async def measure_topic_throughput(env: BenchEnvironment, watcher: OrderPlacedWatcher, tag: str,
                                   count: int) -> Measurement:
    """N orders produced flat out; orders/s = N / (first produce -> Nth distinct OrderPlaced read)."""
    messages = [(f"{CHANNEL}:{external_order_id}".encode(), order_document(external_order_id))
                for external_order_id in external_ids(tag, count)]  # built before the clock starts
    producer = channel_order_producer(env.options.kafka_bootstrap, linger_ms=10)
    await producer.start()
    cpu = CpuUsage(env.service_pid)
    try:
        started = time.perf_counter()
        deliveries = [await producer.send(env.channel_orders_topic, value=value, key=key)
                      for key, value in messages]
        await asyncio.gather(*deliveries)
        produced = time.perf_counter()
    finally:
        await producer.stop()
    missing = await watcher.wait_for(tag, count, events_timeout_s(count))
    measurement = Measurement()
    if missing:
        measurement.errors.append(f"topic throughput: {missing} of {count} OrderPlaced never read")
    finished = watcher.last_read_by_tag.get(tag, time.perf_counter())
    arrived = count - missing
    measurement.figures = {
        "topic_orders_per_s": arrived / (finished - started) if arrived else None,
        "topic_produce_orders_per_s": count / (produced - started),
        **cpu.figures("topic"),
    }
    return measurement


async def measure_http_throughput(env: BenchEnvironment, watcher: OrderPlacedWatcher, tag: str, count: int,
                                  concurrency: int) -> Measurement:
    """M orders POSTed by C concurrent keep-alive connections; orders/s = M / time to the last 201."""
    bodies = [order_document(external_order_id) for external_order_id in external_ids(tag, count)]
    measurement = Measurement()
    pending = iter(bodies)  # shared by the workers: each body is taken exactly once

    async def post_until_done(client: KeepAliveHttp) -> None:
        for body in pending:
            try:
                response = await client.post("/v1/orders", content=body, headers=JSON_HEADERS)
            except HTTP_ERRORS as error:
                measurement.errors.append(f"HTTP throughput: {type(error).__name__}: {error}")
                continue
            if response.status_code != 201:
                measurement.errors.append(f"HTTP throughput: {describe_response(response)}")

    async with http_client(env.base_url, concurrency) as client:
        cpu = CpuUsage(env.service_pid)
        started = time.perf_counter()
        await asyncio.gather(*(post_until_done(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu_figures = cpu.figures("http")
    accepted = count - len(measurement.errors)
    # Not timed, but waited for: the relay's backlog must not spill into the next measurement.
    if missing := await watcher.wait_for(tag, accepted, events_timeout_s(count)):
        measurement.errors.append(f"HTTP throughput: {missing} of {accepted} OrderPlaced never read")
    measurement.figures = {
        "http_orders_per_s": accepted / elapsed if accepted else None,
        **cpu_figures,
    }
    return measurement


async def send_at_fixed_rate(rate: float, duration_s: float, send_one: Callable[[int], None]) -> tuple[int, float]:
    """Calls send_one(n) at start + n/rate (an absolute schedule: a late call does not push the later
    ones back, so the rate holds even when the loop stalls). Returns (calls, achieved rate)."""
    count = max(1, round(rate * duration_s))
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


async def measure_topic_latency(env: BenchEnvironment, watcher: OrderPlacedWatcher, tag: str,
                                rate: float, duration_s: float) -> Measurement:
    """Orders produced at a fixed rate; latency = OrderPlaced read - produce call."""
    ids = external_ids(tag, max(1, round(rate * duration_s)))
    messages = [(f"{CHANNEL}:{external_order_id}".encode(), order_document(external_order_id))
                for external_order_id in ids]
    sent_at: dict[str, float] = {}
    sends: list[asyncio.Task] = []
    # A connector's producer at a modest rate: a short linger, so batching adds at most a millisecond.
    producer = channel_order_producer(env.options.kafka_bootstrap, linger_ms=1)
    await producer.start()
    try:
        def send_one(number: int) -> None:
            key, value = messages[number]
            sent_at[ids[number]] = time.perf_counter()
            sends.append(asyncio.create_task(producer.send_and_wait(env.channel_orders_topic, value=value, key=key)))

        count, achieved = await send_at_fixed_rate(rate, duration_s, send_one)
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    measurement = _latencies(watcher, tag, sent_at, await watcher.wait_for(tag, count, events_timeout_s(count)),
                             "topic")
    measurement.figures["topic_achieved_rate"] = achieved
    return measurement


async def measure_http_latency(env: BenchEnvironment, watcher: OrderPlacedWatcher, tag: str,
                               rate: float, duration_s: float, concurrency: int) -> Measurement:
    """Orders POSTed at a fixed rate, each on its own task (open loop: a slow response does not delay
    the next order); latency = OrderPlaced read - POST start. The response time is reported too."""
    ids = external_ids(tag, max(1, round(rate * duration_s)))
    bodies = [order_document(external_order_id) for external_order_id in ids]
    sent_at: dict[str, float] = {}
    response_ms: list[float] = []
    errors: list[str] = []
    posts: list[asyncio.Task] = []

    async with http_client(env.base_url, concurrency) as client:
        async def post(number: int) -> None:
            started = sent_at[ids[number]] = time.perf_counter()
            try:
                response = await client.post("/v1/orders", content=bodies[number], headers=JSON_HEADERS)
            except HTTP_ERRORS as error:
                errors.append(f"HTTP latency: {type(error).__name__}: {error}")
                del sent_at[ids[number]]
                return
            response_ms.append(1000 * (time.perf_counter() - started))
            if response.status_code != 201:
                errors.append(f"HTTP latency: {describe_response(response)}")
                del sent_at[ids[number]]

        def start_post(number: int) -> None:
            posts.append(asyncio.create_task(post(number)))

        _, achieved = await send_at_fixed_rate(rate, duration_s, start_post)
        await asyncio.gather(*posts)
    missing = await watcher.wait_for(tag, len(sent_at), events_timeout_s(len(ids)))
    measurement = _latencies(watcher, tag, sent_at, missing, "http")
    measurement.errors[:0] = errors
    measurement.figures.update({
        "http_achieved_rate": achieved,
        "http_response_p50_ms": percentile(response_ms, 0.50),
        "http_response_p99_ms": percentile(response_ms, 0.99),
    })
    return measurement


def _latencies(watcher: OrderPlacedWatcher, tag: str, sent_at: dict[str, float], missing: int,
               path: str) -> Measurement:
    latencies_ms = [1000 * (watcher.read_at[external_order_id] - sent)
                    for external_order_id, sent in sent_at.items() if external_order_id in watcher.read_at]
    measurement = Measurement(figures={
        f"{path}_latency_p50_ms": percentile(latencies_ms, 0.50),
        f"{path}_latency_p99_ms": percentile(latencies_ms, 0.99),
    })
    if missing:
        measurement.errors.append(f"{path} latency: {missing} of {len(sent_at)} OrderPlaced never read")
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


def table_rows(rate: float) -> list[Row]:
    at = f"@{rate:g}/s"
    return [
        Row("topic_orders_per_s", "topic orders/s", (">=", 2000)),
        Row("http_orders_per_s", "HTTP orders/s", (">=", 500)),
        Row("topic_latency_p50_ms", f"p50 ms topic {at}", digits=1),
        Row("topic_latency_p99_ms", f"p99 ms topic {at}", ("<", 100), digits=1),
        Row("http_latency_p50_ms", f"p50 ms HTTP {at}", digits=1),
        Row("http_latency_p99_ms", f"p99 ms HTTP {at}", ("<", 100), digits=1),
        # For reading the ones above: is the load generator keeping up, where does the time go?
        Row("topic_achieved_rate", "achieved orders/s topic (latency run)", digits=1),
        Row("http_achieved_rate", "achieved orders/s HTTP (latency run)", digits=1),
        Row("http_response_p50_ms", f"p50 ms HTTP response only {at}", digits=1),
        Row("http_response_p99_ms", f"p99 ms HTTP response only {at}", digits=1),
        Row("topic_produce_orders_per_s", "produce orders/s (generator, topic run)"),
        # A Python service runs on one core: near 100 % its event loop is the limit. The machine's
        # figure is over all its cores: near 100 % nothing here can go faster on this machine.
        Row("service_cpu_pct_topic", "service CPU % of one core (topic run)"),
        Row("generator_cpu_pct_topic", "load generator CPU % of one core (topic run)"),
        Row("machine_cpu_pct_topic", "machine CPU busy % of all cores (topic run)"),
        Row("service_cpu_pct_http", "service CPU % of one core (HTTP run)"),
        Row("generator_cpu_pct_http", "load generator CPU % of one core (HTTP run)"),
        Row("machine_cpu_pct_http", "machine CPU busy % of all cores (HTTP run)"),
    ]


def median_of(runs: list[dict[str, float | None]], figure: str) -> float | None:
    values = [run[figure] for run in runs if run.get(figure) is not None]
    return statistics.median(values) if values else None


def render_table(runs: list[dict[str, float | None]], rate: float) -> str:
    def number(value: float | None, digits: int) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    lines = ["| measure | median | runs | target | verdict |", "| --- | ---: | --- | --- | --- |"]
    for row in table_rows(rate):
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


def service_breakdown(before: dict[tuple, float], after: dict[tuple, float]) -> dict[str, float | None]:
    """From the service's own metrics over one measurement: where a consumed batch and a POST spend time."""
    batches = metric_delta(before, after, "ecomops_handler_duration_seconds_count")  # the service has one consumer
    batch_s = metric_delta(before, after, "ecomops_handler_duration_seconds_sum")  # the service has one consumer
    handled = metric_delta(before, after, "ecomops_messages_handled_total")  # the service has one consumer
    posts = metric_delta(before, after, "ecomops_http_request_duration_seconds_count", method="POST",
                         route="/v1/orders")
    post_s = metric_delta(before, after, "ecomops_http_request_duration_seconds_sum", method="POST",
                          route="/v1/orders")
    return {
        "consumed_batches": batches,
        "mean_batch_size": handled / batches if batches else None,
        "mean_batch_ms": 1000 * batch_s / batches if batches else None,
        "posts": posts,
        "mean_post_ms": 1000 * post_s / posts if posts else None,
        "outbox_published": metric_delta(before, after, "ecomops_outbox_published_total"),
        "outbox_publish_errors": metric_delta(before, after, "ecomops_outbox_publish_errors_total"),
    }


# ------------------------------------------------------------------------------------------------- main


@dataclass
class BenchReport:
    options: BenchOptions
    runs: list[dict[str, float | None]]
    errors: list[str]
    service_metrics: list[dict[str, dict[str, float | None]]]

    @property
    def medians(self) -> dict[str, float | None]:
        return {row.figure: median_of(self.runs, row.figure) for row in table_rows(self.options.rate)}

    @property
    def verdicts(self) -> dict[str, str]:
        medians = self.medians
        return {row.figure: row.verdict(medians[row.figure]) for row in table_rows(self.options.rate)
                if row.target}

    def to_json(self) -> dict:
        options = {name: str(value) if isinstance(value, Path) else value
                   for name, value in asdict(self.options).items() if name != "postgres_admin_url"}
        return {"options": options, "median": self.medians, "verdict": self.verdicts, "runs": self.runs,
                "errors": self.errors, "error_count": len(self.errors), "service_metrics": self.service_metrics}


async def run_benchmark(options: BenchOptions, say: Callable[[str], None] = print) -> BenchReport:
    """Starts the environment, warms up, runs every measure `repeats` times, tears everything down."""
    runs: list[dict[str, float | None]] = []
    errors: list[str] = []
    service_metrics: list[dict[str, dict[str, float | None]]] = []
    async with BenchEnvironment(options) as env:
        say(f"order service pid {env.service_pid} on {env.base_url}, database {env.database_name}, "
            f"topics {env.topic_prefix}*, log {env.log_path}")
        watcher = OrderPlacedWatcher(options.kafka_bootstrap, env.order_events_topic)
        await watcher.start()
        try:
            await warm_up(env, watcher, options.warmup_orders)
            phases = [
                ("topic throughput", lambda tag: measure_topic_throughput(env, watcher, tag, options.topic_orders)),
                ("HTTP throughput", lambda tag: measure_http_throughput(
                    env, watcher, tag, options.http_orders, options.concurrency)),
                ("topic latency", lambda tag: measure_topic_latency(
                    env, watcher, tag, options.rate, options.duration_s)),
                ("HTTP latency", lambda tag: measure_http_latency(
                    env, watcher, tag, options.rate, options.duration_s, options.concurrency)),
            ]
            async with httpx.AsyncClient(trust_env=False, timeout=30.0) as metrics_client:
                for repeat in range(1, options.repeats + 1):
                    figures: dict[str, float | None] = {}
                    phase_metrics: dict[str, dict[str, float | None]] = {}
                    runs.append(figures)
                    service_metrics.append(phase_metrics)
                    for number, (name, measure) in enumerate(phases):
                        try:
                            before = await env.scrape_metrics(metrics_client)
                            measurement = await measure(f"r{repeat}p{number}")
                            after = await env.scrape_metrics(metrics_client)
                        except Exception as error:
                            # E.g. the broker went away: keep what was measured so far and report it.
                            errors.append(f"run {repeat}: {name} aborted: {type(error).__name__}: {error}")
                            say(errors[-1])
                            return BenchReport(options, runs, errors, service_metrics)
                        phase_metrics[name] = service_breakdown(before, after)
                        figures.update(measurement.figures)
                        errors.extend(f"run {repeat}: {error}" for error in measurement.errors)
                        say(f"run {repeat}/{options.repeats} {name}: " + ", ".join(
                            f"{figure}={value:.1f}" for figure, value in measurement.figures.items()
                            if value is not None) + (f"  ({len(measurement.errors)} errors)"
                                                     if measurement.errors else ""))
        finally:
            await watcher.stop()
    return BenchReport(options, runs, errors, service_metrics)


def print_report(report: BenchReport) -> None:
    options = report.options
    print()
    print(f"Order intake: {options.topic_orders} topic orders, {options.http_orders} HTTP orders with "
          f"concurrency {options.concurrency}, {options.rate:g}/s for {options.duration_s:g} s per latency run, "
          f"{len(report.runs)} run(s), median reported")
    if options.quick:
        print("(--quick: sizes far too small for the targets to mean anything)")
    print()
    print(render_table(report.runs, options.rate))
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


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    # ServiceProcess starts the service from the repository root (it finds it from the working directory).
    os.chdir(Path(__file__).resolve().parents[1])
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
    try:
        report = runner(run_benchmark(options, say=lambda line: print(line, flush=True)))
    finally:
        aiokafka_log.setLevel(aiokafka_level)
    print_report(report)
    if options.json_path:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        print(f"figures written to {options.json_path}")
    # Missed targets are a finding, not a failure of the tool; refused or lost orders are.
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
