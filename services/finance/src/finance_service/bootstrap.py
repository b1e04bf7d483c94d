"""Composition root: wires settings, database, topics, consumers, payment provider, payout and parked-fact jobs,
relay and HTTP into one service."""

from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from ecomops_common.contracts import FINANCE_EVENTS, ORDER_EVENTS, RETURNS_EVENTS, WAREHOUSE_EVENTS, contracts_on
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.topics import TopicSpec
from finance_service.adapters.payment_provider import HttpPaymentProvider, PaymentProvider
from finance_service.entrypoints import http
from finance_service.entrypoints.kafka import consumers
from finance_service.migrations import MIGRATIONS
from finance_service.service_layer.payouts import pay_out_until_idle
from finance_service.service_layer.posting import post_parked
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork
from finance_service.settings import FinanceSettings

# What this service publishes: its unit of work refuses anything else; docs/asyncapi.yaml describes it.
PUBLISHES = contracts_on(FINANCE_EVENTS, "RefundIssued")


def build_app(settings: FinanceSettings | None = None, provider: PaymentProvider | None = None) -> FastAPI:
    settings = settings or FinanceSettings()
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    runtime.topics = [TopicSpec(topic, settings.topic_partitions, with_dead_letters=True)
                      for topic in (ORDER_EVENTS, WAREHOUSE_EVENTS, RETURNS_EVENTS)]
    runtime.topics.append(TopicSpec(FINANCE_EVENTS, settings.topic_partitions))
    unit_of_work = partial(FinanceUnitOfWork, runtime.database, topic_prefix=settings.topic_prefix,
                           on_commit=runtime.relay.wake, publishes=PUBLISHES)
    for consumer in consumers(settings, unit_of_work):
        runtime.consume(consumer)
    provider = provider or HttpPaymentProvider(settings.payment_provider_url, settings.payment_timeout_s)
    runtime.every("refund payouts", settings.payout_interval_s, partial(
        pay_out_until_idle, unit_of_work, provider, batch_size=settings.payout_batch_size,
        concurrency=settings.payout_concurrency, retry_after=timedelta(seconds=settings.payout_retry_s)))
    runtime.every("parked facts", settings.parked_retry_interval_s, partial(post_parked, unit_of_work))
    app = create_app(runtime, title="Finance service", routers=[http.router])
    app.state.unit_of_work = unit_of_work
    return app
