"""Money is Decimal with a currency; amounts are rounded to the currency's minor unit. Plain Python."""

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units where they are not 2.
MINOR_UNIT_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNIT_DIGITS.get(currency, 2))


def to_minor_unit(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=rounding)
