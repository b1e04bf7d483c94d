"""The control service's handler registry: every event topic and every dead-letter topic, read-only. Records it
cannot decode are left to the owning services' consumers (they dead-letter them, and it reads those)."""

from datetime import timedelta
from functools import partial

from control_service.domain.projection import PROJECTORS, Thresholds
from control_service.service_layer.projecting import dead_letter_decoder, project_dead_letters, project_events
from control_service.settings import ControlSettings
from ecomops_common.contracts import REGISTRY
from ecomops_common.handlers import Subscription, on
from ecomops_common.topics import dead_letter_topic


def thresholds(settings: ControlSettings) -> Thresholds:
    return Thresholds(hold=timedelta(minutes=settings.hold_minutes), backorder=timedelta(days=settings.backorder_days),
                      receipt=timedelta(days=settings.receipt_days),
                      inspection=timedelta(hours=settings.inspection_hours),
                      stuck={status: timedelta(minutes=m) for status, m in settings.stuck_minutes.items()})


def handlers(settings: ControlSettings) -> list[Subscription]:
    project = partial(project_events, thresholds=thresholds(settings),
                      drift_grace=timedelta(minutes=settings.drift_minutes))
    by_topic: dict[str, list] = {}
    for spec in REGISTRY:
        if spec.enveloped and spec.model in PROJECTORS:
            by_topic.setdefault(spec.topic, []).append(spec.model)
    group = f"control-service.g{settings.read_model_generation}"
    subscriptions = [on(topic, f"{group}.{_stream(topic)}", project, *models, once=False, read_only=True)
                     for topic, models in sorted(by_topic.items())]
    # Every topic some service consumes has dead letters; channel topics' too.
    subscriptions += [Subscription(dead_letter_topic(topic), f"{group}.dead-letters-{_stream(topic)}",
                                   project_dead_letters, (), once=False, decode=dead_letter_decoder)
                      for topic in sorted({spec.topic for spec in REGISTRY})]
    return subscriptions


def _stream(topic: str) -> str:
    """order.events.v1 -> order-events"""
    return topic.rsplit(".", 1)[0].replace(".", "-")
