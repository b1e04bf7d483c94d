"""Rules are data: return policies per channel, refund policies per channel (and category), one disposition
table, the hazardous categories and the vendor claim rule. A change is validated whole, field by field, before
it is stored with who made it (the token's subject). Who may approve is not a rule of this service: roles are
the issuer's (the token's roles claim)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ecomops_common.errors import FieldProblem, Invalid
from returns_service.domain.dispositions import DEFAULT_HAZARDOUS, DEFAULT_TABLE, DispositionTable, HazardousCategories
from returns_service.domain.policy import DEFAULT_POLICY, ReturnPolicy
from returns_service.domain.refunds import RefundPolicy, policy_for
from returns_service.domain.vendor_claims import DEFAULT_CLAIM_RULE, ClaimRule
from returns_service.service_layer.unit_of_work import ReturnsUnitOfWork

RETURN_POLICY, REFUND_POLICY, DISPOSITIONS = "return_policy", "refund_policy", "dispositions"
HAZARDOUS, VENDOR_CLAIMS = "hazardous_categories", "vendor_claims"
MODELS: dict[str, type] = {RETURN_POLICY: ReturnPolicy, REFUND_POLICY: RefundPolicy, DISPOSITIONS: DispositionTable,
                           HAZARDOUS: HazardousCategories, VENDOR_CLAIMS: ClaimRule}
DEFAULTS: dict[str, Any] = {RETURN_POLICY: DEFAULT_POLICY, REFUND_POLICY: RefundPolicy(), DISPOSITIONS: DEFAULT_TABLE,
                            HAZARDOUS: DEFAULT_HAZARDOUS, VENDOR_CLAIMS: DEFAULT_CLAIM_RULE}
ADAPTERS = {kind: TypeAdapter(model) for kind, model in MODELS.items()}
TABLE_KEY = "all"  # the disposition table, the hazardous categories and the claim rule are one for every channel


class InvalidRules(Invalid):
    code = "invalid_rule"


@dataclass(frozen=True)
class Rules:
    return_policies: dict[str, ReturnPolicy]
    refund_policies: dict[tuple[str, str | None], RefundPolicy]
    dispositions: DispositionTable
    hazardous: HazardousCategories = DEFAULT_HAZARDOUS
    vendor_claims: ClaimRule = DEFAULT_CLAIM_RULE

    def return_policy(self, channel: str) -> ReturnPolicy:
        return self.return_policies.get(channel, DEFAULT_POLICY)

    def refund_policy(self, channel: str, category: str | None) -> RefundPolicy:
        return policy_for(channel, category, self.refund_policies)


def refund_key(channel: str, category: str | None) -> str:
    return f"{channel}/{category}" if category else channel


async def load_rules(uow: ReturnsUnitOfWork) -> Rules:
    stored = {kind: {key: ADAPTERS[kind].validate_python(row["document"])
                     for key, row in (await uow.returns.rules(kind)).items()} for kind in MODELS}
    refund = {(key.partition("/")[0], key.partition("/")[2] or None): policy
              for key, policy in stored[REFUND_POLICY].items()}
    one = {kind: stored[kind].get(TABLE_KEY, DEFAULTS[kind]) for kind in (DISPOSITIONS, HAZARDOUS, VENDOR_CLAIMS)}
    return Rules(stored[RETURN_POLICY], refund, one[DISPOSITIONS], one[HAZARDOUS], one[VENDOR_CLAIMS])


def parse_rule(kind: str, document: Any) -> Any:
    """The domain object, or InvalidRules naming every field that is wrong."""
    try:
        rule = ADAPTERS[kind].validate_python(document)
    except ValidationError as error:
        raise InvalidRules([FieldProblem(".".join(str(part) for part in e["loc"]) or kind, e["msg"])
                            for e in error.errors()]) from None
    if errors := rule.validate():
        raise InvalidRules(errors)
    return rule


async def put_rule(uow: ReturnsUnitOfWork, kind: str, key: str, document: Any, actor: str) -> Any:
    rule = parse_rule(kind, document)
    await uow.returns.put_rule(kind, key, ADAPTERS[kind].dump_python(rule, mode="json"), actor, datetime.now(UTC))
    await uow.commit()
    return rule


async def stored_rule(uow: ReturnsUnitOfWork, kind: str, key: str) -> tuple[Any, dict[str, Any] | None]:
    """The rule in force for the key and its stored row (None: the default applies)."""
    row = (await uow.returns.rules(kind)).get(key)
    return (ADAPTERS[kind].validate_python(row["document"]), row) if row else (DEFAULTS[kind], None)

