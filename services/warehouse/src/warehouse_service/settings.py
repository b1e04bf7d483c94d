from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class WarehouseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WAREHOUSE_", extra="ignore")

    service_name: str = "warehouse"
    http_port: int = 8003
    count_auto_adjust_units: int = Field(
        default=2, ge=0, description="A count variance up to this many units is adjusted without approval")
