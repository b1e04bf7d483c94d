"""Returns recovery and the money edges end to end, with the six services and the simulated payment provider as
processes, each step by who takes it in real life with tokens of the real provider:

- a defective return goes back to its vendor: graded at the bench, it lands in vendor_return and on ACME's draft
  claim; a supervisor authorizes the return to vendor, WH1's scanner picks, packs and ships it; the claim is
  submitted, partially accepted and credited; finance posts the return label, the tax and the marketplace fee
  given back, the write-off, the vendor receivable and its credit; the console's vendor KPIs show the rates;
- a refund paid as store credit is issued once and pays a later order, whose payment hold finance's redemption
  releases; an order beyond the balance is declined;
- a hazardous unit is forced to quarantine; the QA decision to scrap it needs a disposal record and, above the
  value threshold, a second supervisor; finance writes it off once."""


import pytest

from ecomops_common.testing.plugin import eventually
from ecomops_common.testing.samples import channel_order

from .conftest import (
    define_skus,
    journal_totals,
    open_return,
    order_in_status,
    receive_and_put_away,
    rma_in,
    ship_from_wh1,
    subject_of,
    wh1_scan,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def shipped_order(stack, identities, external_order_id: str, **changes) -> dict:
    order = (await stack.order.post("/v1/orders", json=channel_order(external_order_id=external_order_id, **changes),
                                    auth=identities.connector))
    assert order.status_code == 201, order.text
    order = order.json()
    await order_in_status(stack.order, order["id"], "released_to_warehouse")
    await ship_from_wh1(stack, identities, order["id"], tracking_number=f"1Z-{external_order_id}", carrier="dhl")
    return order


async def test_defective_return_goes_back_to_its_vendor_and_is_recovered(stack, identities):
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 3})
    # The SKU master names the vendor and the cost: returns files claims against ACME, finance values at 8.00
    await define_skus(stack, identities, {"sku": "SKU-RED-M", "name": "Red shirt, M", "category": "apparel",
                                          "vendor_id": "ACME", "vendor_sku": "A-77", "unit_cost": "8.00",
                                          "currency": "EUR"}, read_by=("order", "finance", "returns"))
    fees = {"commission_rate": "0.10", "refund_reversal_rate": "1"}
    assert (await stack.finance.put("/v1/rules/channel-fees/web-eu", json=fees,
                                    auth=identities.finance)).status_code == 200
    policy = {"timing": "after_inspection"}
    assert (await stack.returns.put("/v1/rules/refund-policies/web-eu", json=policy,
                                    auth=identities.admin)).status_code == 200

    # 3 × 19.99 with a 4.99 fee and 6.50 tax: 71.46 paid.
    await shipped_order(stack, identities, "vend-1", tax="6.50",
                                payment={"status": "authorized", "amount": "71.46", "method": "card"})
    rma = await open_return(stack, identities, {
        "channel": "web-eu", "request_id": "vend-1-r", "external_order_id": "vend-1", "reason": "defective",
        "photos": ["s3://returns/vend-1/crack.jpg"], "lines": [{"sku": "SKU-RED-M", "quantity": 2}]})
    # The retailer paid the return label: 4.50.
    received = wh1_scan("vend-1-in", "return_receive", "RET", 2, rma["id"], condition="damaged",
                        shipping_cost="4.50", currency="EUR")
    assert (await stack.warehouse.post("/v1/scans", json=received, auth=identities.scanner)).status_code == 200
    await rma_in(stack.returns, rma["id"], lambda r: r["lines"][0]["received"] == 2)
    graded = await stack.returns.post(f"/v1/returns/{rma['id']}/inspections", auth=identities.inspector,
                                      json={"sku": "SKU-RED-M", "quantity": 2, "grade": "C", "serial": "SN-1"})
    assert graded.status_code == 200, graded.text
    rma = await rma_in(stack.returns, rma["id"], lambda r: r["lines"][0]["dispositioned"] == 2)
    assert [i["disposition"] for i in rma["inspections"]] == ["vendor_return"]

    async def draft_claim() -> list:
        return (await stack.returns.get("/v1/vendor-claims", params={"vendor_id": "ACME"},
                                        auth=identities.supervisor)).json()

    await eventually(draft_claim)
    [claim] = await draft_claim()
    assert (claim["status"], claim["claimed_amount"]) == ("draft", "16.00")
    [line] = claim["lines"]
    assert (line["rma_id"], line["quantity"], line["grade"], line["vendor_sku"], line["photos"]) == (
        rma["id"], 2, "C", "A-77", ["s3://returns/vend-1/crack.jpg"])

    # The refund (2 of 3 units) carries its share of the tax.
    [settlement] = (await rma_in(stack.returns, rma["id"], lambda r: r["settlements"]))["settlements"]
    if settlement["status"] == "pending_approval":
        approve = f"/v1/returns/{rma['id']}/settlements/{settlement['id']}/approve"
        assert (await stack.returns.post(approve, json={}, auth=identities.approver)).status_code == 200

    # Return to vendor: authorized by a supervisor, picked, packed and shipped by WH1's scanner.
    rtv = {"rtv_id": "RTV-1", "vendor_id": "ACME", "node": "WH1", "lines": [{"sku": "SKU-RED-M", "quantity": 2}],
           "claim_id": claim["id"]}
    created = await stack.warehouse.post("/v1/vendor-returns", json=rtv, auth=identities.supervisor)
    assert created.status_code == 201, created.text
    for kind, location in (("pick", "RET"), ("pack", "PACK"), ("ship", "SHIP")):
        scan = wh1_scan(f"rtv-1-{kind}", kind, location, 2, "RTV-1", **(
            {"carrier": "dhl", "tracking_number": "1Z-RTV-1"} if kind == "ship" else {}))
        response = await stack.warehouse.post("/v1/scans", json=scan, auth=identities.scanner)
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "applied", response.text
    shipped = (await stack.warehouse.get("/v1/vendor-returns/RTV-1", auth=identities.supervisor)).json()
    assert shipped["lines"][0]["shipped"] == 2

    # The claim: submitted by a supervisor, partially accepted by the vendor, credited (finance).
    claims = f"/v1/vendor-claims/{claim['id']}"
    assert (await stack.returns.post(f"{claims}/submit", json={}, auth=identities.supervisor)).status_code == 200
    assert (await stack.returns.post(f"{claims}/vendor-response", auth=identities.supervisor, json={
        "outcome": "partially_accepted", "accepted_amount": "10.00"})).status_code == 200
    over = await stack.returns.post(f"{claims}/credit", auth=identities.finance,
                                    json={"amount": "12.00", "reference": "CN-1"})
    assert over.status_code in (409, 422), over.text  # more than accepted
    credited = await stack.returns.post(f"{claims}/credit", auth=identities.finance,
                                        json={"amount": "10.00", "reference": "CN-1"})
    assert credited.status_code == 200, credited.text
    assert credited.json()["status"] == "credited"
    again = await stack.returns.post(f"{claims}/credit", auth=identities.finance,
                                     json={"amount": "10.00", "reference": "CN-1"})
    assert again.status_code == 409

    # Finance, to the cent: sale 59.97 + 4.99 + 6.50 tax; refund of 2 units with their tax share; 10 % fee,
    # given back on the refunded goods; units back to inventory, then written off as they leave for ACME;
    # the vendor receivable of 10.00 cleared by its credit note; the return label.
    async def claim_credited_in_finance() -> bool:
        totals = await journal_totals(stack, identities)
        return totals.get("2150") == "10.00"

    await eventually(claim_credited_in_finance, timeout=60)
    totals = await journal_totals(stack, identities)
    # The refund: 2 × 19.99, their share of the shipping fee (3.33) and of the tax (6.50 × 43.31 / 64.96 = 4.33).
    assert (settlement["amount"], totals["2300"]) == ("47.64", "-2.17")
    assert (totals["5600"], totals["2600"]) == ("2.00", "-2.00")  # 6.00 on 59.97 sold, 4.00 on 39.98 refunded
    assert totals["5210"] == "4.50"  # the return label
    assert (totals["1400"], totals["5100"]) == ("-24.00", "16.00")  # 3 sold at 8.00; 2 written off to ACME
    assert (totals["2150"], totals["5450"]) == ("10.00", "-10.00") and "1250" not in totals  # receivable cleared
    assert (await stack.warehouse.get("/v1/reconciliation")).json()["ok"] is True

    # The console's vendor KPIs: 2 of 3 shipped units defective; 10.00 of 16.00 recovered.
    async def kpis() -> dict | None:
        rows = (await stack.control.get("/v1/kpis/vendors", auth=identities.supervisor)).json()
        return next((row for row in rows if row["vendor_id"] == "ACME" and row.get("credited") == "10.00"), None)

    await eventually(kpis, timeout=60)
    acme = await kpis()
    assert (acme["units_shipped"], acme["defective_units"], acme["claimed"]) == (3, 2, "16.00")
    assert round(float(acme["defect_rate"]), 4) == 0.6667 and round(float(acme["recovery_rate"]), 4) == 0.625


