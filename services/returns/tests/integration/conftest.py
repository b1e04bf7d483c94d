import pytest

from ecomops_common.contracts import ORDER_EVENTS, WAREHOUSE_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.warehouse import FulfilmentStage, OrderFulfilmentChanged, ShipmentDispatched, ShippedLine
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import eventually, produce_events, serving
from ecomops_common.testing.samples import order_placed
from returns_service.bootstrap import build_app
from returns_service.settings import ReturnsSettings


def as_(subject: str, *roles: str, **claims) -> dict[str, str]:
    """Headers of a request by `subject` with `roles`, signed by the test issuer the service trusts."""
    return test_issuer().bearer(subject, *roles, **claims)


def sku_changed(sku: str, revision: int, **fields):
    """The catalog service's record of a SKU, changed by the merchandiser mia."""
    return new_event("SkuChanged", 1, "catalog", "sku", sku, SkuChanged(
        sku=sku, revision=revision, status="active", name=sku.title(), changed_by="merch:mia",
        changed_at="2026-11-25T09:00:00Z", **fields))


@pytest.fixture
def service_under_test() -> str:
    return "returns"


@pytest.fixture
async def returns(settings_for):
    """The returns service in this process and an HTTP client on it (calling as an admin unless a request says
    otherwise), with the service's settings and unit of work beside."""
    async with serving(build_app(settings_for(ReturnsSettings))) as client:
        yield client


async def sold_and_delivered(returns, order_id: str, lines, *, categories=None, final_sale=(), serials=None,
                             delivered_at=None, tax: str = "0.00") -> None:
    """What the order service and the warehouse would have published: placed (paid by card, shipping 4.99, the
    tax given), shipped from BER1, delivered."""
    settings = returns.settings
    placed = order_placed(order_id, lines)
    placed.payload["tax"] = tax
    for line in placed.payload["lines"]:
        line["category"] = (categories or {}).get(line["line_id"], "apparel")
        line["final_sale"] = line["line_id"] in final_sale
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(ORDER_EVENTS), [placed])
    shipped = new_event("ShipmentDispatched", 1, "warehouse", "order", order_id, ShipmentDispatched(
        order_id=order_id, node="BER1", tracking_number="TRK1", shipped_at="2026-11-20T16:00:00Z",
        lines=[ShippedLine(line_id=line_id, sku=sku, quantity=qty, serials=(serials or {}).get(line_id, []))
               for line_id, sku, qty in lines]))
    events = [shipped]
    if delivered_at is not False:
        delivered = new_event("OrderFulfilmentChanged", 1, "warehouse", "order", order_id, OrderFulfilmentChanged(
            order_id=order_id, stage=FulfilmentStage.delivered, units=1, picked=1, packed=1, shipped=1))
        if delivered_at:
            delivered = delivered.model_copy(update={"occurred_at": delivered_at})
        events.append(delivered)
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(WAREHOUSE_EVENTS), events)

    async def known() -> bool:
        async with returns.unit_of_work() as uow:
            order = await uow.returns.order(order_id)
            lines_known = await uow.returns.order_lines(order_id)
        return bool(order and order["channel"] and lines_known and all(line.shipped for line, _ in lines_known.values())
                    and (delivered_at is False or order["delivered_at"]))

    await eventually(known)
