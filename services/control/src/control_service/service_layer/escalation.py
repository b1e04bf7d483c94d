"""SLA escalation of the supervisor queues (a job every escalation_interval_s): each open item past its queue's
age gets the moment it escalated recorded once, without anyone opening a page, and Prometheus hears how many are
escalated per queue so alert rules can page."""

from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge

from control_service.domain.inbox import escalation
from control_service.service_layer.unit_of_work import ControlUnitOfWork

ESCALATED = Gauge("ecomops_inbox_escalated_items", "Open items of a supervisor queue older than its escalation age",
                  ["queue"])


async def evaluate_escalations(uow: ControlUnitOfWork, slas: dict[str, timedelta]) -> dict[str, int]:
    now = datetime.now(UTC)
    escalated = dict.fromkeys(slas, 0)
    newly: dict[str, datetime] = {}
    for item in await uow.read_model.open_in(slas):
        state = escalation(item["kind"], item["since"], item["escalated_at"], now, slas)
        if state.escalated:
            escalated[item["kind"]] += 1
            if item["escalated_at"] is None:
                newly[item["item_id"]] = state.escalated_at
    await uow.read_model.record_escalations(newly)
    await uow.commit()
    for queue, count in escalated.items():
        ESCALATED.labels(queue).set(count)
    return escalated
