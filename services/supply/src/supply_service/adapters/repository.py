"""Supply persistence: the catalog's purchasing terms, stock per SKU×node, net demand per day, purchase orders
(a JSON document each, locked while changed) with their units on order, and notice ids."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, func, select, update

from ecomops_common.db import SqlRepository
from supply_service.adapters.orm import (
    AsnRecord,
    DemandDayRecord,
    OnOrderRecord,
    PurchaseOrderRecord,
    SkuRecord,
    StockRecord,
)
from supply_service.domain.purchase_orders import PurchaseOrder

_skus = SkuRecord.__table__
_stock = StockRecord.__table__
_demand = DemandDayRecord.__table__
_orders = PurchaseOrderRecord.__table__
_on_order = OnOrderRecord.__table__
_asns = AsnRecord.__table__
PO_DOCUMENT = TypeAdapter(PurchaseOrder)
SkuNode = tuple[str, str]
CENTS = Decimal("0.01")


def _as_entered(amount: Decimal | None) -> Decimal | None:
    """A NUMERIC(17,4) without the scale's padding: 2.5000 is 2.50, 0.0125 stays."""
    if amount is None:
        return None
    return amount.quantize(CENTS) if amount == amount.quantize(CENTS) else amount.normalize()


class SupplyRepository(SqlRepository):
    # --- what the catalog and allocation say ---------------------------------------------------------------

    async def put_skus(self, rows: list[dict[str, Any]]) -> None:
        """A revision not above the one stored changes nothing (a redelivery, or an older change late)."""
        statement = self.dialect.insert(_skus)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in rows[0] if name != "sku"},
            where=statement.excluded.revision > _skus.c.revision), rows)

    async def skus(self, skus: Iterable[str] | None = None, vendor_id: str | None = None) -> dict[str, dict[str, Any]]:
        query = select(_skus)
        if skus is not None:
            query = query.where(_skus.c.sku.in_(sorted(set(skus))))
        if vendor_id is not None:
            query = query.where(_skus.c.vendor_id == vendor_id)
        return {row["sku"]: {**row, "unit_cost": _as_entered(row["unit_cost"])}
                for row in (await self.session.execute(query)).mappings()}

    async def put_stock(self, rows: list[dict[str, Any]]) -> None:
        """An availability older than the one stored changes nothing."""
        statement = self.dialect.insert(_stock)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku", "node"], set_={name: statement.excluded[name]
                                                  for name in ("on_hand", "reserved", "as_of")},
            where=statement.excluded.as_of >= _stock.c.as_of), rows)

    async def stock(self, node: str | None = None, skus: Iterable[str] | None = None) -> dict[SkuNode, tuple[int, int]]:
        """(on_hand, reserved) per SKU×node."""
        query = select(_stock.c.sku, _stock.c.node, _stock.c.on_hand, _stock.c.reserved)
        if node is not None:
            query = query.where(_stock.c.node == node)
        if skus is not None:
            query = query.where(_stock.c.sku.in_(sorted(set(skus))))
        return {(sku, at): (on_hand, reserved) for sku, at, on_hand, reserved in await self.session.execute(query)}

    # --- demand -----------------------------------------------------------------------------------------

    async def add_demand(self, rows: list[dict[str, Any]]) -> None:
        """sku, node, day, shipped, restocked per row, added to what the day holds."""
        statement = self.dialect.insert(_demand)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku", "node", "day"],
            set_={"shipped": _demand.c.shipped + statement.excluded.shipped,
                  "restocked": _demand.c.restocked + statement.excluded.restocked}), rows)

    async def set_demand(self, rows: list[dict[str, Any]]) -> None:
        """sku, node, day, shipped, restocked per row, replacing what the day holds (loading history twice loads
        it once)."""
        statement = self.dialect.insert(_demand)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku", "node", "day"],
            set_={"shipped": statement.excluded.shipped, "restocked": statement.excluded.restocked}), rows)

    async def demand(self, since: date, node: str | None = None,
                     skus: Iterable[str] | None = None) -> dict[SkuNode, dict[date, tuple[int, int]]]:
        """(shipped, restocked) per day since `since`, per SKU×node."""
        query = select(_demand.c.sku, _demand.c.node, _demand.c.day, _demand.c.shipped, _demand.c.restocked).where(
            _demand.c.day >= since)
        if node is not None:
            query = query.where(_demand.c.node == node)
        if skus is not None:
            query = query.where(_demand.c.sku.in_(sorted(set(skus))))
        found: dict[SkuNode, dict[date, tuple[int, int]]] = {}
        for sku, at, day, shipped, restocked in await self.session.execute(query):
            found.setdefault((sku, at), {})[day] = (shipped, restocked)
        return found

    async def on_order(self, node: str | None = None, skus: Iterable[str] | None = None) -> dict[SkuNode, int]:
        query = select(_on_order.c.sku, _on_order.c.node, func.sum(_on_order.c.units)).group_by(
            _on_order.c.sku, _on_order.c.node)
        if node is not None:
            query = query.where(_on_order.c.node == node)
        if skus is not None:
            query = query.where(_on_order.c.sku.in_(sorted(set(skus))))
        return {(sku, at): int(units) for sku, at, units in await self.session.execute(query) if units}

    # --- purchase orders ----------------------------------------------------------------------------------

    async def purchase_order(self, po_id: str, *, lock: bool = True) -> PurchaseOrder | None:
        query = select(_orders.c.document).where(_orders.c.po_id == po_id)
        document = (await self.session.execute(query.with_for_update() if lock else query)).scalar()
        return PO_DOCUMENT.validate_json(document) if document else None

    async def purchase_orders(self, status: str | None, vendor_id: str | None, node: str | None,
                              limit: int) -> list[PurchaseOrder]:
        """Most recently changed first."""
        query = select(_orders.c.document).order_by(_orders.c.updated_at.desc(), _orders.c.po_id).limit(limit)
        for column, value in (("status", status), ("vendor_id", vendor_id), ("node", node)):
            if value is not None:
                query = query.where(_orders.c[column] == value)
        return [PO_DOCUMENT.validate_json(document) for (document,) in await self.session.execute(query)]

    async def add_purchase_order(self, order: PurchaseOrder, at: datetime) -> bool:
        """False when an order of that id exists already."""
        inserted = await self.session.execute(self.dialect.insert(_orders).values(self._row(order, at))
                                              .on_conflict_do_nothing(index_elements=["po_id"]))
        if not inserted.rowcount:
            return False
        await self._put_on_order(order)
        return True

    async def save_purchase_order(self, order: PurchaseOrder, at: datetime) -> None:
        row = self._row(order, at)
        await self.session.execute(update(_orders).where(_orders.c.po_id == order.po_id).values(
            {name: value for name, value in row.items() if name != "po_id"}))
        await self._put_on_order(order)

    async def add_asn(self, asn_id: str, po_id: str, at: datetime) -> bool:
        """False when the notice id is taken (by this order or another)."""
        inserted = await self.session.execute(self.dialect.insert(_asns).values(asn_id=asn_id, po_id=po_id,
                                                                                issued_at=at)
                                              .on_conflict_do_nothing(index_elements=["asn_id"]))
        return bool(inserted.rowcount)

    async def _put_on_order(self, order: PurchaseOrder) -> None:
        await self.session.execute(delete(_on_order).where(_on_order.c.po_id == order.po_id))
        await self.session.execute(_on_order.insert(), [
            {"po_id": order.po_id, "line_id": line.line_id, "sku": line.sku, "node": order.node,
             "units": order.on_order(line)} for line in order.lines])

    @staticmethod
    def _row(order: PurchaseOrder, at: datetime) -> dict[str, Any]:
        return {"po_id": order.po_id, "vendor_id": order.vendor_id, "node": order.node, "status": order.status,
                "revision": order.revision, "updated_at": at, "document": PO_DOCUMENT.dump_json(order).decode()}
