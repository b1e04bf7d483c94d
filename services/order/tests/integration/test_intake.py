"""Order intake over HTTP and Kafka against the real broker and PostgreSQL, service in-process."""

import asyncio
import json

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ecomops_common.migrations import SchemaNotCurrent, upgrade
from ecomops_common.telemetry import setup_tracing
from ecomops_common.testing.plugin import consume_until, produce, running
from order_service.bootstrap import build_app
from order_service.migrations import MIGRATIONS
from order_service.settings import OrderSettings

pytestmark = pytest.mark.integration
spans = InMemorySpanExporter()
setup_tracing("order-tests", None, SimpleSpanProcessor(spans))


def events_of(records, event_type):
    return [json.loads(r.value) for r in records if dict(r.headers).get("event_type") == event_type.encode()]


async def test_post_stores_the_order_and_publishes_order_placed_in_the_same_trace(order_service, order_json):
    settings = order_service.settings
    spans.clear()
    response = await order_service.post("/v1/orders", json=order_json())
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "awaiting_allocation" and order["holds"] == []
    assert response.headers["location"] == f"/v1/orders/{order['id']}"
    assert [(t["from_status"], t["to_status"]) for t in order["history"]] == [
        (None, "received"), ("received", "awaiting_allocation")]

    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic("order.events.v1"),
                                  lambda rs: len(rs) >= 1)
    (record,) = records
    envelope = json.loads(record.value)
    assert record.key.decode() == order["id"]
    assert envelope["event_type"] == "OrderPlaced" and envelope["payload"]["total"] == "64.96"
    assert envelope["payload"]["status"] == "awaiting_allocation" and envelope["payload"]["holds"] == []
    assert dict(record.headers)["event_id"].decode() == envelope["event_id"]
    server_span = next(s for s in spans.get_finished_spans() if s.name == "POST /v1/orders")
    assert envelope["traceparent"].split("-")[1] == format(server_span.context.trace_id, "032x")

    fetched = (await order_service.get(f"/v1/orders/{order['id']}")).json()
    assert fetched["order"]["lines"][0]["unit_price"] == "19.99"
    assert fetched["placed_at"] == "2026-11-20T10:00:00Z"
    assert fetched["history"] == order["history"]


