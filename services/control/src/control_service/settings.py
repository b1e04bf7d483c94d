from datetime import timedelta
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from control_service.domain.inbox import ESCALATING, KINDS
from ecomops_common.settings import ServiceSettings


def _escalation_age(queue: str) -> Any:
    """A supervisor queue's escalation age in seconds (negative: the service refuses to start, naming it)."""
    return Field(default=int(KINDS[queue].sla.total_seconds()), ge=0,
                 description=f"An open {queue} item older than this is escalated "
                             f"(CONTROL_SLA_{queue.upper()}_S)")


class ControlSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTROL_", extra="ignore")

    service_name: str = "control"
    http_port: int = 8006
    # A read model: half a second of freshness buys batches ~10x larger at peak, so the KPIs cost the order's
    # path (one box: the same cores) far fewer transactions.
    consumer_pace_s: float = Field(default=0.5, ge=0, le=60)
    public_url: str = Field(default="http://127.0.0.1:8006",
                            description="Where people reach the console: the sign-in's redirect URI is built on it")
    oidc_backchannel_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CONTROL_OIDC_BACKCHANNEL_URL", "OIDC_BACKCHANNEL_URL"),
        description="The issuer as this service reaches it, when people's address for it is not reachable from "
                    "here (in compose: http://keycloak:8080/realms/ecomops); default: the issuer")
    # The owning services' APIs: the console's actions and finance pages call them with the signed-in user's token.
    order_url: str = "http://127.0.0.1:8001"
    allocation_url: str = "http://127.0.0.1:8002"
    warehouse_url: str = "http://127.0.0.1:8003"
    returns_url: str = "http://127.0.0.1:8004"
    finance_url: str = "http://127.0.0.1:8005"
    catalog_url: str = "http://127.0.0.1:8007"
    supply_url: str = "http://127.0.0.1:8008"
    shipping_url: str = "http://127.0.0.1:8009"
    read_model_generation: int = Field(
        default=1, ge=1, le=1_000_000, description="Part of the consumer groups' names: to rebuild the read model, "
        "start on an empty database with the next generation, whose new groups read every topic from the start")
    service_timeout_s: float = Field(default=10.0, gt=0, description="A slower answer from a service is a 504")
    session_idle_s: int = Field(default=8 * 3600, ge=60, description="A console session ends after this idle time")
    secure_cookies: bool = Field(default=False, description="Mark the session cookie Secure (serve over HTTPS)")
    # When an open item enters the exception inbox, in minutes after it began (the rest enter at once).
    hold_minutes: int = Field(default=30, ge=0, description="Orders on hold longer than this")
    backorder_days: int = Field(default=3, ge=0, description="Backorders without a promised date: older than this")
    receipt_days: int = Field(default=14, ge=0, description="Returns not received this long after authorization, "
                                                           "when the RMA names no expected date")
    inspection_hours: int = Field(default=48, ge=0, description="Returns received but not inspected")
    drift_minutes: int = Field(default=10, ge=0, description="Warehouse and allocation disagreeing on sellable "
                                                             "stock longer than this (messages in flight agree soon)")
    stuck_minutes: dict[str, int] = Field(
        default={"received": 15, "awaiting_allocation": 30, "allocated": 120, "partially_allocated": 240,
                 "released_to_warehouse": 240, "picking": 240, "packed": 480, "shipped": 7 * 24 * 60,
                 "exception": 30},
        description="Expected time per order status; an order in it longer is stuck")
    # Business alerts
    stockout_days: float = Field(default=3, gt=0, description="Alert when ATP covers fewer days of demand")
    demand_window_days: int = Field(default=7, ge=1, description="Demand is the daily average over this window")
    return_rate_spike: float = Field(default=0.3, gt=0, le=1, description="Alert on a SKU's or reason's return rate "
                                                                          "above this share of shipped units")
    return_rate_min_units: int = Field(default=10, ge=1, description="...once it has shipped at least these units")
    carrier_delay_share: float = Field(default=0.2, gt=0, le=1, description="Alert when a carrier's late share of "
                                                                            "deliveries in the window exceeds this")
    alert_interval_s: float = Field(default=30, gt=0, description="How often alerts are evaluated")
    # SLA escalation of the supervisor queues (domain/inbox.py ESCALATING)
    sla_refund_approval_s: int = _escalation_age("refund_approval")
    sla_qa_decision_s: int = _escalation_age("qa_decision")
    sla_write_off_s: int = _escalation_age("write_off")
    sla_vendor_claim_s: int = _escalation_age("vendor_claim")
    escalation_interval_s: float = Field(default=30, gt=0, description="How often escalation is evaluated (the "
                                                                         "gauge and escalated_at are set then)")

    def escalation_slas(self) -> dict[str, timedelta]:
        """Per escalating queue, the age past which its open items are escalated."""
        return {queue: timedelta(seconds=getattr(self, f"sla_{queue}_s")) for queue in ESCALATING}
