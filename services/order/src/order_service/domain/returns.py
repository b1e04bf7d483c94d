"""An order's returns as the returns service reports them: each RMA's steps, shown beside the order's own status
(a delivered order stays delivered however its returns go)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from ecomops_common.contracts.returns import ReturnResolution, ReturnStatus


@dataclass(frozen=True)
class ReturnedLine:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Authorization:
    """What an RMA lets the customer send back, and whether they get their money or a replacement for it."""

    resolution: ReturnResolution
    lines: tuple[ReturnedLine, ...]


@dataclass(frozen=True)
class ReturnStep:
    rma_id: str
    order_id: str
    status: ReturnStatus
    actor: str
    note: str | None
    at: datetime
    authorization: Authorization | None = None  # only on the step that authorized the return


@dataclass(frozen=True)
class OrderReturn:
    """One RMA of an order with its steps in time order. While its authorization is not recorded (it may have
    been dead-lettered) it has no resolution and no lines, and counts as authorized at its first step."""

    rma_id: str
    steps: tuple[ReturnStep, ...]

    @property
    def status(self) -> ReturnStatus:
        return self.steps[-1].status

    @property
    def authorization(self) -> Authorization | None:
        return next((step.authorization for step in self.steps if step.authorization), None)

    @property
    def resolution(self) -> ReturnResolution | None:
        return self.authorization.resolution if self.authorization else None

    @property
    def lines(self) -> tuple[ReturnedLine, ...]:
        return self.authorization.lines if self.authorization else ()

    @property
    def authorized_at(self) -> datetime:
        return next((step.at for step in self.steps if step.authorization), self.steps[0].at)


def order_returns(steps: Iterable[ReturnStep]) -> list[OrderReturn]:
    """The RMAs of an order's `steps` (given in the order recorded), by authorization time."""
    by_rma: dict[str, list[ReturnStep]] = {}
    # Stable sort: steps reported for the same instant stay in the order they were recorded.
    for step in sorted(steps, key=attrgetter("at")):
        by_rma.setdefault(step.rma_id, []).append(step)
    return sorted((OrderReturn(rma_id, tuple(rma_steps)) for rma_id, rma_steps in by_rma.items()),
                  key=attrgetter("authorized_at"))
