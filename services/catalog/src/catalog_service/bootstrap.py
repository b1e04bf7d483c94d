"""Composition root: what the catalog service is; ecomops_common.service wires it like every other service."""

from fastapi import FastAPI

from catalog_service.entrypoints import http
from catalog_service.migrations import MIGRATIONS
from catalog_service.service_layer.handlers import handlers
from catalog_service.service_layer.unit_of_work import SqlCatalogUnitOfWork
from catalog_service.settings import CatalogSettings
from ecomops_common.contracts import CATALOG_SKUS, contracts_on
from ecomops_common.service import ServiceDefinition

# Publishing it also makes the service create catalog.skus.v1 (ServiceDefinition.build).
PUBLISHES = contracts_on(CATALOG_SKUS, "SkuChanged")

CATALOG_SERVICE = ServiceDefinition(
    title="Catalog service", settings=CatalogSettings, unit_of_work=SqlCatalogUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router])


def build_app(settings: CatalogSettings | None = None) -> FastAPI:
    return CATALOG_SERVICE.build(settings).app
