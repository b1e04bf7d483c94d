"""The ops console in a real browser (Debian's Chromium driven by Playwright) against the six services as
processes and the real identity provider: an operations lead (supervisor and refund approver) signs in through the
provider's own login form, sees KPI tiles that match the flow this test just ran, approves a refund waiting in
the exception inbox, and watches the order's cross-service timeline and the finance figures follow; a warehouse
operator is refused the finance pages. Screenshots of the main pages are kept in .local/artifacts/screenshots/."""

from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect

from ecomops_common.testing.plugin import eventually
from ecomops_common.testing.samples import channel_order

from .browser import CONSOLE_URL, screenshot
from .conftest import open_return, order_in_status, receive_and_put_away, rma_in, ship_from_wh1, wh1_scan

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def sign_in(page: Page, username: str, path: str = "/console/") -> None:
    """Through the provider's login form, as a person does: the console sends the browser there and back."""
    await page.goto(f"{CONSOLE_URL}{path}")
    await page.fill("#username", username)
    await page.fill("#password", "demo")
    await page.click("#kc-login")
    await page.wait_for_url(f"{CONSOLE_URL}{path}*")


async def tile(page: Page, kpi: str) -> float:
    return float(await page.locator(f'[data-kpi="{kpi}"]').first.get_attribute("data-value") or "nan")


async def test_a_lead_approves_a_refund_from_the_inbox_and_the_figures_follow(stack, identities, page, browser):
    # The flow: 4 units arrive at WH1; the web-eu shop sells 3; they ship with DHL and are delivered; one comes
    # back damaged, graded C at the bench, and its refund waits for approval.
    await receive_and_put_away(stack.warehouse, identities, {"WH1": 4})
    refund_policy = {"timing": "after_inspection", "restocking_fee_by_grade": {"C": "0.20"}}
    assert (await stack.returns.put("/v1/rules/refund-policies/web-eu", json=refund_policy,
                                    auth=identities.admin)).status_code == 200

    async def stocked() -> bool:
        items = (await stack.allocation.get("/v1/availability", params={"sku": "SKU-RED-M"})).json()["items"]
        return bool(items) and items[0]["atp"] == 4

    await eventually(stocked)
    placed_now = channel_order(external_order_id="console-1", placed_at=datetime.now(UTC).isoformat())
    order = (await stack.order.post("/v1/orders", json=placed_now, auth=identities.connector)).json()
    await order_in_status(stack.order, order["id"], "released_to_warehouse")
    await ship_from_wh1(stack, identities, order["id"], tracking_number="1Z-C1", carrier="dhl")
    rma = await open_return(stack, identities, {
        "channel": "web-eu", "request_id": "console-r1", "external_order_id": "console-1", "reason": "changed_mind",
        "lines": [{"sku": "SKU-RED-M", "quantity": 1}]})
    received = wh1_scan("console-ret-1", "return_receive", "RET", 1, rma["id"], condition="damaged")
    assert (await stack.warehouse.post("/v1/scans", json=received, auth=identities.scanner)).status_code == 200
    await rma_in(stack.returns, rma["id"], lambda r: r["lines"][0]["received"] == 1)
    graded = await stack.returns.post(f"/v1/returns/{rma['id']}/inspections", auth=identities.inspector,
                                      json={"sku": "SKU-RED-M", "quantity": 1, "grade": "C"})
    assert graded.status_code == 200, graded.text
    await rma_in(stack.returns, rma["id"], lambda r: r["settlements"]
                 and r["settlements"][0]["status"] == "pending_approval")
    item_id = f"refund_approval:{rma['id']}"

    async def in_the_inbox() -> bool:
        inbox = (await stack.control.get("/v1/inbox", params={"kind": "refund_approval"},
                                         auth=identities.lead)).json()
        return item_id in {item["item_id"] for item in inbox["items"]}

    await eventually(in_the_inbox, timeout=60)

    # The lead signs in: the tiles tell what just happened.
    await sign_in(page, "lee.lead")
    assert await tile(page, "orders_placed") == 1
    assert await tile(page, "fill_rate") == 1.0  # all 3 units allocated at once
    assert await tile(page, "return_rate") == pytest.approx(1 / 3, abs=0.001)  # 1 unit back of 3 shipped
    assert await tile(page, "pending_return_liability") == pytest.approx(19.99)  # authorized, not refunded
    await screenshot(page, "console-overview")
    await page.goto(f"{CONSOLE_URL}/console/finance")
    liability_before = await tile(page, "pending_return_liability")
    margin_before = await tile(page, "margin_impact_of_returns")
    assert liability_before == pytest.approx(19.99)

    # The inbox: the refund waits for approval; the lead approves it there.
    await page.goto(f"{CONSOLE_URL}/console/inbox")
    row = page.locator(f'tr[data-item-id="{item_id}"]')
    await expect(row).to_be_visible()
    await screenshot(page, "console-inbox")
    await row.locator('button[data-action="approve_refund"]').click()
    await expect(page.locator("#flash")).to_have_attribute("data-kind", "ok")
    await expect(page.locator(f'tr[data-item-id="{item_id}"]')).to_have_count(0)

    # The returns service recorded the lead as approver; finance pays; the order's timeline shows it all.
    await rma_in(stack.returns, rma["id"], lambda r: r["settlements"][0]["status"] in ("approved", "issued"))

    async def paid_on_the_timeline() -> bool:
        await page.goto(f"{CONSOLE_URL}/console/orders/{order['id']}")
        return await page.locator('tr[data-event-type="RefundIssued"]').count() == 1

    await eventually(paid_on_the_timeline, timeout=60, interval=1)
    for event_type in ("OrderPlaced", "OrderAllocated", "ShipmentDispatched", "ReturnAuthorized",
                       "ReturnReceived", "ReturnDispositionDecided", "RefundApproved", "JournalEntryPosted"):
        assert await page.locator(f'tr[data-event-type="{event_type}"]').count() >= 1, event_type
    await screenshot(page, "console-order-360")

    async def finance_followed() -> bool:
        await page.goto(f"{CONSOLE_URL}/console/finance")
        return await tile(page, "pending_return_liability") == 0

    await eventually(finance_followed, timeout=60, interval=1)
    assert await tile(page, "margin_impact_of_returns") == pytest.approx(margin_before + 15.99)  # 19.99 less 20 %
    await screenshot(page, "console-finance")
    for name, path in (("console-inventory", "/console/inventory"), ("console-returns", "/console/returns"),
                       ("console-kpi-return-rate", "/console/kpis/return_rate?by=reason")):
        response = await page.goto(f"{CONSOLE_URL}{path}")
        assert response.status == 200, path
        await screenshot(page, name)

    # A warehouse operator works the warehouse's queues, and is refused the finance pages.
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        operator = await context.new_page()
        await sign_in(operator, "olga.operator")
        assert await operator.locator('[data-kpi="pending_return_liability"]').count() == 0
        refused = await operator.goto(f"{CONSOLE_URL}/console/finance")
        assert refused.status == 403
        await screenshot(operator, "console-finance-refused-to-an-operator")
    finally:
        await context.close()
