"""Events of the finance service, topic finance.events.v1 (key: the RMA id for refunds)."""

from pydantic import AwareDatetime, Field

from ecomops_common.contracts.types import EventPayload, Money


class RefundIssued(EventPayload):
    """The payment provider paid the refund out; the returns service settles the RMA on it."""

    refund_id: str
    rma_id: str
    order_id: str
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    provider_reference: str | None = None
    issued_at: AwareDatetime
