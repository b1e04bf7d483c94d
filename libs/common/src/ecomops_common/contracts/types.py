"""Field types and limits shared by contracts and request bodies. Money is a decimal string on the wire, never a
float."""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

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


# What PostgreSQL can store: every count that reaches an integer column is bounded by it.
INT4_MAX = 2**31 - 1  # integer
INT8_MAX = 2**63 - 1  # bigint (row ids)
# Units on one line of an order, receipt or transfer: a document's lines (at most 1,000) summed per SKU still fit
# an integer column.
MAX_LINE_QUANTITY = 1_000_000
# Any string a field does not bound more tightly: finite, so no document can carry an unbounded one.
TEXT_MAX_LENGTH = 10_000
NUL_MESSAGE = "must not contain the NUL character (\\u0000)"


def contains_nul(value: Any) -> bool:
    """Whether a string in `value` (or in its lists and dicts, keys included) holds U+0000, which PostgreSQL's
    text and jsonb cannot store."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    return False


class Document(BaseModel):
    """Base of every model read from outside the process: contracts on Kafka and HTTP request bodies. Every string
    is at most TEXT_MAX_LENGTH characters unless its field says less, and none holds NUL: a bad value is refused
    naming its field, on the topic as over HTTP, before it reaches a database."""

    model_config = ConfigDict(str_max_length=TEXT_MAX_LENGTH)

    @field_validator("*")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        if contains_nul(value):
            raise PydanticCustomError("string_nul", NUL_MESSAGE)
        return value


class EventPayload(Document):
    """Base of every enveloped event's payload. Consumers ignore fields they do not know, so adding an
    optional field stays compatible."""

    model_config = ConfigDict(extra="ignore")


def _known_currency(code: str) -> str:
    minor_unit_digits(code)  # raises UnknownCurrency, a ValueError, so validation names the field
    return code


CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code"),
                         AfterValidator(_known_currency)]
