"""Composition root: what the supply service is; ecomops_common.service wires it like every other service (it
creates supply.events.v1, the topic it publishes, and the topics it consumes)."""

from fastapi import FastAPI

from ecomops_common.contracts import SUPPLY_EVENTS, contracts_on
from ecomops_common.service import ServiceDefinition
from supply_service.entrypoints import http
from supply_service.migrations import MIGRATIONS
from supply_service.service_layer.handlers import handlers
from supply_service.service_layer.unit_of_work import SqlSupplyUnitOfWork
from supply_service.settings import SupplySettings

PUBLISHES = contracts_on(SUPPLY_EVENTS, "PurchaseOrderChanged", "AdvanceShipNoticeIssued")

SUPPLY_SERVICE = ServiceDefinition(
    title="Supply service", settings=SupplySettings, unit_of_work=SqlSupplyUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router])


def build_app(settings: SupplySettings | None = None) -> FastAPI:
    return SUPPLY_SERVICE.build(settings).app
