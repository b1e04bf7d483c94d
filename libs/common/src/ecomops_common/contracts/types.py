"""Field types and limits shared by contracts and request bodies. Money is a decimal string on the wire, never a
float."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

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
SURROGATE_MESSAGE = "must not contain a lone UTF-16 surrogate (\\ud800-\\udfff): it is no Unicode character"
UTC_RANGE_MESSAGE = "must be a time that exists in UTC (years 1 to 9999)"
_NUL = "\x00"
_UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def contains_nul(value: Any) -> bool:
    """Whether a string in `value` (or in its lists and dicts, keys included) holds U+0000, which PostgreSQL's
    text and jsonb cannot store."""
    return _first_unstorable(value) == "string_nul"


def _first_unstorable(value: Any) -> str | None:
    """The error type of the first value PostgreSQL cannot store (strings with NUL or a lone surrogate, which
    UTF-8 cannot encode; aware datetimes outside UTC's years 1 to 9999), looking into lists and dicts. It runs on
    every document read, so the common cases come first and cheap."""
    if isinstance(value, str):
        if value.isascii():
            return "string_nul" if _NUL in value else None
        found = _UNSTORABLE_CHARACTERS.search(value)
        return None if found is None else "string_nul" if found.group() == _NUL else "string_surrogate"
    if value is None or isinstance(value, int | Decimal | BaseModel):
        return None
    if isinstance(value, datetime):
        if value.utcoffset():  # only an offset can carry a time past UTC's years
            try:
                value.astimezone(UTC)
            except OverflowError:
                return "datetime_utc_range"
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return next(filter(None, map(_first_unstorable, value)), None)
    if isinstance(value, dict):
        return next(filter(None, map(_first_unstorable, (*value.keys(), *value.values()))), None)
    return None


def _may_hold_unstorable(annotation: Any) -> bool:
    """False for a field whose values can hold no string and no time: numbers, booleans, enums, dates and
    nested documents (which check themselves), also optional or in a list of them."""
    if annotation is None or annotation is type(None):
        return False
    if isinstance(annotation, type):
        return not issubclass(annotation, int | float | Decimal | Enum | Document) \
            and (annotation is datetime or not issubclass(annotation, date))
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _may_hold_unstorable(arguments[0])
    if origin in (Union, UnionType) or origin in (list, tuple, set, frozenset) and arguments:
        return any(_may_hold_unstorable(argument) for argument in arguments if argument is not Ellipsis)
    return True  # dicts, Any, Literal, anything else: checked


_UNSTORABLE = {"string_nul": NUL_MESSAGE, "string_surrogate": SURROGATE_MESSAGE,
               "datetime_utc_range": UTC_RANGE_MESSAGE}
# The validation context of JSON that storable_json() cleared: Document skips its own pass over the values.
STORABLE_JSON: dict[str, bool] = {"storable": True}


def storable_json(raw: bytes) -> dict[str, bool] | None:
    """STORABLE_JSON (pass it as model_validate_json's context) when JSON text cannot hold a value PostgreSQL
    cannot store, else None. A JSON parser refuses raw control characters and invalid UTF-8, so a NUL or a lone
    surrogate can only be written as a \\u escape; an offset can only push a time out of UTC's years in year 1
    or 9999. One scan of the bytes in C instead of a pass over every value of every document read."""
    if b"\\u" in raw or b'"0001-' in raw or b'"9999-' in raw:
        return None
    return STORABLE_JSON


class Document(BaseModel):
    """Base of every model read from outside the process: contracts on Kafka and HTTP request bodies. Every string
    is at most TEXT_MAX_LENGTH characters unless its field says less, and no value is one PostgreSQL cannot store
    (NUL, a lone surrogate, a time beyond UTC's years): a bad value is refused naming its field, on the topic as
    over HTTP, before it reaches a database."""

    model_config = ConfigDict(str_max_length=TEXT_MAX_LENGTH)
    _checked_elsewhere: ClassVar[frozenset[str]] = frozenset()  # fields a model of their own validates
    _fields_to_check: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._fields_to_check = tuple(name for name, field in cls.model_fields.items()
                                     if name not in cls._checked_elsewhere and _may_hold_unstorable(field.annotation))

    @model_validator(mode="after")
    def _storable(self, info: ValidationInfo) -> "Document":
        # One pass, once the fields are valid, over those that can hold a string or a time (this is every
        # document's hot path: a validator per field doubled the cost of validation); nested documents check
        # their own, and each error still names its field. JSON storable_json() cleared needs none.
        if info.context is STORABLE_JSON:
            return self
        values = self.__dict__
        errors = [InitErrorDetails(type=PydanticCustomError(problem, _UNSTORABLE[problem]), loc=(name,),
                                   input=values[name])
                  for name in self._fields_to_check if (problem := _first_unstorable(values[name]))]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


class EventPayload(Document):
    """Base of every enveloped event's payload. Consumers ignore fields they do not know, so adding an
    optional field stays compatible."""

    model_config = ConfigDict(extra="ignore")


def _known_currency(code: str) -> str:
    minor_unit_digits(code)  # raises UnknownCurrency, a ValueError, so validation names the field
    return code


CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code"),
                         AfterValidator(_known_currency)]
