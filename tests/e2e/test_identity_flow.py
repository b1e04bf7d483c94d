"""Identity end to end, with the five services as processes and tokens of the real provider (the demo realm,
deploy/keycloak/ecomops-realm.json), obtained as each caller does: client credentials for the connectors, WH1's
scanner and DHL's client, the console's password grant for staff. A connector acts for and reads only its own
channels, the scanner scans only at its node, customers' personal data is masked for the auditor but not for
customer service, the one who graded a return may not approve its refund, nor a finance clerk their own
correction, and every actor recorded (order history, refund approvals, the ledger) is the token's `sub`."""

import pytest

from ecomops_common.testing.plugin import eventually
from ecomops_common.testing.samples import channel_order

from .conftest import (
    open_return,
    order_in_status,
    receive_and_put_away,
    rma_in,
    ship_from_wh1,
    subject_of,
    wh1_scan,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def test_callers_touch_only_what_their_token_allows_and_are_recorded_as_its_subject(stack, identities):
    subject = {name: await subject_of(getattr(identities, name)) for name in (
        "connector", "supervisor", "approver", "finance", "second_finance")}
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 4})
    # The customer's fraud score puts the order on hold for a supervisor.
    document = channel_order(external_order_id="id-1", fraud_score=90)

    # Another channel's connector may not place a web-eu order, nor see one.
    refused = await stack.order.post("/v1/orders", json=document, auth=identities.marketplace)
    assert (refused.status_code, refused.json()["reason"]) == (403, "channel")
    placed = await stack.order.post("/v1/orders", json=document, auth=identities.connector)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["status"], order["holds"]) == ("on_hold", ["fraud_review"])
    assert (await stack.order.get(f"/v1/orders/{order['id']}", auth=identities.marketplace)).status_code == 404
    for params in ({}, {"channel": "web-eu"}):
        listed = await stack.order.get("/v1/orders", params=params, auth=identities.marketplace)
        assert listed.status_code == 200 and listed.json()["items"] == []
    own = (await stack.order.get("/v1/orders", auth=identities.connector)).json()["items"]
    assert [o["id"] for o in own] == [order["id"]]

    # Personal data: masked for the auditor (the city stays, for reports), as stored for customer service and
    # the order's own connector.
    for who in (identities.service, identities.connector):
        seen = (await stack.order.get(f"/v1/orders/{order['id']}", auth=who)).json()["order"]
        for part in ("customer", "ship_to"):
            assert {name: seen[part][name] for name in document[part]} == document[part]
    audited = (await stack.order.get(f"/v1/orders/{order['id']}", auth=identities.auditor)).json()["order"]
    listed, = (await stack.order.get("/v1/orders", auth=identities.auditor)).json()["items"]
    for seen in (audited, listed["order"]):
        assert (seen["customer"]["id"], seen["customer"]["email"]) == ("c***", "a***@example.com")
        assert {name: seen["ship_to"][name] for name in ("name", "line1", "postal_code", "city")} == {
            "name": "A***", "line1": "M***", "postal_code": "1***", "city": "Berlin"}

    # A supervisor releases the hold; the history names the connector and the supervisor by their subjects.
    released = await stack.order.post(f"/v1/orders/{order['id']}/holds/fraud_review/release",
                                      json={"note": "customer called back"}, auth=identities.supervisor)
    assert released.status_code == 200, released.text
    history = (await order_in_status(stack.order, order["id"], "released_to_warehouse"))["history"]
    assert history[0]["actor"] == subject["connector"]
    assert [t["actor"] for t in history if t["from_status"] == "on_hold"] == [subject["supervisor"]]

    # WH1's scanner works WH1 only.
    elsewhere = wh1_scan("wh2-1", "receive", "DOCK", 1, "PO-WH1") | {"warehouse_id": "WH2"}
    refused = await stack.warehouse.post("/v1/scans", json=elsewhere, auth=identities.scanner)
    assert (refused.status_code, refused.json()["reason"]) == (403, "node")
    unit_cost = await stack.finance.put("/v1/costs/SKU-RED-M", json={"amount": "8.00", "currency": "EUR"},
                                        auth=identities.finance)
    assert unit_cost.json()["updated_by"] == subject["finance"]
    await ship_from_wh1(stack, identities, order["id"], tracking_number="1Z-7", carrier="dhl")

    # A return: the one who graded it may not approve its refund, even holding every role (the admin);
    # the inspector has no say on refunds at all; a refund approver decides.
    request = {"channel": "web-eu", "request_id": "id-r1", "external_order_id": "id-1", "reason": "changed_mind",
               "lines": [{"sku": "SKU-RED-M", "quantity": 1}]}
    refused = await stack.returns.post("/v1/returns", json=request, auth=identities.marketplace)
    assert (refused.status_code, refused.json()["reason"]) == (403, "channel")
    rma = await open_return(stack, identities, request)
    received = wh1_scan("id-ret-1", "return_receive", "RET", 1, rma["id"], condition="damaged")
    assert (await stack.warehouse.post("/v1/scans", json=received, auth=identities.scanner)).status_code == 200
    await rma_in(stack.returns, rma["id"], lambda r: r["lines"][0]["received"] == 1)
    graded = await stack.returns.post(f"/v1/returns/{rma['id']}/inspections", auth=identities.admin,
                                      json={"sku": "SKU-RED-M", "quantity": 1, "grade": "C"})
    assert graded.status_code == 200, graded.text
    [settlement] = (await rma_in(stack.returns, rma["id"], lambda r: r["settlements"]))["settlements"]
    assert settlement["status"] == "pending_approval"
    approve = f"/v1/returns/{rma['id']}/settlements/{settlement['id']}/approve"
    by_grader = await stack.returns.post(approve, json={}, auth=identities.admin)
    assert (by_grader.status_code, by_grader.json()["reason"]) == (403, "segregation_of_duties")
    assert (await stack.returns.post(approve, json={}, auth=identities.inspector)).status_code == 403
    approved = await stack.returns.post(approve, json={}, auth=identities.approver)
    assert approved.status_code == 200, approved.text
    [settlement] = approved.json()["settlements"]
    assert (settlement["status"], settlement["decided_by"]) == ("approved", subject["approver"])

    # Finance pays the refund the approver approved (RefundApproved.approved_by).
    async def refund_issued() -> bool:
        refunds = (await stack.finance.get("/v1/refunds", auth=identities.finance)).json()
        return [(r["rma_id"], r["status"]) for r in refunds] == [(rma["id"], "issued")]

    await eventually(refund_issued)
    [refund] = (await stack.finance.get("/v1/refunds", auth=identities.finance)).json()
    assert refund["approved_by"] == subject["approver"]

    # A finance clerk's correction of the ledger: another clerk approves it, and posts the reversal.
    async def shipment_posted() -> bool:
        return len((await stack.finance.get("/v1/journal", params={"kind": "shipment"},
                                            auth=identities.finance)).json()) == 1

    await eventually(shipment_posted)
    [shipment] = (await stack.finance.get("/v1/journal", params={"kind": "shipment"}, auth=identities.finance)).json()
    requested = await stack.finance.post(f"/v1/journal/{shipment['id']}/reversal",
                                         json={"reason": "posted twice by mistake"}, auth=identities.finance)
    assert requested.status_code == 202, requested.text
    assert requested.json()["requested_by"] == subject["finance"]
    decide = f"/v1/approval-requests/{requested.json()['id']}/approve"
    own = await stack.finance.post(decide, auth=identities.finance)
    assert (own.status_code, own.json()["reason"]) == (403, "segregation_of_duties")
    decided = await stack.finance.post(decide, auth=identities.second_finance)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["decided_by"]) == ("approved", subject["second_finance"])
    reversal_id = decided.json()["outcome"].removeprefix("entry:")
    reversal = (await stack.finance.get(f"/v1/journal/{reversal_id}", auth=identities.finance)).json()
    assert (reversal["reverses"], reversal["posted_by"]) == (f"shipment:{shipment['source_id']}",
                                                             subject["second_finance"])
