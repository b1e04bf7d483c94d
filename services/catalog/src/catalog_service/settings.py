from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    service_name: str = "catalog"
    http_port: int = 8007
    import_max_rows: int = Field(default=5_000, ge=1, le=100_000, description=(
        "A CSV import of more data rows is refused with 413 (the body is bounded by max_request_body_bytes too): "
        "one import is one transaction"))
