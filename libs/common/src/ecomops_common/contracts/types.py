"""Field types shared by contracts. Money is a decimal string on the wire, never a float."""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from ecomops_common.money import minor_unit_digits

MONEY_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,4})?$"


def _money_from_string(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError('money must be a decimal string such as "19.99", not a number')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -4 or abs(amount) >= Decimal(10) ** 13:
        raise ValueError(f"{value!r} is not a decimal amount with at most 4 decimal places")
    return amount


Money = Annotated[
    Decimal,
    BeforeValidator(_money_from_string),
    PlainSerializer(lambda amount: str(amount), return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["19.99"]}),
]


class EventPayload(BaseModel):
    """Base of every enveloped event's payload. Consumers ignore fields they do not know, so adding an
    optional field stays compatible."""

    model_config = ConfigDict(extra="ignore")


def _known_currency(code: str) -> str:
    minor_unit_digits(code)  # raises UnknownCurrency, a ValueError, so validation names the field
    return code


CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code"),
                         AfterValidator(_known_currency)]
