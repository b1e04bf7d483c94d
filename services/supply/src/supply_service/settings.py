from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class SupplySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPLY_", extra="ignore")

    service_name: str = "supply"
    http_port: int = 8008
    default_lead_time_days: int = Field(default=14, ge=0, le=365,
                                        description="A vendor's lead time when the catalog names none")
    review_period_days: int = Field(default=7, ge=1, le=365, description="R: how often suggestions are ordered; "
                                    "the order-up-to level covers lead time and review period")
    service_level: float = Field(default=0.95, gt=0.5, lt=1, description="The chance of not running out within a "
                                 "replenishment cycle: sets z of the safety stock")
    history_days: int = Field(default=182, ge=28, le=730, description="Days of net demand a forecast is fitted on")
    po_approval_threshold: Decimal = Field(
        default=Decimal(1000), ge=0, description="A purchase order totalling more than this (in its currency) is "
        "approved by someone other than its creator")
