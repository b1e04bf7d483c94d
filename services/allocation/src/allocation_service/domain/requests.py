"""What the order service's news asks of allocation: hold a new order or allocate it, allocate an order whose
holds are released, give back what a cancelled or rejected order holds, or nothing. Plain Python: no framework,
no I/O; the order service's statuses are its words, compared as strings."""

from dataclasses import dataclass, field

from allocation_service.domain.sourcing import OrderDemand

AWAITING_ALLOCATION = "awaiting_allocation"  # no holds (payment, fraud, address) left: allocation may reserve
RELEASING_STATUSES = frozenset({"cancelled", "rejected"})  # the order ends: its stock goes back


def concerns_allocation(to_status: str) -> bool:
    """Whether an order moving to this status asks something of allocation; most (picking, shipped ...) do not."""
    return to_status == AWAITING_ALLOCATION or to_status in RELEASING_STATUSES


@dataclass
class OrderRequests:
    """What a batch of order events asks of allocation."""

    placed: list[tuple[OrderDemand, bool]] = field(default_factory=list)  # (demand, held)
    to_allocate: set[str] = field(default_factory=set)  # holds released: awaiting allocation now
    to_release: dict[str, str] = field(default_factory=dict)  # order id -> why (cancelled, rejected)
    converting: dict[str, str] = field(default_factory=dict)  # order id -> the soft reservation it converts

    def order_placed(self, demand: OrderDemand, status: str, reservation_id: str | None = None) -> bool:
        """A new order: held (nothing reserved) until the order service releases its holds, unless it awaits
        allocation already; it converts the soft reservation it names. Always a request."""
        self.placed.append((demand, status != AWAITING_ALLOCATION))
        if reservation_id:
            self.converting[demand.order_id] = reservation_id
        return True

    def status_changed(self, order_id: str, to_status: str) -> bool:
        """An order moved on; False when allocation has nothing to do about it (e.g. picking, shipped)."""
        if not concerns_allocation(to_status):
            return False
        if to_status == AWAITING_ALLOCATION:
            self.to_allocate.add(order_id)
        else:
            self.to_release[order_id] = to_status
        return True
