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

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ecomops_common.auth import CONNECTOR
from ecomops_common.contracts import CATALOG_SKUS, CHANNEL_ORDERS, ORDER_EVENTS
from ecomops_common.testing.issuer import test_issuer
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
    catalog_records,
    consumer_figures,
    cpu_rows,
    events_timeout_s,
    fixed_rate_count,
    latencies,
    measure_fixed_rate,
    measure_flat_out,
    metric_delta,
    option,
    outbox_figures,
    percentile,
    produce_all,
    repeat_phases,
    run_main,
    send_at_fixed_rate,
    tagged_ids,
    wait_for_rows,
)

CHANNEL = "bench"
# POST /v1/orders as the channel's connector, with a token of the benchmark's issuer (benchlib): the token's
# check is part of what an order costs.
JSON_HEADERS = {"content-type": "application/json",
                **test_issuer().bearer("bench-connector", CONNECTOR, client="bench-connector", channels=[CHANNEL])}


# ---------------------------------------------------------------------------------------------- options


@dataclass
class IntakeOptions(BenchOptions):
    topic_orders: int = option(20_000, "orders produced flat out", quick=300)
    http_orders: int = option(5_000, "orders POSTed flat out", quick=200)
    concurrency: int = option(32, "concurrent POSTs", quick=16)
    warmup_orders: int = option(200, "unmeasured orders first", quick=20, must_be="non-negative")


# ----------------------------------------------------------------------------------------------- orders


def order_document(external_order_id: str) -> bytes:
    return json.dumps(channel_order(channel=CHANNEL, external_order_id=external_order_id)).encode()


def topic_messages(external_order_ids: list[str]) -> list[Message]:
    """Channel orders keyed `<channel>:<external_order_id>`, as a connector produces them."""
    return [(external_order_id, f"{CHANNEL}:{external_order_id}".encode(), order_document(external_order_id), None)
            for external_order_id in external_order_ids]


# ----------------------------------------------------------------------------------------- measurements


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
        fields = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{fields}Content-Length: {len(content)}\r\n\r\n".encode()
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


def describe_response(response: PostResponse) -> str:
    return f"HTTP {response.status_code}: {response.text[:300]}"


