"""Customers' personal data (name, email, address, phone) as shown to a caller who may not read it: masked, keeping
just enough to recognise a record on the phone with the customer (first letter, email domain, last digits)."""

MASK = "***"


def masked_text(value: str | None) -> str | None:
    """"Ada Lovelace" -> "A***"."""
    return None if value is None else (value[:1] + MASK if value else value)


def masked_email(value: str | None) -> str | None:
    """"ada@example.com" -> "a***@example.com"."""
    if value is None:
        return None
    local, at, domain = value.partition("@")
    return f"{local[:1]}{MASK}{at}{domain}" if at else masked_text(value)


def masked_phone(value: str | None) -> str | None:
    """"+44 20 7946 0958" -> "***58"."""
    if value is None:
        return None
    digits = [c for c in value if c.isdigit()]
    return MASK + "".join(digits[-2:])
