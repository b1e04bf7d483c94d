from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class ReturnsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETURNS_", extra="ignore")

    service_name: str = "returns"
    http_port: int = 8004
    default_node: str = Field(default="WH1", description="Where returns go when the order's shipping node is "
                                                        "unknown and the channel names no return node")
    write_off_approval_value: Decimal = Field(
        default=Decimal(100), ge=0, description="A scrap or liquidate disposition of units the customer paid more "
        "than this for (in the RMA's currency) waits for a supervisor's approval")
