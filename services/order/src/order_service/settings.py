from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDER_", extra="ignore")

    service_name: str = "order"
    http_port: int = 8001
