"""Channel sourcing rules: validated against the nodes that exist before they replace the old ones."""

from datetime import UTC, datetime

from allocation_service.domain.rules import SourcingRules
from allocation_service.service_layer.unit_of_work import AllocationUnitOfWork
from ecomops_common.errors import Invalid


class InvalidRules(Invalid):
    code = "invalid_rule"


async def put_rules(uow: AllocationUnitOfWork, channel: str, rules: SourcingRules, actor: str) -> None:
    errors = rules.validate(await uow.allocation.known_nodes())
    if errors:
        raise InvalidRules(errors)
    await uow.allocation.put_rules(channel, rules, actor, datetime.now(UTC))
    await uow.commit()
