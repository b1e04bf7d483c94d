"""Events of the returns service, topic returns.events.v1 (key: the RMA id). Designed with the warehouse, which
receives returned units against an RMA and moves them as the returns service decides."""

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from ecomops_common.contracts.types import EventPayload


class ReturnLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(ge=1)


class ReturnAuthorized(EventPayload):
    """A return authorization (RMA): the units the node may receive back."""

    rma_id: str
    order_id: str
    channel: str
    node: str = Field(description="The warehouse the customer sends the units to")
    lines: list[ReturnLine] = Field(min_length=1)
    authorized_at: AwareDatetime


class Disposition(StrEnum):
    restock = "restock"
    refurbish = "refurbish"
    quarantine = "quarantine"
    vendor_return = "vendor_return"
    liquidate = "liquidate"
    scrap = "scrap"


class ReturnDispositionDecided(EventPayload):
    """What happens to inspected units of an RMA: the warehouse moves them out of return_pending_inspection."""

    rma_id: str
    sku: str
    quantity: int = Field(ge=1)
    disposition: Disposition
    decided_at: AwareDatetime
