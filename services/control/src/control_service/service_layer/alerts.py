"""Evaluating the business alerts (a job every alert_interval_s): kept in the alerts table for the console and
the API, and exported to Prometheus so alert rules can page."""

from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge

from control_service.domain import alerts as rules
from control_service.domain.kpis import Window
from control_service.service_layer.unit_of_work import ControlUnitOfWork
from control_service.settings import ControlSettings

ALERTS_FIRING = Gauge("ecomops_business_alerts_firing", "Business alerts firing now, per kind", ["kind"])
ALERT_VALUE = Gauge("ecomops_business_alert_value", "The figure of each firing business alert (subjects capped "
                    "at 50 per kind)", ["kind", "subject"])
_SUBJECTS_EXPORTED = 50


async def evaluate_alerts(uow: ControlUnitOfWork, settings: ControlSettings) -> list[rules.Alert]:
    now = datetime.now(UTC)
    read = uow.read_model
    window = Window(now - timedelta(days=settings.demand_window_days), now, "day")
    firing = rules.stockout_alerts(
        await read.stockout_risks(settings.demand_window_days, settings.stockout_days, now), settings.stockout_days)
    for by in ("sku", "reason"):
        firing += rules.return_rate_alerts(await read.kpi("return_rate", window, {}, now, by=by), by,
                                           settings.return_rate_spike, settings.return_rate_min_units)
    firing += rules.backlog_alerts(await read.kpi("backlog_ageing", window, {}, now,
                                                  slas=settings.escalation_slas()))
    firing += rules.carrier_alerts(await read.carrier_late_shares(settings.demand_window_days, now),
                                   settings.carrier_delay_share)
    firing += rules.declined_refund_alerts((await read.open_counts(["refund_failed"], now)).get("refund_failed", 0))
    await read.replace_alerts([alert.row() for alert in firing], now)
    await uow.commit()
    export(firing)
    return firing


def export(firing: list[rules.Alert]) -> None:
    ALERT_VALUE.clear()
    for kind in rules.KINDS:
        of_kind = [alert for alert in firing if alert.kind == kind]
        ALERTS_FIRING.labels(kind).set(len(of_kind))
        for alert in of_kind[:_SUBJECTS_EXPORTED]:
            ALERT_VALUE.labels(kind, alert.subject).set(alert.value)
