"""Composition root: what the control service is; ecomops_common.service wires it like every other service.
It publishes nothing: it reads every topic into its own database and acts through the owning services' APIs
(the ServiceClient); beside that, the business-alerts and SLA escalation jobs."""

from functools import partial

from fastapi import FastAPI

from control_service.entrypoints import console, http
from control_service.migrations import MIGRATIONS
from control_service.service_layer.actions import ServiceClient
from control_service.service_layer.alerts import evaluate_alerts
from control_service.service_layer.escalation import evaluate_escalations
from control_service.service_layer.handlers import handlers
from control_service.service_layer.unit_of_work import SqlControlUnitOfWork
from control_service.settings import ControlSettings
from ecomops_common.service import ServiceDefinition

PUBLISHES = ()  # a read model: what it learns comes from the topics, what it changes goes through the owners' APIs

CONTROL_SERVICE = ServiceDefinition(
    title="Control service", settings=ControlSettings, unit_of_work=SqlControlUnitOfWork, migrations=MIGRATIONS,
    publishes=PUBLISHES, handlers=handlers, routers=[http.router, console.router])


def build_app(settings: ControlSettings | None = None) -> FastAPI:
    service = CONTROL_SERVICE.build(settings)
    service.app.state.services = ServiceClient(service.settings)
    service.every("business alerts", service.settings.alert_interval_s,
                  partial(evaluate_alerts, settings=service.settings))
    service.every("SLA escalation", service.settings.escalation_interval_s,
                  partial(evaluate_escalations, slas=service.settings.escalation_slas()))
    return service.app