async def test_store_credit_is_issued_once_and_pays_a_later_order(stack, identities):
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 5})
    assert (await stack.finance.put("/v1/costs/SKU-RED-M", json={"amount": "8.00", "currency": "EUR"},
                                    auth=identities.finance)).status_code == 200
    policy = {"timing": "on_receipt", "store_credit_reasons": ["size_fit"]}
    assert (await stack.returns.put("/v1/rules/refund-policies/web-eu", json=policy,
                                    auth=identities.admin)).status_code == 200
    await shipped_order(stack, identities, "credit-1")
    request = {"channel": "web-eu", "external_order_id": "credit-1", "lines": [{"sku": "SKU-RED-M", "quantity": 1}],
               "resolution": "store_credit"}
    refused = await stack.returns.post("/v1/returns", auth=identities.connector,
                                       json={**request, "request_id": "credit-1-no", "reason": "changed_mind"})
    assert refused.status_code == 422 and "resolution" in refused.text, refused.text
    rma = await open_return(stack, identities, {**request, "request_id": "credit-1-r", "reason": "size_fit"})
    received = wh1_scan("credit-1-in", "return_receive", "RET", 1, rma["id"], condition="like_new")
    assert (await stack.warehouse.post("/v1/scans", json=received, auth=identities.scanner)).status_code == 200
    # Refunded on receipt as store credit: issued by finance, once, without the payment provider.
    refunded = await rma_in(stack.returns, rma["id"], lambda r: r["settlements"] and all(
        s["status"] == "issued" for s in r["settlements"]))
    assert [(s["method"], s["amount"]) for s in refunded["settlements"]] == [("store_credit", "19.99")]
    assert [s["stage"] for s in refunded["timeline"]].count("refunded") == 1

    customer = channel_order(external_order_id="credit-1")["customer"]["id"]

    async def balance() -> str | None:
        view = (await stack.finance.get(f"/v1/store-credit/{customer}", auth=identities.service)).json()
        return next((b["balance"] for b in view["balances"] if b["currency"] == "EUR"), None)

    await eventually(lambda: _equals(balance, "19.99"))
    assert (await stack.payments.get("/v1/stats")).json()["payments"] == 0

    # A later order paid with it: held until finance redeems the credit, then allocated.
    paid = channel_order(external_order_id="credit-2", shipping_fee="0.00",
                         lines=[{"line_id": "1", "sku": "SKU-RED-M", "quantity": 1, "unit_price": "19.99"}],
                         payment={"status": "authorized", "amount": "19.99", "method": "store_credit"})
    placed = await stack.order.post("/v1/orders", json=paid, auth=identities.connector)
    assert placed.status_code == 201, placed.text
    await order_in_status(stack.order, placed.json()["id"], "released_to_warehouse")
    await eventually(lambda: _equals(balance, "0.00"))

    # Beyond the balance: declined like a failed payment, and the order never reaches the warehouse.
    placed = await stack.order.post("/v1/orders", json={**paid, "external_order_id": "credit-3"},
                                    auth=identities.connector)
    assert placed.status_code == 201, placed.text
    rejected = await order_in_status(stack.order, placed.json()["id"], "rejected")
    assert "store credit declined" in rejected["history"][-1]["reason"]
    movements = (await stack.finance.get(f"/v1/store-credit/{customer}", auth=identities.finance)).json()["movements"]
    assert sorted(m["kind"] for m in movements) == ["declined", "issued", "redeemed"]


