"""The catalog service's handler registry: it consumes nothing. It is the SKU master, the source others follow;
people and files change it over HTTP (service_layer/catalog.py)."""

from catalog_service.settings import CatalogSettings
from ecomops_common.handlers import Subscription


def handlers(settings: CatalogSettings) -> list[Subscription]:
    return []
