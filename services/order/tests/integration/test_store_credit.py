"""Orders paid with store credit, settled by finance (finance.events.v1), and graded variants sold only on their
channels (warehouse.events.v1), on Kafka and PostgreSQL."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ecomops_common.auth import CONNECTOR, FINANCE_CLERK, SUPERVISOR
from ecomops_common.contracts import CHANNEL_ORDERS, CHANNEL_PAYMENTS, FINANCE_EVENTS, ORDER_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.finance import StoreCreditChanged
from ecomops_common.contracts.warehouse import GradedVariantDefined
from ecomops_common.db import Database
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer as issuer  # aliased: pytest would collect test_issuer
from ecomops_common.testing.plugin import (
    committed_offset_total,
    consume_until,
    eventually,
    produce,
    produce_events,
)
from order_service.domain.model import GradedVariant
from order_service.service_layer.handlers import FINANCE_CONSUMER, WAREHOUSE_CONSUMER
from order_service.service_layer.unit_of_work import SqlOrderUnitOfWork

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
WEB_CONNECTOR = issuer().bearer("conn-web", CONNECTOR, client="connector-web-eu", channels=["web-eu"])


def store_credit_body(order_json, external_order_id: str) -> dict:
    body = order_json(external_order_id=external_order_id)
    body["payment"]["method"] = "store_credit"  # "authorized", as the channel claims: not its to say
    return body


def store_credit(order_id: str | None, kind: str, movement_id: str, reason: str | None = None):
    """StoreCreditChanged as finance's outbox publishes it: enveloped, keyed by the customer."""
    return new_event("StoreCreditChanged", 1, "finance", "store_credit", "cust-42", StoreCreditChanged(
        movement_id=movement_id, customer_id="cust-42", kind=kind, amount=Decimal("64.96"), currency="EUR",
        balance=Decimal("35.04"), order_id=order_id, reason=reason, at=AT))


async def handled(settings, consumer: str, topic: str, count: int) -> None:
    async def all_handled() -> bool:
        group = settings.consumer_group(consumer)
        return await committed_offset_total(settings.kafka_bootstrap_servers, group, topic) == count

    await eventually(all_handled)


async def no_dead_letters(settings, topic: str) -> bool:
    """Dead letters are sent before the offsets are committed: none by now means none at all."""
    return await consume_until(settings.kafka_bootstrap_servers, topic + ".dlq", lambda records: False,
                               timeout=2) == []


async def test_finance_settles_store_credit_orders_once_and_nobody_else_can(order_service, order_json):
    settings = order_service.settings
    redeemed, declined, card = [(await order_service.post("/v1/orders", json=body, headers=WEB_CONNECTOR)).json()
                                for body in (store_credit_body(order_json, "sc-1"),
                                             store_credit_body(order_json, "sc-2"),
                                             order_json(external_order_id="card-1"))]
    for order in (redeemed, declined):
        assert order["status"] == "on_hold" and order["holds"] == ["payment_hold"]
        assert order["history"][-1]["reason"] == "payment_hold (waiting for finance to redeem the store credit)"
    assert card["status"] == "awaiting_allocation"

    # Neither the channel's connector nor a finance clerk settles store credit over HTTP, ...
    payment_url = f"/v1/orders/{redeemed['id']}/payment"
    for caller in (WEB_CONNECTOR, issuer().bearer("fin-bob", FINANCE_CLERK)):
        refused = await order_service.post(payment_url, json={"status": "authorized"}, headers=caller)
        assert refused.status_code == 409 and "paid with store_credit" in refused.json()["detail"]
    # ... nor a supervisor's release ...
    release = await order_service.post(f"/v1/orders/{redeemed['id']}/holds/payment_hold/release", json={},
                                       headers=issuer().bearer("jane", SUPERVISOR))
    assert release.status_code == 409 and "paid with store_credit" in release.json()["detail"]
    # ... nor the channel on its topic: dead-lettered with the reason, as other refused payment updates are.
    update = {"channel": "web-eu", "external_order_id": "sc-1", "status": "captured"}
    await produce(settings.kafka_bootstrap_servers, settings.topic(CHANNEL_PAYMENTS),
                  [(b"web-eu:sc-1", json.dumps(update).encode())])
    (dead,) = await consume_until(settings.kafka_bootstrap_servers, settings.topic(CHANNEL_PAYMENTS) + ".dlq",
                                  lambda records: len(records) >= 1)
    assert "paid with store_credit" in dict(dead.headers)["dlq_error"].decode()

    answer = store_credit(redeemed["id"], "redeemed", "m-1")
    events = [answer, answer,  # redelivered: the same event id
              store_credit(redeemed["id"], "redeemed", "m-1b"),  # a second answer: the order no longer waits
              store_credit(declined["id"], "declined", "m-2", reason="balance 10.00 EUR is short of 64.96"),
              store_credit(card["id"], "redeemed", "m-3"),  # not paid with store credit
              store_credit("an-order-not-stored-here", "redeemed", "m-4"),
              store_credit(None, "issued", "m-5")]  # finance's own bookkeeping
    topic = settings.topic(FINANCE_EVENTS)
    await produce_events(settings.kafka_bootstrap_servers, topic, events)
    await handled(settings, FINANCE_CONSUMER, topic, len(events))
    assert await no_dead_letters(settings, topic)

    released = (await order_service.get(f"/v1/orders/{redeemed['id']}")).json()
    assert released["status"] == "awaiting_allocation" and released["holds"] == []
    (release,) = [t for t in released["history"] if t["actor"] == "finance:store-credit"]
    assert release["from_status"] == "on_hold" and release["to_status"] == "awaiting_allocation"
    assert release["reason"] == "payment_hold released: store credit redeemed (amount 64.96 EUR, movement m-1)"

    rejected = (await order_service.get(f"/v1/orders/{declined['id']}")).json()
    assert rejected["status"] == "rejected" and rejected["holds"] == []
    assert (rejected["history"][-1]["actor"], rejected["history"][-1]["reason"]) == (
        "finance:store-credit", "store credit declined (amount 64.96 EUR, movement m-2, balance 10.00 EUR is short "
                                "of 64.96)")
    unchanged = (await order_service.get(f"/v1/orders/{card['id']}")).json()
    assert unchanged["status"] == "awaiting_allocation" and unchanged["history"] == card["history"]

    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS),
                                  lambda rs: sum(dict(r.headers)["event_type"] == b"OrderStatusChanged"
                                                 for r in rs) >= 2, timeout=10)
    changes = [json.loads(r.value) for r in records if dict(r.headers)["event_type"] == b"OrderStatusChanged"]
    assert sorted((c["payload"]["order_id"], c["payload"]["to_status"], c["causation_id"]) for c in changes) == sorted(
        [(redeemed["id"], "awaiting_allocation", answer.event_id), (declined["id"], "rejected", events[3].event_id)])


