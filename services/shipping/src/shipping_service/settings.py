import ipaddress
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings

SIMULATOR_URL = "http://127.0.0.1:8091"  # the carrier simulator's own default address (make up runs it there)


def is_carrier_simulator(url: str) -> bool:
    """The simulator's local address (a loopback host, its port 8091), or a host whose first label ends with
    `carrier-simulator` (the compose service, the chart's `<release>-ecomops-carrier-simulator` Service). It keeps
    labels in memory and ships nothing: production must never buy labels from it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return (loopback and parts.port == 8091) or host.split(".")[0].endswith("carrier-simulator")


class ShippingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHIPPING_", extra="ignore")

    service_name: str = "shipping"
    http_port: int = 8009
    carrier_url: str = Field(default=SIMULATOR_URL, description="The carrier API (the carrier simulator locally; "
                                                                "production refuses the simulator)")
    carrier_timeout_s: float = Field(default=5.0, gt=0, description="A slower answer counts as unknown: asked again "
                                                                   "with the same idempotency key")
    label_interval_s: float = Field(default=0.5, gt=0, description="How often pending parcels get their labels")
    label_batch_size: int = Field(default=20, ge=1, description="Parcels labelled per round")
    label_retry_s: float = Field(default=2.0, gt=0, description="First wait after an unknown outcome; doubles")
    label_max_attempts: int = Field(default=8, ge=1, description="Unanswered attempts before a parcel fails "
                                                                 "(visible, a supervisor retries it)")
    handover_interval_s: float = Field(default=1.0, gt=0, description="How often dispatched parcels are handed "
                                                                      "over to the carrier")
    tracking_interval_s: float = Field(default=2.0, gt=0, description="How often the carrier's tracking events are "
                                                                      "read")
    tracking_batch_size: int = Field(default=200, ge=1, le=1000)
    standard_days: int = Field(default=5, ge=0, le=60, description="Business days promised to a standard order that "
                                                                   "came without a promised date")
    express_days: int = Field(default=2, ge=0, le=60, description="The same for an express order")
    time_zone: str = Field(default="UTC", description="Where the nodes' cut-offs are read, unless node_time_zones "
                                                      "names the node's")
    node_time_zones: dict[str, str] = Field(default_factory=dict, description='e.g. {"WH1": "Europe/Berlin"}')
    holidays: list[date] = Field(default_factory=list, description="Not business days, besides weekends")
    unknown_sku_weight_kg: float = Field(default=1.0, gt=0, description="Per unit of a SKU the catalog gives no "
                                                                        "weight")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        return _zone(zone)

    @field_validator("node_time_zones")
    @classmethod
    def _known_zones(cls, zones: dict[str, str]) -> dict[str, str]:
        return {node: _zone(zone) for node, zone in zones.items()}

    @model_validator(mode="after")
    def _no_simulator_in_production(self) -> "ShippingSettings":
        if self.environment == "production" and is_carrier_simulator(self.carrier_url):
            raise ValueError(f"insecure production settings: carrier_url {self.carrier_url} is the carrier simulator "
                             "(state in memory, ships nothing); set SHIPPING_CARRIER_URL to the carrier's API")
        return self

    def zone_of(self, node: str) -> ZoneInfo:
        return ZoneInfo(self.node_time_zones.get(node, self.time_zone))


def _zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    return zone


