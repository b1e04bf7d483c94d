"""Projecting consumed facts into the read model, a batch per transaction: each event once (the events table is
the inbox), its fact rows, its inbox items, and the warehouse/allocation agreement of the stock it touched."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord

from control_service.adapters.repository import to_json
from control_service.domain.inbox import OpenItem
from control_service.domain.projection import (
    Context,
    DeadLetter,
    Projection,
    Seen,
    Thresholds,
    drift_items,
    project,
    project_dead_letter,
)
from control_service.service_layer.unit_of_work import ControlUnitOfWork
from ecomops_common.contracts.allocation import OrderAllocationChanged
from ecomops_common.contracts.warehouse import OrderFulfilmentChanged
from ecomops_common.messaging import (
    DLQ_CONSUMER,
    DLQ_ERROR,
    DLQ_FAILED_AT,
    DLQ_ORIGINAL_TOPIC,
    DLQ_REASON,
    Delivery,
    record_headers,
)
from ecomops_common.topics import DEAD_LETTER_SUFFIX


async def project_events(uow: ControlUnitOfWork, deliveries: Sequence[Delivery], *, thresholds: Thresholds,
                         drift_grace: timedelta) -> None:
    messages = [d.message for d in deliveries]
    context = Context(
        thresholds,
        progress=await uow.projection.progress_of(
            m.order_id for m in messages if isinstance(m, OrderFulfilmentChanged)),
        promised=await uow.projection.promised_dates(
            m.order_id for m in messages if isinstance(m, OrderAllocationChanged)))
    projected: list[tuple[str, Projection]] = []
    events = []
    for delivery in deliveries:
        envelope = delivery.envelope
        seen = Seen(delivery.event_id, delivery.topic, envelope.event_type, envelope.source, envelope.occurred_at,
                    delivery.message)
        projection = project(seen, context)
        if projection.progress is not None:
            context.progress[projection.order_id] = projection.progress
        projected.append((delivery.event_id, projection))
        events.append({"event_id": delivery.event_id, "topic": delivery.topic, "event_type": envelope.event_type,
                       "source": envelope.source, "order_id": projection.order_id, "rma_id": projection.rma_id,
                       "occurred_at": seen.occurred_at, "summary": projection.summary,
                       "payload": delivery.message.model_dump_json()})
    await _apply(uow, events, projected, drift_grace)


async def project_dead_letters(uow: ControlUnitOfWork, deliveries: Sequence[Delivery[DeadLetter]]) -> None:
    projected, events = [], []
    for delivery in deliveries:
        letter = delivery.message
        projection = project_dead_letter(letter)
        event_id = f"{letter.dlq_topic}:{letter.partition}:{letter.offset}"  # its own: the record keeps the original's
        projected.append((event_id, projection))
        events.append({"event_id": event_id, "topic": letter.dlq_topic, "event_type": "DeadLetter",
                       "source": letter.consumer, "order_id": None, "rma_id": None, "occurred_at": letter.failed_at,
                       "summary": projection.summary, "payload": to_json(letter.__dict__)})
    await _apply(uow, events, projected, timedelta(0))


async def _apply(uow: ControlUnitOfWork, events: list[dict], projected: list[tuple[str, Projection]],
                 drift_grace: timedelta) -> None:
    new = await uow.projection.add_events(events)
    rows, opened, closed, stock_keys = [], [], [], set()
    for event_id, projection in projected:
        if event_id not in new:
            continue
        rows += projection.rows
        opened += projection.opened
        closed += projection.closed
        stock_keys.update(projection.stock_keys)
    await uow.projection.upsert(rows)
    for key, view in (await uow.projection.stock_views(stock_keys)).items():
        item = drift_items(*key, view.warehouse_sellable, view.allocation_on_hand, view.as_of, drift_grace)
        (opened if isinstance(item, OpenItem) else closed).append(item)
    await uow.projection.apply_items(opened, closed)
    await uow.commit()


def dead_letter_decoder(record: ConsumerRecord) -> DeadLetter:
    """Any record of a dead-letter topic, from the headers messaging.DeadLetters gives it (never rejected)."""
    headers = record_headers(record)
    try:
        failed_at = datetime.fromisoformat(headers[DLQ_FAILED_AT])
    except (KeyError, ValueError):
        failed_at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    return DeadLetter(
        dlq_topic=record.topic, partition=record.partition, offset=record.offset,
        original_topic=headers.get(DLQ_ORIGINAL_TOPIC) or record.topic.removesuffix(DEAD_LETTER_SUFFIX),
        consumer=headers.get(DLQ_CONSUMER, "unknown"), reason=headers.get(DLQ_REASON, "unknown")[:64],
        error=headers.get(DLQ_ERROR, ""), failed_at=failed_at,
        key=record.key.decode("utf-8", "replace") if record.key else None)


dead_letter_decoder.message_types = {}  # no contract: any record a consumer gave up on
