"""The control service on the real broker and database: every topic projected into timelines, KPIs and the inbox;
a rebuild from the topics on an empty database gives the same figures."""

import pytest

from control_service.bootstrap import build_app
from control_service.settings import ControlSettings
from ecomops_common.contracts import ORDER_EVENTS
from ecomops_common.messaging import (
    DLQ_CONSUMER,
    DLQ_ERROR,
    DLQ_FAILED_AT,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_TOPIC,
    DLQ_REASON,
)
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, produce_records, serving
from ecomops_common.topics import dead_letter_topic

from .conftest import order_story, publish, refund_paid, stock_disagreement

pytestmark = pytest.mark.integration
WINDOW = {"from": "2026-11-19T00:00:00Z", "to": "2026-11-30T00:00:00Z"}
KPI_NAMES = ("order_release_cycle_time", "fill_rate", "backorder_rate", "cancellation_rate", "split_shipment_rate",
             "fulfilment_throughput", "order_cycle_time", "inventory_accuracy", "stock_by_status", "return_rate",
             "refund_cycle_time", "pending_return_liability", "recovery_rate", "warehouse_exception_rate",
             "carrier_performance", "delivery_performance", "margin_impact_of_returns")


def as_(subject: str, *roles: str) -> dict[str, str]:
    return test_issuer().bearer(subject, *roles)


def events_in(story) -> int:
    return sum(len(envelopes) for envelopes in story.values())


async def timeline_of(client, order_id: str) -> list[dict]:
    response = await client.get(f"/v1/orders/{order_id}")
    return response.json()["timeline"] if response.status_code == 200 else []


async def _has(found, expected: set[str]) -> bool:
    return expected <= set(await found)


