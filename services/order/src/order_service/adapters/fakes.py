"""In-memory adapters for service-layer unit tests: the repository keeps rows in dicts, the unit of work is
ecomops_common's fake. What a test does not seed is simply absent."""

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from ecomops_common.testing.fakes import FakeUnitOfWork
from order_service.domain.allocation import ReportedAllocation
from order_service.domain.lifecycle import OrderState
from order_service.domain.model import GradedVariant
from order_service.domain.returns import ReturnStep


class FakeOrders:
    def __init__(self, rows: list[dict[str, Any]] = (), stages: dict[str, str] | None = None) -> None:
        self.rows = {row["id"]: dict(row) for row in rows}
        self.holds: dict[str, set[str]] = defaultdict(set)
        self.transitions: list = []
        self.stages = dict(stages or {})  # what the warehouse reported already
        self.allocations: dict[str, ReportedAllocation] = {}
        self.return_steps: list[ReturnStep] = []
        self.variants: dict[str, GradedVariant] = {}

    async def add_new(self, rows: list[dict[str, Any]]) -> set[str]:
        taken = {(row["channel"], row["external_order_id"]) for row in self.rows.values()}
        inserted = set()
        for row in rows:
            if (row["channel"], row["external_order_id"]) not in taken:
                taken.add((row["channel"], row["external_order_id"]))
                self.rows[row["id"]] = dict(row)
                inserted.add(row["id"])
        return inserted

    async def add_states(self, states: list[OrderState]) -> None:
        for state in states:
            self.holds[state.order_id] = {str(hold) for hold in state.holds}
            self.transitions += state.changes

    async def get_by_channel_ids(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        by_key = {(row["channel"], row["external_order_id"]): row for row in self.rows.values()}
        return {key: by_key[key] for key in keys if key in by_key}

    async def get_for_update(self, order_id: str) -> dict[str, Any] | None:
        return self.rows.get(order_id)

    async def find_id(self, channel: str, external_order_id: str) -> str | None:
        return next((row["id"] for row in self.rows.values()
                     if (row["channel"], row["external_order_id"]) == (channel, external_order_id)), None)

    async def holds_of(self, order_id: str) -> set[str]:
        return set(self.holds.get(order_id, ()))

    async def holds_of_orders(self, order_ids: list[str]) -> dict[str, set[str]]:
        return {order_id: set(self.holds[order_id]) for order_id in order_ids if self.holds.get(order_id)}

    async def save_state(self, state: OrderState, at: datetime) -> None:
        await self.add_states([state])
        self.rows[state.order_id].update(status=state.status.value, updated_at=at)

    async def save_statuses(self, states: list[OrderState], at: datetime) -> None:
        for state in states:
            self.rows[state.order_id].update(status=state.status.value, updated_at=at)
            self.transitions += state.changes

    async def lock_with_allocation_revisions(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {order_id: self.rows[order_id] for order_id in order_ids if order_id in self.rows}

    async def lock_orders(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {order_id: self.rows[order_id] for order_id in order_ids if order_id in self.rows}

    async def fulfilment_stages(self, order_ids: list[str]) -> dict[str, str]:
        return {order_id: self.stages[order_id] for order_id in order_ids if order_id in self.stages}

    async def save_fulfilment_stages(self, stages: dict[str, str]) -> None:
        self.stages.update(stages)

    async def replace_allocations(self, allocations: list[ReportedAllocation], at: datetime) -> None:
        for allocation in allocations:
            self.allocations[allocation.order_id] = allocation
            self.rows[allocation.order_id]["allocation_revision"] = allocation.revision

    async def add_return_steps(self, steps: list[ReturnStep]) -> None:
        self.return_steps += steps

    async def return_steps_of(self, order_id: str) -> list[ReturnStep]:
        return [step for step in self.return_steps if step.order_id == order_id]

    async def graded_variants(self, skus: set[str]) -> dict[str, GradedVariant]:
        return {sku: self.variants[sku] for sku in skus if sku in self.variants}

    async def save_graded_variants(self, variants: list[GradedVariant]) -> None:
        for variant in variants:
            stored = self.variants.get(variant.sku)
            if stored is None or stored.defined_at <= variant.defined_at:
                self.variants[variant.sku] = variant


class FakeOrderUnitOfWork(FakeUnitOfWork):
    def __init__(self, orders: FakeOrders | None = None) -> None:
        super().__init__()
        self.orders = orders or FakeOrders()


def order_row(order_id: str, status: str, allocation_revision: int | None = None,
              payment_method: str = "card") -> dict[str, Any]:
    """A stored order as the repository returns it (the columns the service layer reads)."""
    return {"id": order_id, "channel": "web-eu", "external_order_id": f"x-{order_id}", "status": str(status),
            "allocation_revision": allocation_revision, "document": json.dumps({"payment": {"method": payment_method}})}
