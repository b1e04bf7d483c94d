"""Composition root: what the shipping service is; ecomops_common.service wires it like every other service. Beside
that: the carrier, and the label, handover and tracking jobs."""

from functools import partial

from fastapi import FastAPI

from ecomops_common.contracts import SHIPPING_EVENTS, SHIPPING_TRACKING, contracts_on
from ecomops_common.service import ServiceDefinition
from shipping_service.adapters.carrier import Carrier, HttpCarrier
from shipping_service.entrypoints import http
from shipping_service.migrations import MIGRATIONS
from shipping_service.service_layer.handlers import handlers
from shipping_service.service_layer.labels import labels_until_idle
from shipping_service.service_layer.tracking import hand_over_dispatched, poll_until_idle
from shipping_service.service_layer.unit_of_work import SqlShippingUnitOfWork
from shipping_service.settings import ShippingSettings

PUBLISHES = (*contracts_on(SHIPPING_EVENTS, "LabelPurchased", "ReturnLabelIssued"),
             *contracts_on(SHIPPING_TRACKING, "TrackingUpdated"))

SHIPPING_SERVICE = ServiceDefinition(
    title="Shipping service", settings=ShippingSettings, unit_of_work=SqlShippingUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router])


def build_app(settings: ShippingSettings | None = None, carrier: Carrier | None = None) -> FastAPI:
    service = SHIPPING_SERVICE.build(settings)
    settings = service.settings
    carrier = carrier or HttpCarrier(settings.carrier_url, settings.carrier_timeout_s)
    service.runtime.every("labels", settings.label_interval_s,
                          partial(labels_until_idle, service.unit_of_work, carrier, settings))
    service.every("handovers", settings.handover_interval_s,
                  partial(hand_over_dispatched, carrier=carrier, limit=settings.label_batch_size))
    service.runtime.every("tracking", settings.tracking_interval_s,
                          partial(poll_until_idle, service.unit_of_work, carrier, settings.tracking_batch_size))
    return service.app
