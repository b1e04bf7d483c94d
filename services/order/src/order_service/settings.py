from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings
from order_service.domain.catalog import UnknownSkuAction
from order_service.domain.lifecycle import IntakePolicy


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDER_", extra="ignore")

    service_name: str = "order"
    http_port: int = 8001
    fraud_review_threshold: int = Field(default=80, ge=0, le=100, description="fraud_score from which orders wait")
    intake_queue_limit: int = Field(default=1000, ge=1, description="Orders waiting for the intake transaction; "
                                                                   "beyond it POST /v1/orders answers 503")
    unknown_sku_action: UnknownSkuAction = Field(
        default=UnknownSkuAction.hold, description="What orders for SKUs the catalog does not know (or discontinued) "
                                                   "get on channels without a rule (PUT /v1/rules/unknown-skus/...)")

    @property
    def intake_policy(self) -> IntakePolicy:
        return IntakePolicy(fraud_review_threshold=self.fraud_review_threshold,
                            unknown_sku_action=self.unknown_sku_action)
