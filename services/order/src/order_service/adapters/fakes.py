"""In-memory adapters for service-layer unit tests: the repository keeps rows in dicts, the unit of work is
ecomops_common's fake. What a test does not seed is simply absent."""

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from ecomops_common.contracts.orders import HoldReason
from ecomops_common.testing.fakes import FakeUnitOfWork
from order_service.domain.allocation import ReportedAllocation
from order_service.domain.catalog import CatalogSku, UnknownSkuAction
from order_service.domain.lifecycle import OrderState
from order_service.domain.model import GradedVariant
from order_service.domain.returns import ReturnStep


class EverySkuKnown(Mapping[str, CatalogSku]):
    """A catalog that knows every SKU, active and plain (no bundle): for tests the SKU master is beside the point."""

    def __getitem__(self, sku: str) -> CatalogSku:
        return CatalogSku(sku, 1, active=True)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class FakeOrders:
    def __init__(self, rows: list[dict[str, Any]] = (), stages: dict[str, str] | None = None,
                 catalog: dict[str, CatalogSku] | EverySkuKnown | None = None) -> None:
        self.rows = {row["id"]: dict(row) for row in rows}
        self.catalog = {} if catalog is None else catalog  # what the catalog told already
        self.unknown_sku_rules: dict[str, UnknownSkuAction] = {}
        self.awaited: dict[str, frozenset[str]] = {}
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
        if HoldReason.inventory_hold not in state.holds:
            self.awaited.pop(state.order_id, None)
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

    async def set_promised_dates(self, promises: list[tuple[str, str, date | None]]) -> None:
        for order_id, line_id, promised in promises:
            if (allocation := self.allocations.get(order_id)) is None:
                continue
            allocation.quantities = tuple(
                replace(q, promised_date=promised) if q.line_id == line_id and q.node is None else q
                for q in allocation.quantities)

    async def catalog_entries(self, skus: set[str]) -> dict[str, CatalogSku]:
        wanted = set(skus) | {part.sku for sku in skus if sku in self.catalog for part in self.catalog[sku].components}
        return {sku: self.catalog[sku] for sku in wanted if sku in self.catalog}

    async def save_catalog_entries(self, entries: list[CatalogSku], at: datetime) -> list[str]:
        changed = sorted(entry.sku for entry in entries
                         if entry.sku not in self.catalog or self.catalog[entry.sku].revision < entry.revision)
        for entry in entries:
            if entry.sku in changed:
                self.catalog[entry.sku] = entry
        return changed

    async def unknown_sku_actions(self, channels) -> dict[str, UnknownSkuAction]:
        return {channel: self.unknown_sku_rules[channel] for channel in channels if channel in self.unknown_sku_rules}

    async def add_awaited_skus(self, awaited: dict[str, frozenset[str]]) -> None:
        self.awaited.update(awaited)

    async def orders_awaiting(self, skus: list[str]) -> dict[str, set[str]]:
        return {order_id: set(awaited) for order_id, awaited in self.awaited.items()
                if awaited & set(skus) and HoldReason.inventory_hold in self.holds.get(order_id, ())}


class FakeOrderUnitOfWork(FakeUnitOfWork):
    def __init__(self, orders: FakeOrders | None = None) -> None:
        super().__init__()
        self.orders = orders or FakeOrders()


def order_row(order_id: str, status: str, allocation_revision: int | None = None,
              payment_method: str = "card") -> dict[str, Any]:
    """A stored order as the repository returns it (the columns the service layer reads)."""
    return {"id": order_id, "channel": "web-eu", "external_order_id": f"x-{order_id}", "status": str(status),
            "allocation_revision": allocation_revision, "document": json.dumps({"payment": {"method": payment_method}})}
