"""Waves: pick tasks grouped by node, service level and carrier cut-off, released to pickers together.
Plain Python: no framework, no I/O."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from ecomops_common.errors import Conflict
from warehouse_service.domain.refusals import ScanRefused


class WaveStatus(StrEnum):
    planned = "planned"  # collecting tasks; pickers do not see them yet
    released = "released"


class WaveAlreadyReleased(Conflict):
    pass


@dataclass
class Wave:
    id: str
    node: str
    service_level: str
    cutoff: datetime  # when the carrier collects what this wave ships
    status: WaveStatus = WaveStatus.planned
    tasks: int = 0
    released_by: str | None = None
    released_at: datetime | None = None

    def release(self, actor: str, at: datetime) -> None:
        if self.status is WaveStatus.released:
            raise WaveAlreadyReleased(f"wave {self.id} was released by {self.released_by}")
        self.status, self.released_by, self.released_at = WaveStatus.released, actor, at


@dataclass(frozen=True)
class WaveRules:
    size: int = 1  # tasks that release a wave at once (1: every task is picked as soon as it exists)
    cutoffs: tuple[tuple[str, time], ...] = (("express", time(14)), ("standard", time(17)))  # UTC
    lead: timedelta = timedelta(minutes=60)  # a wave is released this long before its cut-off at the latest

    def cutoff_after(self, service_level: str, now: datetime) -> datetime:
        """The next carrier cut-off for the service level (standard's when the level has none)."""
        times = dict(self.cutoffs)
        at = times.get(service_level, times.get("standard", time(17)))
        cutoff = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        return cutoff if cutoff > now else cutoff + timedelta(days=1)

    def due(self, wave: Wave, now: datetime) -> bool:
        return wave.status is WaveStatus.planned and (wave.tasks >= self.size or now >= wave.cutoff - self.lead)


def require_released(wave_status: WaveStatus | None, task_id: str) -> None:
    if wave_status is not None and wave_status is not WaveStatus.released:
        raise ScanRefused("wave_not_released", f"pick task {task_id} is in a wave not released yet")
