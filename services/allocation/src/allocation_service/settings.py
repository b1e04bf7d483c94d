from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class AllocationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ALLOCATION_", extra="ignore")

    service_name: str = "allocation"
    http_port: int = 8002
    reconcile_interval_s: float = Field(default=60, gt=0, description="How often reservations are reconciled and "
                                                                      "backorders counted, for the metrics")
    soft_reservation_default_ttl_s: int = Field(default=900, ge=1, description="How long a soft reservation "
                                                                         "holds units when the request says not")
    soft_reservation_max_ttl_s: int = Field(default=7 * 24 * 3600, ge=1, le=7 * 24 * 3600,
                                            description="The longest a soft reservation may hold units (7 days)")
    soft_reservation_sweep_interval_s: float = Field(default=5, gt=0, description="How often expired soft "
                                                                                "reservations are released")
    atp_days: int = Field(default=28, ge=1, le=366, description="Days GET /v1/atp/{sku} shows unless asked")

    @model_validator(mode="after")
    def _default_ttl_within_max(self) -> "AllocationSettings":
        if self.soft_reservation_default_ttl_s > self.soft_reservation_max_ttl_s:
            raise ValueError("soft_reservation_default_ttl_s exceeds soft_reservation_max_ttl_s")
        return self
