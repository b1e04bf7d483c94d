"""Money is Decimal with a currency; amounts are rounded to the currency's minor unit. Plain Python.

One ISO 4217 table for the whole platform, from the maintained `iso4217` package (ISO's published list):
order intake validates against it and finance and returns round with it, so they cannot disagree.
"""

from decimal import ROUND_HALF_UP, Decimal

from iso4217 import Currency, raw_xml


def _payment_currencies() -> dict[str, int]:
    """Active codes with their minor units (decimal places). Fund codes (CLF, UYI, ...) and units without a
    minor unit (gold, SDR, the testing code XXX) are no currencies an order is paid in."""
    funds = {entry.findtext("Ccy") for entry in raw_xml.iter("CcyNtry")
             if entry.find("CcyNm") is not None and entry.find("CcyNm").get("IsFund") == "true"}
    return {currency.code: currency.exponent for currency in Currency
            if currency.exponent is not None and currency.code not in funds}


MINOR_UNIT_DIGITS: dict[str, int] = _payment_currencies()


class UnknownCurrency(ValueError):
    pass


def minor_unit_digits(currency: str) -> int:
    try:
        return MINOR_UNIT_DIGITS[currency]
    except KeyError:
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency") from None


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit_digits(currency))


def to_minor_unit(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=rounding)
