from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class AllocationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ALLOCATION_", extra="ignore")

    service_name: str = "allocation"
    http_port: int = 8002
    reconcile_interval_s: float = Field(default=60, gt=0, description="How often reservations are reconciled and "
                                                                      "backorders counted, for the metrics")