async def kpi(client, name: str, **params) -> list[dict]:
    response = await client.get(f"/v1/kpis/{name}", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    return response.json()["rows"]


async def dead_letter(settings: ControlSettings) -> None:
    """A record the order service's consumer gave up on, as messaging.DeadLetters publishes it."""
    topic = settings.topic(ORDER_EVENTS)
    await produce_records(settings.kafka_bootstrap_servers, dead_letter_topic(topic), [(b"k", b"{not json", [
        (DLQ_REASON, b"unparseable"), (DLQ_ERROR, b"Invalid JSON"), (DLQ_ORIGINAL_TOPIC, topic.encode()),
        (DLQ_ORIGINAL_PARTITION, b"0"), (DLQ_ORIGINAL_OFFSET, b"7"),
        (DLQ_CONSUMER, settings.consumer_group("allocation-service.order-events").encode()),
        (DLQ_FAILED_AT, b"2026-11-20T11:00:00+00:00")])])


async def test_every_topic_makes_the_timeline_the_kpis_and_the_inbox(control):
    settings = control.settings
    story = order_story("o-1", rma_id="r-1")
    await publish(settings, story)
    await publish(settings, stock_disagreement())
    await dead_letter(settings)
    # what the control service cannot read is the owners' dead letter, not its own: skipped, nothing stops
    await produce_records(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS), [(b"o-x", b"garbage", [])])

    async def projected() -> bool:
        return len(await timeline_of(control, "o-1")) == events_in(story)

    await eventually(projected, timeout=60)

    async def inbox_kinds() -> dict[str, dict]:
        return {item["kind"]: item for item in (await control.get("/v1/inbox")).json()["items"]}

    # the dead letter and the stock levels come on topics of their own, read by consumers of their own
    expected = {"refund_approval", "reconciliation_drift", "dead_letter"}
    await eventually(lambda: _has(inbox_kinds(), expected), timeout=60)
    timeline = await timeline_of(control, "o-1")
    assert [e["occurred_at"] for e in timeline] == sorted(e["occurred_at"] for e in timeline)
    assert timeline[0]["event_type"] == "OrderPlaced" and "payment_hold" in timeline[0]["summary"]
    assert {e["source"] for e in timeline} == {"order", "allocation", "warehouse", "returns"}

    [release] = await kpi(control, "order_release_cycle_time")
    assert (release["channel"], release["hold"], release["orders"], release["p50"]) == ("web-eu", "payment_hold", 1,
                                                                                        50.0)
    [fill] = await kpi(control, "fill_rate")
    assert (fill["units_ordered"], fill["units_allocated"], float(fill["value"])) == (3, 2, 0.6667)
    assert float((await kpi(control, "backorder_rate"))[0]["value"]) == 1.0
    work = await kpi(control, "fulfilment_throughput", node="WH1")
    assert [sum(row[stage] for row in work) for stage in ("picked", "packed", "shipped")] == [2, 2, 2]
    assert float((await kpi(control, "order_cycle_time"))[0]["p50"]) == 2.0
    rates = [row for row in await kpi(control, "return_rate", by="sku", grain="month") if row["sku"] == "SKU-A"]
    assert [(r["returned_units"], r["shipped_units"], r["value"]) for r in rates] == [(1, 2, 0.5)]
    [carrier] = await kpi(control, "carrier_performance")
    assert (carrier["carrier"], carrier["delivered"], carrier["on_time"], float(carrier["value"])) == ("dhl", 1, 1, 1)
    [recovery] = await kpi(control, "recovery_rate")
    assert (recovery["restocked"], float(recovery["value"]), float(recovery["value_recovered"])) == (1, 1.0, 10.0)
    stock = {row["status"]: row for row in await kpi(control, "stock_by_status", node="WH1")}
    assert (stock["sellable"]["units"], float(stock["sellable"]["value"]), stock["quarantine"]["units"]) == (5, 50, 2)
    [liability] = await kpi(control, "pending_return_liability")
    assert float(liability["value"]) == 10.0

    kinds = await inbox_kinds()
    # the backorder ended with the delivery, whichever topic was read first
    assert set(kinds) == expected, kinds
    assert kinds["dead_letter"]["reference"]["consumer"].endswith("allocation-service.order-events")
    assert kinds["refund_approval"]["breached"] and kinds["refund_approval"]["owner_role"] == "refund-approver"
    assert "warehouse 5 sellable, allocation 7" in kinds["reconciliation_drift"]["summary"]
    # an inspector sees only what inspectors own; filters narrow it
    assert (await control.get("/v1/inbox", headers=as_("ian", "inspector"))).json()["items"] == []
    assert [i["kind"] for i in (await control.get("/v1/inbox", params={"kind": "dead_letter"})).json()["items"]] == [
        "dead_letter"]

    await publish(settings, refund_paid("o-1", "r-1"))

    async def refunded() -> bool:
        return len(await timeline_of(control, "o-1")) == events_in(story) + 3

    await eventually(refunded, timeout=60)
    assert "refund_approval" not in {i["kind"] for i in (await control.get("/v1/inbox")).json()["items"]}
    [cycle] = await kpi(control, "refund_cycle_time")
    assert float(cycle["p50"]) == 84.0  # authorized on day 3, paid on day 6.5
    [margin] = await kpi(control, "margin_impact_of_returns", grain="month")
    assert (float(margin["refunds_paid"]), float(margin["value_recovered"]), float(margin["value"])) == (10, 10, 0)
    assert await kpi(control, "pending_return_liability") == []


