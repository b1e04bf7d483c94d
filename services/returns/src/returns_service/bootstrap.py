"""Composition root: what the returns service is; ecomops_common.service wires it like every other service."""

from fastapi import FastAPI

from ecomops_common.contracts import CHANNEL_ORDERS, RETURNS_EVENTS, contracts_on
from ecomops_common.service import ServiceDefinition
from returns_service.entrypoints import http
from returns_service.migrations import MIGRATIONS
from returns_service.service_layer.handlers import handlers
from returns_service.service_layer.unit_of_work import SqlReturnsUnitOfWork
from returns_service.settings import ReturnsSettings

PUBLISHES = (
    *contracts_on(RETURNS_EVENTS, "ReturnAuthorized", "ReturnRefused", "ReturnStatusChanged",
                  "ReturnDispositionDecided", "RefundApproved", "SkuVendorAssigned", "VendorClaimChanged"),
    *contracts_on(CHANNEL_ORDERS, "ChannelOrder"),  # an exchange's replacement order, placed like a channel's
)

RETURNS_SERVICE = ServiceDefinition(
    title="Returns service", settings=ReturnsSettings, unit_of_work=SqlReturnsUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router])


def build_app(settings: ReturnsSettings | None = None) -> FastAPI:
    return RETURNS_SERVICE.build(settings).app