async def test_hazardous_return_is_quarantined_and_scrapped_with_a_disposal_record(stack, identities):
    second = await subject_of(identities.second_supervisor)
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 2})
    # Worth 300.00 a unit (a write-off of it is above the warehouse's threshold), in a hazardous category.
    await define_skus(stack, identities, {"sku": "SKU-RED-M", "name": "Power bank", "category": "batteries",
                                          "unit_cost": "300.00", "currency": "EUR"},
                      read_by=("order", "finance", "returns"))
    assert (await stack.returns.put("/v1/rules/hazardous-categories", json={"categories": ["batteries"]},
                                    auth=identities.admin)).status_code == 200
    lines = [{"line_id": "1", "sku": "SKU-RED-M", "quantity": 1, "unit_price": "399.00"}]
    await shipped_order(stack, identities, "haz-1", lines=lines, shipping_fee="0.00",
                        payment={"status": "authorized", "amount": "399.00", "method": "card"})
    rma = await open_return(stack, identities, {
        "channel": "web-eu", "request_id": "haz-1-r", "external_order_id": "haz-1", "reason": "size_fit",
        "lines": [{"sku": "SKU-RED-M", "quantity": 1}]})
    received = wh1_scan("haz-1-in", "return_receive", "RET", 1, rma["id"], condition="like_new")
    assert (await stack.warehouse.post("/v1/scans", json=received, auth=identities.scanner)).status_code == 200
    await rma_in(stack.returns, rma["id"], lambda r: r["lines"][0]["received"] == 1)
    graded = await stack.returns.post(f"/v1/returns/{rma['id']}/inspections", auth=identities.inspector,
                                      json={"sku": "SKU-RED-M", "quantity": 1, "grade": "A"})
    assert graded.status_code == 200, graded.text
    rma = await rma_in(stack.returns, rma["id"], lambda r: r["lines"][0]["dispositioned"] == 1)
    assert [i["disposition"] for i in rma["inspections"]] == ["quarantine"]  # like new, but hazardous

    async def quarantined() -> bool:
        stock = (await stack.warehouse.get("/v1/stock", params={"sku": "SKU-RED-M", "node": "WH1"})).json()
        return any(row["status"] == "quarantined" for row in stock)

    await eventually(quarantined)
    location = next(row["location"] for row in (await stack.warehouse.get(
        "/v1/stock", params={"sku": "SKU-RED-M", "node": "WH1", "status": "quarantined"})).json())
    decision = {"node": "WH1", "sku": "SKU-RED-M", "location": location, "quantity": 1, "decision": "scrap"}
    missing = await stack.warehouse.post("/v1/recovery/qa-decisions", json=decision, auth=identities.supervisor)
    assert missing.status_code == 422 and "disposal" in missing.text, missing.text
    disposal = {"method": "recycling", "facility": "GRS Batterien, Hamburg", "certificate": "GRS-2026-118",
                "hazard_class": "UN3480"}
    pending = await stack.warehouse.post("/v1/recovery/qa-decisions", json={**decision, "disposal": disposal},
                                         auth=identities.supervisor)
    assert pending.status_code == 202, pending.text
    write_off = pending.json()["write_off_id"]
    approve = f"/v1/recovery/write-offs/{write_off}/approve"
    assert (await stack.warehouse.post(approve, json={}, auth=identities.supervisor)).status_code == 403
    approved = await stack.warehouse.post(approve, json={}, auth=identities.second_supervisor)
    assert approved.status_code == 200, approved.text
    actions = (await stack.warehouse.get("/v1/recovery/actions", params={"sku": "SKU-RED-M", "node": "WH1"},
                                         auth=identities.supervisor)).json()
    [scrapped] = [a for a in actions if a["action"] == "scrapped"]
    assert (scrapped["decided_by"], scrapped["disposal"]["certificate"]) == (second, "GRS-2026-118")

    async def written_off() -> bool:
        return (await journal_totals(stack, identities)).get("5100") == "300.00"

    await eventually(written_off, timeout=60)
    assert (await stack.warehouse.get("/v1/reconciliation")).json()["ok"] is True


async def _equals(read, expected) -> bool:
    return await read() == expected