def variant(sku: str, channels: list[str]):
    return new_event("GradedVariantDefined", 1, "warehouse", "graded_variant", sku, GradedVariantDefined(
        variant_sku=sku, base_sku="SKU-RED-M", grade="B", list_price=Decimal("14.99"), currency="EUR",
        channels=channels, defined_by="qa-lena", at=AT))


async def test_a_graded_variant_is_sold_only_on_its_channels(order_service, order_json):
    settings = order_service.settings
    topic = settings.topic(WAREHOUSE_EVENTS)
    variants = [variant("SKU-RED-M-B", ["outlet", "market-fr"]), variant("SKU-RED-M-OPEN", [])]
    await produce_events(settings.kafka_bootstrap_servers, topic, variants)
    await handled(settings, WAREHOUSE_CONSUMER, topic, len(variants))

    def with_lines(channel: str, external_order_id: str) -> dict:
        body = order_json(channel=channel, external_order_id=external_order_id)
        body["lines"] = [{"line_id": "1", "sku": "SKU-RED-M-OPEN", "quantity": 1, "unit_price": "29.97"},
                         {"line_id": "2", "sku": "SKU-RED-M-B", "quantity": 2, "unit_price": "15.00"}]
        return body

    refused = await order_service.post("/v1/orders", json=with_lines("web-eu", "gv-1"))
    assert refused.status_code == 422 and refused.json()["status"] == "rejected"
    (problem,) = refused.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "lines", "1", "sku"], "variant_not_sold_on_channel")
    assert "market-fr, outlet" in problem["msg"]
    assert (await order_service.post("/v1/orders", json=with_lines("outlet", "gv-2"))).status_code == 201

    await produce(settings.kafka_bootstrap_servers, settings.topic(CHANNEL_ORDERS),
                  [(b"web-eu:gv-3", json.dumps(with_lines("web-eu", "gv-3")).encode())])
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS),
                                  lambda rs: any(dict(r.headers)["event_type"] == b"OrderRejected" and
                                                 json.loads(r.value)["payload"]["external_order_id"] == "gv-3"
                                                 for r in rs))
    (rejected,) = [json.loads(r.value)["payload"] for r in records
                   if json.loads(r.value)["payload"]["external_order_id"] == "gv-3"]
    assert [(r["field"], r["code"]) for r in rejected["reasons"]] == [("lines.1.sku", "variant_not_sold_on_channel")]


async def test_one_statement_finds_the_variants_of_more_skus_than_a_statement_has_parameters(database_url):
    database = Database(database_url)
    try:
        async with SqlOrderUnitOfWork(database) as uow:
            await uow.orders.save_graded_variants([GradedVariant("V-1", frozenset({"outlet"}), AT)])
            found = await uow.orders.graded_variants({f"SKU-{n}" for n in range(40_000)} | {"V-1"})
        assert list(found) == ["V-1"] and found["V-1"].channels == {"outlet"}
    finally:
        await database.dispose()
