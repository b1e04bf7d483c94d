"""Composition root: what the finance service is; ecomops_common.service wires it like every other service. Beside
that: the payment provider, and the payout, parked-fact and held-refund jobs."""

from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from ecomops_common.contracts import FINANCE_EVENTS, contracts_on
from ecomops_common.service import ServiceDefinition
from finance_service.adapters.payment_provider import HttpPaymentProvider, PaymentProvider
from finance_service.entrypoints import http
from finance_service.migrations import MIGRATIONS
from finance_service.service_layer.handlers import handlers
from finance_service.service_layer.payouts import pay_out_until_idle
from finance_service.service_layer.posting import check_held_refunds, post_parked
from finance_service.service_layer.unit_of_work import SqlFinanceUnitOfWork
from finance_service.settings import FinanceSettings

PUBLISHES = contracts_on(FINANCE_EVENTS, "RefundIssued", "RefundFailed", "JournalEntryPosted", "UnitCostChanged",
                         "StoreCreditChanged")

FINANCE_SERVICE = ServiceDefinition(
    title="Finance service", settings=FinanceSettings, unit_of_work=SqlFinanceUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router])


def build_app(settings: FinanceSettings | None = None, provider: PaymentProvider | None = None) -> FastAPI:
    service = FINANCE_SERVICE.build(settings)
    settings = service.settings
    provider = provider or HttpPaymentProvider(settings.payment_provider_url, settings.payment_timeout_s)
    service.runtime.every("refund payouts", settings.payout_interval_s, partial(
        pay_out_until_idle, service.unit_of_work, provider, batch_size=settings.payout_batch_size,
        concurrency=settings.payout_concurrency, retry_after=timedelta(seconds=settings.payout_retry_s)))
    service.every("parked facts", settings.parked_retry_interval_s, post_parked)
    service.every("held refunds", settings.parked_retry_interval_s, check_held_refunds)
    return service.app
