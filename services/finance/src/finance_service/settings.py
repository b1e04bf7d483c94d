import ipaddress
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings

SIMULATOR_URL = "http://127.0.0.1:8090"  # the payment simulator's own default address (make up runs it there)


def is_payment_simulator(url: str) -> bool:
    """The simulator's local address (any loopback name, its port 8090), or a host whose first label ends with
    `payment-simulator`: the compose service, the chart's `<release>-ecomops-payment-simulator` Service, with or
    without the namespace's domain. A real provider, or an adapter of one (a sidecar on another loopback port
    included), matches neither; the simulator keeps payments in memory, so production must never pay through it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return (_is_loopback(host) and parts.port == 8090) or host.split(".")[0].endswith("payment-simulator")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class FinanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINANCE_", extra="ignore")

    service_name: str = "finance"
    http_port: int = 8005
    payment_provider_url: str = Field(default=SIMULATOR_URL,
                                      description="The payment provider's refund API (the simulator locally; "
                                                  "production refuses the simulator)")
    payment_timeout_s: float = Field(default=5.0, gt=0, description="A slower answer counts as unknown: retried")
    payout_interval_s: float = Field(default=0.5, gt=0, description="How often pending refunds are paid out")
    payout_batch_size: int = Field(default=50, ge=1, description="Refunds claimed per payout round")
    payout_concurrency: int = Field(default=10, ge=1, description="Provider calls in flight per payout round")
    payout_retry_s: float = Field(default=5.0, gt=0, description="Wait before retrying an unknown outcome")
    parked_retry_interval_s: float = Field(default=1.0, gt=0, description="How often facts waiting for an order, "
                                                                         "an RMA or a unit cost, and refunds held "
                                                                         "for their order, are retried")
    no_receipt_days: int = Field(default=14, ge=0, description="Refunds paid this long ago without any receipt "
                                                                "are flagged in the reconciliation")
    retailer_fault_reasons: list[str] = Field(default=["damaged_in_transit", "defective", "wrong_item"],
                                              description="Reasons that charge no restocking fee")
    fee_grades: list[str] = Field(default=["B", "C"], description="Inspection grades a restocking fee is due for")
    fee_conditions: list[str] = Field(default=["opened", "damaged", "missing_parts"],
                                      description="The same as scanned conditions, for refunds paid before "
                                                  "inspection")

    @model_validator(mode="after")
    def _no_simulator_in_production(self) -> "FinanceSettings":
        if self.environment == "production" and is_payment_simulator(self.payment_provider_url):
            raise ValueError(f"insecure production settings: payment_provider_url {self.payment_provider_url} is "
                             "the payment simulator (state in memory, pays nothing); set "
                             "FINANCE_PAYMENT_PROVIDER_URL to the real payment provider")
        return self