async def test_copies_sent_at_the_same_instant_create_one_order(order_service, order_json):
    responses = await asyncio.gather(*(order_service.post("/v1/orders", json=order_json()) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    page = (await order_service.get("/v1/orders", params={"channel": "web-eu"})).json()
    assert len(page["items"]) == 1


async def test_malformed_orders_get_a_message_per_field(order_service, order_json):
    body = order_json(tax=1.5)
    del body["currency"]
    body["lines"][0]["quantity"] = "three"
    response = await order_service.post("/v1/orders", json=body)
    assert response.status_code == 422
    problems = {tuple(d["loc"]): d["msg"] for d in response.json()["detail"]}
    assert ("body", "currency") in problems
    assert ("body", "lines", 0, "quantity") in problems
    assert "decimal string" in problems[("body", "tax")]


async def test_business_rule_violation_is_stored_rejected_and_announced(order_service, order_json):
    settings = order_service.settings
    body = order_json(currency="XYZ")
    body["lines"][0]["quantity"] = 0
    response = await order_service.post("/v1/orders", json=body)
    assert response.status_code == 422
    rejected = response.json()
    assert rejected["status"] == "rejected"
    assert {tuple(d["loc"]) for d in rejected["detail"]} >= {("body", "currency"), ("body", "lines", "0", "quantity")}
    assert (await order_service.get(f"/v1/orders/{rejected['order_id']}")).json()["status"] == "rejected"
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic("order.events.v1"),
                                  lambda rs: len(rs) >= 1)
    (event,) = events_of(records, "OrderRejected")
    assert {r["code"] for r in event["payload"]["reasons"]} >= {"unknown_currency", "non_positive_quantity"}


async def test_listing_pages_with_a_cursor_and_filters(order_service, order_json):
    for number in range(5):
        await order_service.post("/v1/orders", json=order_json(external_order_id=f"p{number}"))
    await order_service.post("/v1/orders", json=order_json(external_order_id="other", channel="market-1"))
    seen, cursor = [], None
    while True:
        page = (await order_service.get("/v1/orders", params={"channel": "web-eu", "limit": 2,
                                                              **({"cursor": cursor} if cursor else {})})).json()
        seen += [item["external_order_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"p{n}" for n in range(5)]
    assert (await order_service.get("/v1/orders", params={"status": "awaiting_allocation"})).json()["items"]
    assert (await order_service.get("/v1/orders", params={"status": "bogus"})).status_code == 422
    assert (await order_service.get("/v1/orders", params={"cursor": "%%%"})).status_code == 422
    assert (await order_service.get("/v1/orders/nope")).status_code == 404


async def test_topic_intake_dead_letters_bad_messages_and_keeps_going(order_service, order_json):
    settings = order_service.settings
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topic("channel.orders.v1")
    good = json.dumps(order_json(external_order_id="k1")).encode()
    # One key, so all land in one partition: the poison ones sit between the good ones.
    await produce(bootstrap, topic, [
        (b"web-eu:k1", good),
        (b"web-eu:k1", b"{not json"),
        (b"web-eu:k1", json.dumps({"channel": "web-eu"}).encode()),
        (b"web-eu:k1", good),  # an exact duplicate
        (b"web-eu:k1", json.dumps(order_json(external_order_id="k2", currency="XYZ")).encode()),
        (b"web-eu:k1", json.dumps(order_json(external_order_id="k3")).encode()),
    ])
    # Header bytes that are not UTF-8 must not cost the batch (FastStream alone would drop it).
    await produce(bootstrap, topic, [(b"web-eu:k1", json.dumps(order_json(external_order_id="k4")).encode())],
                  headers=[("x-binary", b"\xff\xfe")])
    events = await consume_until(bootstrap, settings.topic("order.events.v1"), lambda rs: len(rs) >= 4)
    placed = events_of(events, "OrderPlaced")
    assert sorted(e["payload"]["external_order_id"] for e in placed) == ["k1", "k3", "k4"]
    assert [e["payload"]["external_order_id"] for e in events_of(events, "OrderRejected")] == ["k2"]

    dead = await consume_until(bootstrap, topic + ".dlq", lambda rs: len(rs) >= 2)
    reasons = sorted((dict(r.headers)["dlq_reason"].decode(), int(dict(r.headers)["dlq_original_offset"]))
                     for r in dead)
    assert [reason for reason, _ in reasons] == ["schema_invalid", "unparseable"]
    assert all(dict(r.headers)["dlq_original_topic"].decode() == topic for r in dead)
    assert {r.value for r in dead} == {b"{not json", json.dumps({"channel": "web-eu"}).encode()}
    await asyncio.sleep(0.5)
    assert len(await consume_until(bootstrap, settings.topic("order.events.v1"), lambda rs: False, timeout=1)) == 4


async def test_with_no_database_configured_it_runs_embedded_on_sqlite(tmp_path, kafka_bootstrap, topic_prefix,
                                                                      order_json, monkeypatch):
    monkeypatch.delenv("ORDER_DATABASE_URL", raising=False)
    monkeypatch.delenv("ORDER_MIGRATION_DATABASE_URL", raising=False)
    monkeypatch.delenv("OIDC_ISSUER", raising=False)
    # Local development without an issuer: the static token stands for an admin.
    settings = OrderSettings(data_dir=tmp_path, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix,
                             api_token="local-token")
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    with pytest.raises(SchemaNotCurrent, match="ecomops-migrate upgrade --service order"):
        async with running(build_app(settings)):
            pass
    await asyncio.to_thread(upgrade, MIGRATIONS, settings.migration_database_url)
    app = build_app(settings)
    async with running(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://order",
                                     headers={"authorization": "Bearer local-token"}) as client:
            first = await client.post("/v1/orders", json=order_json())
            again = await client.post("/v1/orders", json=order_json())
            assert (first.status_code, again.status_code) == (201, 200)
            assert first.json()["history"][0]["actor"] == "development-token"
            records = await consume_until(kafka_bootstrap, settings.topic("order.events.v1"), lambda rs: len(rs) >= 1)
    assert [json.loads(r.value)["aggregate_id"] for r in records] == [first.json()["id"]]
    assert (tmp_path / "order.db").exists()


async def test_operations_endpoints(order_service, order_json):
    assert (await order_service.get("/healthz")).json() == {"status": "ok"}
    ready = await order_service.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {
        "ready": True, "degraded": [], "checks": {"database": "ok", "kafka": "ok", "consumers": "ok"}}
    placed = await order_service.post("/v1/orders", json=order_json(), headers={"x-correlation-id": "corr-1"})
    assert placed.headers["x-correlation-id"] == "corr-1"
    metrics = (await order_service.get("/metrics")).text
    for name in ("ecomops_handler_duration_seconds", "ecomops_consumer_lag_messages", "ecomops_outbox_backlog",
                 "ecomops_outbox_oldest_unpublished_age_seconds", "ecomops_duplicates_skipped_total",
                 "ecomops_dead_letters_total", "ecomops_http_request_duration_seconds_bucket"):
        assert name in metrics, name
    assert 'route="/v1/orders"' in metrics
    assert 'ecomops_order_transitions_total{status="received"}' in metrics
