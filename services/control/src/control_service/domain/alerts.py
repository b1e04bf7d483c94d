"""Business alerts: conditions someone should hear of before the customer does. Each firing alert has a stable id
(kind and subject), so it keeps its start while it lasts; the read model supplies the figures they test."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Alert:
    kind: str
    subject: str
    message: str
    value: float
    threshold: float

    @property
    def alert_id(self) -> str:
        return f"{self.kind}:{self.subject}"

    def row(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "kind": self.kind, "subject": self.subject, "message": self.message,
                "value": self.value, "threshold": self.threshold}


KINDS = ("stockout_risk", "return_rate_spike", "backlog_past_sla", "carrier_delay", "refunds_declined")


def stockout_alerts(risks: list[dict[str, Any]], cover_days: float) -> list[Alert]:
    return [Alert("stockout_risk", r["sku"], f"{r['sku']}: ATP {r['atp']} covers {r['days_of_cover']} days of "
                  f"demand ({r['per_day']}/day)", float(r["days_of_cover"]), cover_days) for r in risks]


def return_rate_alerts(rows: list[dict[str, Any]], by: str, threshold: float, min_units: int) -> list[Alert]:
    """Over the window, a SKU's (or reason's) returned units ÷ shipped units above the threshold (a reason's rows
    carry every unit shipped in their period)."""
    returned: dict[str, int] = {}
    shipped: dict[str, int] = {}
    for row in rows:
        subject = row[by] or "unknown"
        returned[subject] = returned.get(subject, 0) + int(row["returned_units"])
        shipped[subject] = shipped.get(subject, 0) + int(row["shipped_units"])
    alerts = []
    for subject, units in sorted(returned.items()):
        base = shipped.get(subject, 0)
        if base >= min_units and units / base > threshold:
            alerts.append(Alert("return_rate_spike", f"{by}:{subject}", f"return rate of {by} {subject}: "
                                f"{units}/{base} units ({units / base:.0%})", round(units / base, 4), threshold))
    return alerts


def backlog_alerts(queues: list[dict[str, Any]]) -> list[Alert]:
    """From the backlog_ageing KPI: the queues with items past their SLA."""
    return [Alert("backlog_past_sla", row["kind"], f"{row['past_sla']} {row['kind']} items past their SLA (oldest "
                  f"{row['oldest_age_hours']} h)", float(row["past_sla"]), 0) for row in queues if row["past_sla"]]


def carrier_alerts(rows: list[dict[str, Any]], late_share: float) -> list[Alert]:
    return [Alert("carrier_delay", row["carrier"], f"{row['carrier']}: {float(row['late']):.0%} of "
                  f"{row['delivered']} deliveries late", float(row["late"]), late_share)
            for row in rows if float(row["late"]) > late_share]


def declined_refund_alerts(open_failed: int) -> list[Alert]:
    return [Alert("refunds_declined", "all", f"{open_failed} refunds declined or held, not paid", open_failed, 0)
            ] if open_failed else []
