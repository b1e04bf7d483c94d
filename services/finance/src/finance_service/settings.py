from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings


class FinanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINANCE_", extra="ignore")

    service_name: str = "finance"
    http_port: int = 8005
    payment_provider_url: str = Field(default="http://127.0.0.1:8090",
                                      description="The payment provider's refund API (the simulator locally)")
    payment_timeout_s: float = Field(default=5.0, gt=0, description="A slower answer counts as unknown: retried")
    payout_interval_s: float = Field(default=0.5, gt=0, description="How often pending refunds are paid out")
    payout_batch_size: int = Field(default=50, ge=1, description="Refunds claimed per payout round")
    payout_concurrency: int = Field(default=10, ge=1, description="Provider calls in flight per payout round")
    payout_retry_s: float = Field(default=5.0, gt=0, description="Wait before retrying an unknown outcome")
    parked_retry_interval_s: float = Field(default=1.0, gt=0, description="How often facts waiting for an order, "
                                                                         "an RMA or a unit cost are retried")
    no_receipt_days: int = Field(default=14, ge=0, description="Refunds paid this long ago without any receipt "
                                                                "are flagged in the reconciliation")
    retailer_fault_reasons: list[str] = Field(default=["damaged_in_transit", "defective", "wrong_item"],
                                              description="Reasons that charge no restocking fee")
    fee_grades: list[str] = Field(default=["B", "C"], description="Inspection grades a restocking fee is due for")
    fee_conditions: list[str] = Field(default=["opened", "damaged", "missing_parts"],
                                      description="The same as scanned conditions, for refunds paid before "
                                                  "inspection")
