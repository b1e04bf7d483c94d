"""In-memory adapters for service-layer unit tests: the repository keeps rows in dicts and RMAs as copies (a change
to a loaded RMA is kept only when saved, as with the stored document), the unit of work is ecomops_common's fake.
The HTTP views' reads (queues, audit, cycle times) are left to the integration tests."""

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ecomops_common.testing.fakes import FakeUnitOfWork
from returns_service.domain.policy import CatalogSku, ShippedLine
from returns_service.domain.rma import Rma, Stage
from returns_service.domain.vendor_claims import DRAFT, UnitCost, VendorClaim

ORDER_COLUMNS = ("channel", "external_order_id", "customer_id", "currency", "shipping_fee", "tax", "goods",
                 "placed_at", "delivered_at", "document")
LINE_DEFAULTS = {"category": None, "final_sale": False, "quantity": 0, "unit_price": None, "shipped": 0,
                 "node": None, "serials": (), "requested": 0}


class FakeReturns:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.lines: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: dict[tuple[str, str], dict[str, Any]] = {}
        self.saved: dict[str, Rma] = {}
        self.audit: list[Stage] = []
        self.stored_rules: dict[str, dict[str, dict[str, Any]]] = {}
        self.skus: dict[str, dict[str, Any]] = {}
        self.vendors: dict[str, dict[str, Any]] = {}
        self.costs: dict[str, dict[str, Any]] = {}
        self.saved_claims: dict[str, VendorClaim] = {}
        self._timeline_saved: dict[str, int] = {}

    def _order(self, order_id: str) -> dict[str, Any]:
        return self.orders.setdefault(order_id, {"order_id": order_id, **dict.fromkeys(ORDER_COLUMNS)})

    def _line(self, order_id: str, line_id: str, sku: str) -> dict[str, Any]:
        return self.lines.setdefault((order_id, line_id), {"order_id": order_id, "line_id": line_id, "sku": sku,
                                                           **LINE_DEFAULTS})

    async def upsert_orders(self, orders: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
        for row in orders:
            self._order(row["order_id"]).update({k: v for k, v in row.items() if k != "delivered_at"})
        for row in lines:
            self._line(row["order_id"], row["line_id"], row["sku"]).update(row)

    async def add_shipments(self, shipped: list[dict[str, Any]]) -> None:
        for row in shipped:
            line = self._line(row["order_id"], row["line_id"], row["sku"])
            line.update(shipped=line["shipped"] + row["shipped"], node=row["node"],
                        serials=(*line["serials"], *row["serials"]))

    async def mark_delivered(self, delivered: Mapping[str, datetime]) -> None:
        for order_id, at in delivered.items():
            self._order(order_id)["delivered_at"] = at

    async def find_order_id(self, channel: str, external_order_id: str) -> str | None:
        return next((order_id for order_id, row in self.orders.items()
                     if (row["channel"], row["external_order_id"]) == (channel, external_order_id)), None)

    async def order(self, order_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        return dict(self.orders[order_id]) if order_id in self.orders else None

    async def order_lines(self, order_id: str) -> dict[str, tuple[ShippedLine, dict[str, Any]]]:
        return {row["line_id"]: (ShippedLine(row["line_id"], row["sku"], row["category"] or "uncategorized",
                                             row["shipped"], row["requested"], row["final_sale"], row["node"]),
                                 {**row, "serials": list(row["serials"])})
                for (of_order, _), row in self.lines.items() if of_order == order_id}

    async def add_requested(self, order_id: str, units: Mapping[str, int]) -> None:
        for line_id, n in units.items():
            self.lines[(order_id, line_id)]["requested"] += n

    async def request(self, channel: str, request_id: str) -> dict[str, Any] | None:
        return self.requests.get((channel, request_id))

    async def add_request(self, channel: str, request_id: str, rma_id: str, at: datetime) -> None:
        self.requests[(channel, request_id)] = {"channel": channel, "request_id": request_id, "rma_id": rma_id,
                                                "created_at": at}

    async def rmas(self, ids: Iterable[str], *, lock: bool = True) -> dict[str, Rma]:
        found = {rma_id: copy.deepcopy(self.saved[rma_id]) for rma_id in sorted(set(ids)) if rma_id in self.saved}
        if lock:
            self._timeline_saved.update({rma_id: len(rma.timeline) for rma_id, rma in found.items()})
        return found

    async def rmas_of_order(self, order_id: str, exclude: set[str]) -> list[Rma]:
        return [copy.deepcopy(rma) for rma in self.saved.values() if rma.order_id == order_id and rma.id not in exclude]

    async def returns_since(self, customer_id: str, since: datetime, exclude: str) -> int:
        return sum(1 for rma in self.saved.values()
                   if rma.customer_id == customer_id and rma.timeline[0].at >= since and rma.id != exclude)

    def unsaved_stages(self, rma: Rma) -> list[Stage]:
        return rma.timeline[self._timeline_saved.get(rma.id, 0):]

    async def save_rmas(self, rmas: Iterable[Rma], at: datetime) -> None:
        for rma in rmas:
            self.audit += self.unsaved_stages(rma)
            self.saved[rma.id] = copy.deepcopy(rma)
            self._timeline_saved[rma.id] = len(rma.timeline)

    async def rules(self, kind: str) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self.stored_rules.get(kind, {}))

    async def put_rule(self, kind: str, key: str, document: dict[str, Any], actor: str, at: datetime) -> None:
        self.stored_rules.setdefault(kind, {})[key] = {"kind": kind, "key": key, "document": copy.deepcopy(document),
                                                       "updated_by": actor, "updated_at": at}

    async def catalog_revisions(self, skus: Iterable[str]) -> dict[str, int]:
        return {sku: self.skus[sku]["revision"] for sku in set(skus) if sku in self.skus}

    async def put_catalog_skus(self, skus: list[dict[str, Any]]) -> None:
        for row in skus:
            if row["sku"] not in self.skus or row["revision"] > self.skus[row["sku"]]["revision"]:
                self.skus[row["sku"]] = dict(row)

    async def catalog_skus(self, skus: Iterable[str]) -> dict[str, CatalogSku]:
        return {sku: CatalogSku(*(self.skus[sku][name] for name in ("returnable", "final_sale", "return_window_days",
                                                                     "category", "hazmat_class")))
                for sku in set(skus) if sku in self.skus}

    async def put_vendors(self, assignments: list[dict[str, Any]]) -> None:
        for row in assignments:
            self.vendors[row["sku"]] = dict(row)

    async def remove_vendors(self, skus: Iterable[str]) -> None:
        for sku in skus:
            self.vendors.pop(sku, None)

    async def sku_vendors(self, skus: Iterable[str] | None = None, vendor_id: str | None = None,
                          limit: int = 1000) -> dict[str, dict[str, Any]]:
        wanted = set(skus) if skus is not None else None
        return {sku: dict(row) for sku, row in sorted(self.vendors.items())
                if (wanted is None or sku in wanted) and vendor_id in (None, row["vendor_id"])}

    async def put_unit_costs(self, costs: list[dict[str, Any]]) -> None:
        for row in costs:
            if row["sku"] not in self.costs or row["at"] >= self.costs[row["sku"]]["at"]:
                self.costs[row["sku"]] = dict(row)

    async def unit_costs(self, skus: Iterable[str]) -> dict[str, UnitCost]:
        return {sku: UnitCost(self.costs[sku]["amount"], self.costs[sku]["currency"])
                for sku in set(skus) if sku in self.costs}

    async def draft_claim(self, vendor_id: str, new: VendorClaim) -> VendorClaim:
        draft = next((claim for claim in self.saved_claims.values()
                      if claim.vendor_id == vendor_id and claim.status == DRAFT), None)
        if draft is None:
            self.saved_claims[new.id] = draft = copy.deepcopy(new)
        return copy.deepcopy(draft)

    async def claim(self, claim_id: str, *, lock: bool = True) -> VendorClaim | None:
        return copy.deepcopy(self.saved_claims.get(claim_id))

    async def claims(self, vendor_id: str | None, status: str | None, limit: int) -> list[VendorClaim]:
        return [copy.deepcopy(claim) for claim in self.saved_claims.values()
                if vendor_id in (None, claim.vendor_id) and status in (None, claim.status)][:limit]

    async def save_claim(self, claim: VendorClaim, at: datetime) -> None:
        self.saved_claims[claim.id] = copy.deepcopy(claim)


class FakeReturnsUnitOfWork(FakeUnitOfWork):
    def __init__(self, returns: FakeReturns | None = None) -> None:
        super().__init__()
        self.returns = returns or FakeReturns()
