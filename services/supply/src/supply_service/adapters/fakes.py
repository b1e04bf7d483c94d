"""In-memory adapters for service-layer unit tests: the repository keeps rows in dicts and purchase orders as
copies (a change to a loaded order is kept only when saved, as with the stored document), the unit of work is
ecomops_common's fake."""

import copy
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ecomops_common.testing.fakes import FakeUnitOfWork
from supply_service.adapters.repository import SkuNode
from supply_service.domain.purchase_orders import PurchaseOrder


def _wanted(skus: Iterable[str] | None) -> set[str] | None:
    return None if skus is None else set(skus)


class FakeSupply:
    def __init__(self) -> None:
        self.catalog: dict[str, dict[str, Any]] = {}
        self.stock_rows: dict[SkuNode, dict[str, Any]] = {}
        self.days: dict[tuple[str, str, date], list[int]] = {}  # [shipped, restocked]
        self.orders: dict[str, PurchaseOrder] = {}
        self.saved_at: dict[str, datetime] = {}
        self.asn_ids: dict[str, str] = {}

    async def put_skus(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["sku"] not in self.catalog or row["revision"] > self.catalog[row["sku"]]["revision"]:
                self.catalog[row["sku"]] = dict(row)

    async def skus(self, skus: Iterable[str] | None = None,
                   vendor_id: str | None = None) -> dict[str, dict[str, Any]]:
        wanted = _wanted(skus)
        return {sku: dict(row) for sku, row in self.catalog.items()
                if (wanted is None or sku in wanted) and vendor_id in (None, row["vendor_id"])}

    async def put_stock(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            key = (row["sku"], row["node"])
            if key not in self.stock_rows or row["as_of"] >= self.stock_rows[key]["as_of"]:
                self.stock_rows[key] = dict(row)

    async def stock(self, node: str | None = None,
                    skus: Iterable[str] | None = None) -> dict[SkuNode, tuple[int, int]]:
        wanted = _wanted(skus)
        return {(sku, at): (row["on_hand"], row["reserved"]) for (sku, at), row in self.stock_rows.items()
                if node in (None, at) and (wanted is None or sku in wanted)}

    async def add_demand(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            day = self.days.setdefault((row["sku"], row["node"], row["day"]), [0, 0])
            day[0] += row["shipped"]
            day[1] += row["restocked"]

    async def set_demand(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.days[(row["sku"], row["node"], row["day"])] = [row["shipped"], row["restocked"]]

    async def demand(self, since: date, node: str | None = None,
                     skus: Iterable[str] | None = None) -> dict[SkuNode, dict[date, tuple[int, int]]]:
        wanted = _wanted(skus)
        found: dict[SkuNode, dict[date, tuple[int, int]]] = {}
        for (sku, at, day), (shipped, restocked) in self.days.items():
            if day >= since and node in (None, at) and (wanted is None or sku in wanted):
                found.setdefault((sku, at), {})[day] = (shipped, restocked)
        return found

    async def on_order(self, node: str | None = None, skus: Iterable[str] | None = None) -> dict[SkuNode, int]:
        wanted = _wanted(skus)
        found: dict[SkuNode, int] = {}
        for order in self.orders.values():
            for line in order.lines:
                if node in (None, order.node) and (wanted is None or line.sku in wanted) and order.on_order(line):
                    key = (line.sku, order.node)
                    found[key] = found.get(key, 0) + order.on_order(line)
        return found

    async def purchase_order(self, po_id: str, *, lock: bool = True) -> PurchaseOrder | None:
        return copy.deepcopy(self.orders.get(po_id))

    async def purchase_orders(self, status: str | None, vendor_id: str | None, node: str | None,
                              limit: int) -> list[PurchaseOrder]:
        newest_first = sorted(self.orders, key=lambda po_id: self.saved_at[po_id], reverse=True)
        return [copy.deepcopy(self.orders[po_id]) for po_id in newest_first
                if status in (None, self.orders[po_id].status) and vendor_id in (None, self.orders[po_id].vendor_id)
                and node in (None, self.orders[po_id].node)][:limit]

    async def add_purchase_order(self, order: PurchaseOrder, at: datetime) -> bool:
        if order.po_id in self.orders:
            return False
        await self.save_purchase_order(order, at)
        return True

    async def save_purchase_order(self, order: PurchaseOrder, at: datetime) -> None:
        self.orders[order.po_id] = copy.deepcopy(order)
        self.saved_at[order.po_id] = at

    async def add_asn(self, asn_id: str, po_id: str, at: datetime) -> bool:
        if asn_id in self.asn_ids:
            return False
        self.asn_ids[asn_id] = po_id
        return True


class FakeSupplyUnitOfWork(FakeUnitOfWork):
    def __init__(self, supply: FakeSupply | None = None) -> None:
        super().__init__()
        self.supply = supply or FakeSupply()
