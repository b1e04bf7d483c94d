"""Channel sourcing rules: validated against the nodes that exist before they replace the old ones."""

from datetime import UTC, datetime

from allocation_service.domain.rules import FieldError, SourcingRules


class InvalidRules(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


async def put_rules(uow, channel: str, rules: SourcingRules, actor: str) -> None:
    errors = rules.validate(await uow.allocation.known_nodes())
    if errors:
        raise InvalidRules(errors)
    await uow.allocation.put_rules(channel, rules, actor, datetime.now(UTC))
    await uow.commit()