async def warm_up(env: ServiceUnderTest, watcher: FirstEventWatcher, count: int, concurrency: int) -> None:
    """Unmeasured orders through both paths, waited for: the first measurement must not pay for the
    consumer group's join or empty connection pools."""
    if count == 0:
        return
    await produce_all(env.kafka_bootstrap, env.topic(CHANNEL_ORDERS), topic_messages(tagged_ids("warmup-topic", count)))
    http_count = max(1, count // 4)
    async with http_client(env.base_url, concurrency) as client:
        for external_order_id in tagged_ids("warmup-http", http_count):
            response = await client.post("/v1/orders", content=order_document(external_order_id),
                                         headers=JSON_HEADERS)
            if response.status_code != 201:
                raise RuntimeError(f"warm-up order refused: {describe_response(response)}")
    for tag, expected in (("warmup-topic", count), ("warmup-http", http_count)):
        if missing := await watcher.wait_for(tag, expected, 120.0):
            raise RuntimeError(f"warm-up: {missing} OrderPlaced of {tag} never arrived (see {env.log_path})")


async def measure_topic_throughput(env: ServiceUnderTest, watcher: FirstEventWatcher, tag: str,
                                   count: int) -> Measurement:
    """N orders produced flat out; orders/s = N / (first produce -> Nth distinct OrderPlaced read)."""
    messages = topic_messages(tagged_ids(tag, count))  # built before the clock starts
    return await measure_flat_out(env, watcher, tag, env.topic(CHANNEL_ORDERS), messages, "topic")


async def measure_http_throughput(env: ServiceUnderTest, watcher: FirstEventWatcher, tag: str, count: int,
                                  concurrency: int) -> Measurement:
    """M orders POSTed by C concurrent keep-alive connections; orders/s = M / time to the last 201."""
    bodies = [order_document(external_order_id) for external_order_id in tagged_ids(tag, count)]
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
        cpu = await CpuMeter(env.service_pid).start()
        started = time.perf_counter()
        await asyncio.gather(*(post_until_done(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu_figures = await cpu.figures("http")
    accepted = count - len(measurement.errors)
    # Not timed, but waited for: the relay's backlog must not spill into the next measurement.
    if missing := await watcher.wait_for(tag, accepted, events_timeout_s(count)):
        measurement.errors.append(f"HTTP throughput: {missing} of {accepted} OrderPlaced never read")
    measurement.figures = {
        "http_orders_per_s": accepted / elapsed if accepted else None,
        **cpu_figures,
    }
    return measurement


async def measure_topic_latency(env: ServiceUnderTest, watcher: FirstEventWatcher, tag: str,
                                rate: float, duration_s: float) -> Measurement:
    """Orders produced at a fixed rate; latency = OrderPlaced read - produce call."""
    messages = topic_messages(tagged_ids(tag, fixed_rate_count(rate, duration_s)))
    return await measure_fixed_rate(env, watcher, tag, env.topic(CHANNEL_ORDERS), messages, rate, duration_s, "topic")


async def measure_http_latency(env: ServiceUnderTest, watcher: FirstEventWatcher, tag: str,
                               rate: float, duration_s: float, concurrency: int) -> Measurement:
    """Orders POSTed at a fixed rate, each on its own task (open loop: a slow response does not delay
    the next order); latency = OrderPlaced read - POST start. The response time is reported too."""
    ids = tagged_ids(tag, fixed_rate_count(rate, duration_s))
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
    measurement = latencies(watcher, tag, sent_at, missing, "http")
    measurement.errors[:0] = errors
    measurement.figures.update({
        "http_achieved_rate": achieved,
        "http_response_p50_ms": percentile(response_ms, 0.50),
        "http_response_p99_ms": percentile(response_ms, 0.99),
    })
    return measurement


# ------------------------------------------------------------------------------------------- the benchmark


def service_breakdown(before: dict[tuple, float], after: dict[tuple, float]) -> dict[str, float | None]:
    """From the service's own metrics over one measurement: where a consumed batch and a POST spend time."""
    posts = metric_delta(before, after, "ecomops_http_request_duration_seconds_count", method="POST",
                         route="/v1/orders")
    post_s = metric_delta(before, after, "ecomops_http_request_duration_seconds_sum", method="POST",
                          route="/v1/orders")
    return {
        **consumer_figures(before, after),  # the service has one consumer
        "posts": posts,
        "mean_post_ms": 1000 * post_s / posts if posts else None,
        **outbox_figures(before, after),
    }


class IntakeBenchmark(Benchmark):
    Options = IntakeOptions
    options: IntakeOptions
    service, name = "order", "intake"

    def subject(self) -> str:
        options = self.options
        return (f"Order intake: {options.topic_orders} topic orders, {options.http_orders} HTTP orders with "
                f"concurrency {options.concurrency}")

    def rows(self) -> list[Row]:
        at = f"@{self.options.rate:g}/s"
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
            *cpu_rows("topic", "topic run"),
            *cpu_rows("http", "HTTP run"),
        ]

    async def seed(self, env: ServiceUnderTest) -> str:
        """The order's SKUs in the SKU master, as the catalog publishes them (else every order would be held)."""
        skus = sorted({line["sku"] for line in channel_order()["lines"]})
        await produce_all(env.kafka_bootstrap, env.topic(CATALOG_SKUS), catalog_records(skus))
        await wait_for_rows(env.database_dsn(), "SELECT count(*) FROM order_catalog_skus", len(skus), 60,
                            "the SKU master, at the order service,")
        return f"{len(skus)} SKU(s) in the SKU master"

    async def measure(self, env: ServiceUnderTest, report: BenchReport) -> None:
        options = self.options
        # Notes, per external order id, when its first OrderPlaced was read on order.events.v1.
        watcher = FirstEventWatcher(options.kafka_bootstrap, env.topic(ORDER_EVENTS), {"OrderPlaced"},
                                    "external_order_id", "OrderPlaced")
        await watcher.start()
        try:
            await warm_up(env, watcher, options.warmup_orders, options.concurrency)
            phases = [
                ("topic throughput", lambda tag: measure_topic_throughput(env, watcher, tag, options.topic_orders)),
                ("HTTP throughput", lambda tag: measure_http_throughput(
                    env, watcher, tag, options.http_orders, options.concurrency)),
                ("topic latency", lambda tag: measure_topic_latency(
                    env, watcher, tag, options.rate, options.duration_s)),
                ("HTTP latency", lambda tag: measure_http_latency(
                    env, watcher, tag, options.rate, options.duration_s, options.concurrency)),
            ]
            await repeat_phases(env, phases, options.repeats, service_breakdown, report, self.say)
        finally:
            await watcher.stop()


def main(argv: list[str] | None = None) -> int:
    return run_main(IntakeBenchmark, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
