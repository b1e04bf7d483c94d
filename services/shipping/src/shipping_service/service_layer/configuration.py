"""Carrier services (transit times, cut-offs, what they carry) and the channels' carrier rules: changed by
supervisors, each change stored with who made it (the token's subject)."""

from datetime import UTC, datetime
from typing import Any

from ecomops_common.errors import FieldProblem, Invalid
from shipping_service.adapters.repository import carrier_service
from shipping_service.domain.rates import CarrierService, rule_problems
from shipping_service.service_layer.unit_of_work import ShippingUnitOfWork


async def put_carrier_service(uow: ShippingUnitOfWork, service: CarrierService, actor: str) -> None:
    await uow.shipping.put_carrier_service(service, actor, datetime.now(UTC))
    await uow.commit()


async def put_channel_rule(uow: ShippingUnitOfWork, channel: str, carriers: list[str] | None,
                           services: list[str] | None, actor: str) -> dict[str, Any]:
    """None: any carrier (service); a list: only those."""
    configured = [carrier_service(row) for row in await uow.shipping.carrier_services()]
    if problems := rule_problems(carriers, services, configured):
        raise Invalid([FieldProblem(field, message) for field, message in problems])
    document = {"carriers": None if carriers is None else sorted(set(carriers)),
                "services": None if services is None else sorted(set(services))}
    await uow.shipping.put_channel_rule(channel, document, actor, datetime.now(UTC))
    await uow.commit()
    return document