async def test_kpis_as_csv_and_clear_refusals(control):
    csv = await control.get("/v1/kpis/fill_rate", params={**WINDOW, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "period,value"
    definitions = {k["name"]: k for k in (await control.get("/v1/kpis")).json()}
    assert set(definitions) == set(KPI_NAMES) | {"backlog_ageing"}
    assert all(len(k["definition"]) > 40 for k in definitions.values())
    refused = await control.get("/v1/kpis/fill_rate", params={"carrier": "dhl"})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("carrier:")
    refused = await control.get("/v1/kpis/fill_rate", params={"from": "2026-11-20T00:00:00Z",
                                                             "to": "2026-11-19T00:00:00Z"})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("from:")
    assert (await control.get("/v1/kpis/no_such_kpi")).status_code == 404
    assert (await control.get("/v1/kpis/fill_rate", params={"grain": "year"})).status_code == 422
    operator = as_("olga", "warehouse-operator")
    assert (await control.get("/v1/kpis/margin_impact_of_returns", headers=operator)).status_code == 403
    assert "margin_impact_of_returns" not in {k["name"] for k in (await control.get("/v1/kpis",
                                                                                     headers=operator)).json()}
    assert (await control.get("/v1/kpis/fill_rate", headers=as_("dev", "device"))).status_code == 403
    assert (await control.get("/v1/inbox", headers={"authorization": ""})).status_code == 401


async def test_inbox_actions(control):
    settings = control.settings
    await dead_letter(settings)

    async def listed() -> bool:
        return (await control.get("/v1/inbox", params={"kind": "dead_letter"})).json()["total"] == 1

    await eventually(listed, timeout=60)
    [item] = (await control.get("/v1/inbox", params={"kind": "dead_letter"})).json()["items"]
    item_id = item["item_id"]
    wrong = await control.post(f"/v1/inbox/{item_id}/actions/approve_refund", json={})
    assert wrong.status_code == 422 and "redrive" in wrong.json()["detail"]
    unknown = await control.post("/v1/inbox/nope/actions/acknowledge", json={})
    assert unknown.status_code == 404
    assert (await control.post("/v1/inbox/actions/approve_refund", json={"item_ids": [item_id]})).status_code == 422
    # the owner (allocation, from the dead letter's consumer) is not running here: a clear 503, the item stays
    redrive = await control.post(f"/v1/inbox/{item_id}/actions/redrive", json={})
    assert redrive.status_code == 503 and "allocation" in redrive.json()["detail"]
    done = await control.post("/v1/inbox/actions/acknowledge", json={"item_ids": [item_id, "nope"],
                                                                      "note": "known"})
    assert [(r["item_id"], r["status"]) for r in done.json()] == [(item_id, 200), ("nope", 404)]
    assert (await control.get("/v1/inbox", params={"kind": "dead_letter"})).json()["total"] == 0
    again = await control.post(f"/v1/inbox/{item_id}/actions/acknowledge", json={})
    assert again.status_code == 409


async def test_a_rebuild_from_the_topics_gives_the_same_figures(control, new_database):
    settings = control.settings
    stories = [order_story(f"o-{n}", rma_id=f"r-{n}" if n % 2 else None, held=n % 3 == 0) for n in range(6)]
    for story in stories:
        await publish(settings, story)
    await publish(settings, refund_paid("o-1", "r-1"))
    await publish(settings, stock_disagreement())
    expected_events = sum(events_in(s) for s in stories) + 3 + 2

    async def figures(client) -> dict:
        kpis = {name: (await client.get(f"/v1/kpis/{name}", params=WINDOW)).json()["rows"] for name in KPI_NAMES}
        inbox = (await client.get("/v1/inbox", params={"page_size": 100})).json()
        return {"kpis": kpis, "inbox": sorted((i["item_id"], i["since"], i["summary"]) for i in inbox["items"])}

    async def caught_up(client) -> bool:
        async with client.unit_of_work() as uow:
            from sqlalchemy import text
            return (await uow.session.execute(text("SELECT count(*) FROM events"))).scalar() == expected_events

    await eventually(lambda: caught_up(control), timeout=90)
    before = await figures(control)
    assert before["kpis"]["fill_rate"] and before["inbox"]
    rebuilt = settings.model_copy(update={"database_url": await new_database("control"),
                                          "read_model_generation": 2})
    async with serving(build_app(rebuilt)) as second:
        await eventually(lambda: caught_up(second), timeout=90)
        assert await figures(second) == before
