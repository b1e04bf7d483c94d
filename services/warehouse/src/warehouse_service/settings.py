from datetime import time, timedelta
from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ecomops_common.settings import ServiceSettings
from warehouse_service.domain.waves import WaveRules


class WarehouseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WAREHOUSE_", extra="ignore")

    service_name: str = "warehouse"
    http_port: int = 8003
    count_auto_adjust_units: int = Field(
        default=0, ge=0, description="A count variance up to this many units is adjusted without approval; 0: "
                                     "every variance waits for a supervisor other than the counter")
    short_pick_approval_units: int = Field(
        default=5, ge=0, description="A short pick writing off more units than this waits for a supervisor other "
                                     "than the reporter")
    write_off_approval_threshold: Decimal = Field(
        default=Decimal("250.00"), ge=0, description="A scrap or liquidation worth more than this (units × unit "
                                                     "cost; an unknown cost counts as more) waits for a supervisor "
                                                     "other than the requester")
    wave_size: int = Field(default=1, ge=1, description="Tasks that release a wave at once; 1 releases every "
                                                          "task as it is made (no waves)")
    carrier_cutoffs: dict[str, time] = Field(default_factory=lambda: {"express": time(14), "standard": time(17)},
                                             description="Carrier cut-off per service level, UTC")
    wave_release_lead_minutes: int = Field(default=60, ge=0, description="Release a wave this long before its "
                                                                         "cut-off at the latest")
    wave_check_interval_s: float = Field(default=30, gt=0)
    transfer_days: int = Field(default=2, ge=0, le=365, description="A transfer dispatched without an expected "
                                                                   "date is due this many days later")
    reconcile_interval_s: float = Field(default=900, gt=0, description="How often balances are reconciled against "
                                                                       "the whole movement ledger, for the metrics")

    @property
    def wave_rules(self) -> WaveRules:
        return WaveRules(size=self.wave_size, cutoffs=tuple(self.carrier_cutoffs.items()),
                         lead=timedelta(minutes=self.wave_release_lead_minutes))
