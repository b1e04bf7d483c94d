from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class WarehouseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WAREHOUSE_", extra="ignore")

    service_name: str = "warehouse"
    http_port: int = 8003
