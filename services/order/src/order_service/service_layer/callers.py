"""What a caller may do with an order and see of it. A channel connector acts for, and reads, only the channels
its token names; staff act for every channel. Customers' personal data is shown as stored only to staff who
need it (ecomops_common.auth.PERSONAL_DATA_ROLES) and to the order's own channel, masked for everyone else."""

from typing import Any

from ecomops_common.auth import CONNECTOR, STAFF_ROLES, Principal
from ecomops_common.errors import Forbidden
from ecomops_common.personal_data import masked_email, masked_phone, masked_text

# The parts of a channel order that identify its customer, and how each is masked; city, region and country
# stay readable: sourcing, carriers and reports work with them.
_CUSTOMER_MASKS = {"id": masked_text, "email": masked_email}
_SHIP_TO_MASKS = {"name": masked_text, "line1": masked_text, "line2": masked_text, "postal_code": masked_text,
                  "phone": masked_phone}


def check_channel(by: Principal, channel: str) -> None:
    """Refuses a connector acting for a channel its token does not name (403, reason "channel")."""
    if not by.acts_for(channel):
        names = ", ".join(sorted(by.channels)) or "none"
        raise Forbidden("channel", f"{by.name} acts for the channels {names}, not {channel}")


def readable_channels(by: Principal) -> frozenset[str] | None:
    """The channels whose orders `by` may read: None for every channel (staff)."""
    return None if by.has_role(*STAFF_ROLES) else by.channels


def sees_personal_data(by: Principal, channel: str) -> bool:
    return by.sees_personal_data or (CONNECTOR in by.roles and channel in by.channels)


def order_document_for(by: Principal, channel: str, document: dict[str, Any]) -> dict[str, Any]:
    """The stored channel order as `by` may see it: with the customer's personal data masked unless they may
    see it."""
    if sees_personal_data(by, channel):
        return document
    return {**document, "customer": _masked(document.get("customer"), _CUSTOMER_MASKS),
            "ship_to": _masked(document.get("ship_to"), _SHIP_TO_MASKS)}


def _masked(part: dict[str, Any] | None, masks) -> dict[str, Any] | None:
    if part is None:
        return None
    return {name: masks[name](value) if name in masks else value for name, value in part.items()}
