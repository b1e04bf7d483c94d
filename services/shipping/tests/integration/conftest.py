import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from ecomops_common.contracts import CATALOG_SKUS, ORDER_EVENTS
from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.warehouse import PackedLine, ParcelPacked
from ecomops_common.envelope import new_event
from ecomops_common.testing.issuer import test_issuer
from ecomops_common.testing.plugin import consume_until, eventually, free_port, produce_events, serving
from ecomops_common.testing.samples import order_placed
from shipping_service.bootstrap import build_app
from shipping_service.settings import ShippingSettings

# A carrier that always answers at once; a test makes it fail or slow through its behaviour API.
CALM = {"late_rate": 0, "exception_rate": 0, "failure_rate": 0, "slow_rate": 0, "slow_s": 0, "seconds_per_day": 0.2}


def as_(subject: str, *roles: str) -> dict[str, str]:
    return test_issuer().bearer(subject, *roles)


@pytest.fixture
def service_under_test() -> str:
    return "shipping"


@pytest.fixture
def carrier_simulator(service_process):
    """The carrier simulator as its own process (as deployed), on a free port."""
    port = free_port()
    env = {f"CARRIER_SIMULATOR_{name.upper()}": str(value) for name, value in CALM.items()}
    return service_process("carrier_simulator", {**env, "CARRIER_SIMULATOR_PORT": str(port)}, port=port,
                           ready_path="/healthz")


@pytest.fixture
async def carrier(carrier_simulator):
    """A client on the simulator's own API (behaviour, labels, stats)."""
    async with httpx.AsyncClient(base_url=carrier_simulator.base_url) as client:
        yield client


@pytest.fixture
async def shipping(settings_for, carrier_simulator):
    """The shipping service in this process, buying from the simulator process, and an HTTP client on it (as an
    admin unless a request says otherwise)."""
    settings = settings_for(ShippingSettings, carrier_url=carrier_simulator.base_url, carrier_timeout_s=1.0,
                            label_interval_s=0.1, label_retry_s=0.2, handover_interval_s=0.2,
                            tracking_interval_s=0.2)
    async with serving(build_app(settings)) as client:
        yield client


async def behave(carrier: httpx.AsyncClient, **changes) -> None:
    (await carrier.put("/v1/behaviour", json={**CALM, **changes})).raise_for_status()


def in_days(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


async def publish(shipping, topic: str, *envelopes) -> None:
    settings = shipping.settings
    await produce_events(settings.kafka_bootstrap_servers, settings.topic(topic), list(envelopes))


async def sold(shipping, order_id: str, lines, *, promised_date: date | None = None, channel: str = "web-eu") -> None:
    """OrderPlaced as the order service publishes it (lines: (line_id, sku, quantity))."""
    await publish(shipping, ORDER_EVENTS, order_placed(
        order_id, lines, channel=channel, promised_date=promised_date and promised_date.isoformat()))


async def catalogued(shipping, sku: str, weight_kg: float, hazmat_class: str | None = None) -> None:
    await publish(shipping, CATALOG_SKUS, new_event("SkuChanged", 1, "catalog", "sku", sku, SkuChanged(
        sku=sku, revision=1, status="active", name=sku, weight_kg=weight_kg, hazmat_class=hazmat_class,
        changed_by="merch:mia", changed_at=datetime.now(UTC))))


def packed(order_id: str, node: str, lines) -> object:
    return new_event("ParcelPacked", 1, "warehouse", "order", order_id, ParcelPacked(
        parcel_id=f"{order_id}@{node}", order_id=order_id, node=node, packed_at=datetime.now(UTC),
        lines=[PackedLine(sku=sku, quantity=quantity) for sku, quantity in lines]))


async def parcel_where(shipping, parcel_id: str, check, timeout: float = 30) -> dict:
    found: dict = {}

    async def reached() -> bool:
        response = await shipping.get(f"/v1/parcels/{parcel_id}")
        found.update(response.json() if response.status_code == 200 else {})
        return response.status_code == 200 and check(found)

    await eventually(reached, timeout)
    return found


async def events_on(shipping, topic: str, done, timeout: float = 30) -> list[tuple[str, dict]]:
    settings = shipping.settings
    records = await consume_until(settings.kafka_bootstrap_servers, settings.topic(topic),
                                  lambda rs: done([json.loads(r.value)["payload"] for r in rs]), timeout)
    return [(dict(r.headers)["event_type"].decode(), json.loads(r.value)["payload"]) for r in records]

