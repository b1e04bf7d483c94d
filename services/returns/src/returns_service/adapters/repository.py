"""Returns persistence: the order view, return requests, RMAs (a JSON document each, locked while changed), the
append-only audit, rules, SKUs' vendors, unit costs and vendor claims (a JSON document each, locked while
changed)."""

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import bindparam, delete, func, select, update

from ecomops_common.db import SqlRepository
from returns_service.adapters.orm import (
    CatalogSkuRecord,
    ReturnRequestRecord,
    ReturnRuleRecord,
    RmaAuditRecord,
    RmaRecord,
    SalesOrderLineRecord,
    SalesOrderRecord,
    SkuVendorRecord,
    UnitCostRecord,
    VendorClaimRecord,
)
from returns_service.domain.policy import CatalogSku, ShippedLine
from returns_service.domain.rma import Rma, RmaStatus, SettlementStatus, Stage
from returns_service.domain.vendor_claims import DRAFT, UnitCost, VendorClaim

_orders = SalesOrderRecord.__table__
_lines = SalesOrderLineRecord.__table__
_requests = ReturnRequestRecord.__table__
_rmas = RmaRecord.__table__
_audit = RmaAuditRecord.__table__
_rules = ReturnRuleRecord.__table__
_skus = CatalogSkuRecord.__table__
_vendors = SkuVendorRecord.__table__
_costs = UnitCostRecord.__table__
_claims = VendorClaimRecord.__table__
RMA_DOCUMENT = TypeAdapter(Rma)
CLAIM_DOCUMENT = TypeAdapter(VendorClaim)


class ReturnsRepository(SqlRepository):
    def __init__(self, session) -> None:
        super().__init__(session)
        self._timeline_saved: dict[str, int] = {}  # stages already in rma_audit, per RMA loaded

    # --- what the order service and the warehouse tell of orders ------------------------------------------

    async def upsert_orders(self, orders: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
        """Placed orders; columns a shipment or delivery filled already are kept."""
        if orders:
            statement = self.dialect.insert(_orders)
            await self.session.execute(statement.on_conflict_do_update(index_elements=["order_id"], set_={
                name: statement.excluded[name] for name in orders[0] if name not in ("order_id", "delivered_at")}),
                orders)
        if lines:
            statement = self.dialect.insert(_lines)
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["order_id", "line_id"],
                set_={name: statement.excluded[name] for name in ("sku", "category", "final_sale", "quantity",
                                                                   "unit_price")}), lines)

    async def add_shipments(self, shipped: list[dict[str, Any]]) -> None:
        """order_id, line_id, sku, shipped, node, serials per shipped line, added to what the line shipped."""
        statement = self.dialect.insert(_lines)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["order_id", "line_id"],
            set_={"shipped": _lines.c.shipped + statement.excluded.shipped, "node": statement.excluded.node,
                  "serials": _lines.c.serials + statement.excluded.serials}),
            [{**row, "serials": "".join(f"{serial}\n" for serial in row["serials"])} for row in shipped])

    async def mark_delivered(self, delivered: Mapping[str, datetime]) -> None:
        statement = self.dialect.insert(_orders)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["order_id"], set_={"delivered_at": statement.excluded.delivered_at}),
            [{"order_id": order_id, "delivered_at": at} for order_id, at in delivered.items()])

    async def find_order_id(self, channel: str, external_order_id: str) -> str | None:
        return (await self.session.execute(select(_orders.c.order_id).where(
            _orders.c.channel == channel, _orders.c.external_order_id == external_order_id))).scalar()

    async def order(self, order_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        query = select(_orders).where(_orders.c.order_id == order_id)
        row = (await self.session.execute(query.with_for_update() if lock else query)).mappings().first()
        return dict(row) if row else None

    async def order_lines(self, order_id: str) -> dict[str, tuple[ShippedLine, dict[str, Any]]]:
        """Per line: what the policy checks, and the row (price, ordered quantity, serials shipped)."""
        rows = (await self.session.execute(select(_lines).where(_lines.c.order_id == order_id))).mappings()
        return {row["line_id"]: (ShippedLine(row["line_id"], row["sku"], row["category"] or "uncategorized",
                                             row["shipped"], row["requested"], row["final_sale"], row["node"]),
                                 {**row, "serials": row["serials"].split()}) for row in rows}

    async def add_requested(self, order_id: str, units: Mapping[str, int]) -> None:
        await self.session.execute(
            update(_lines).where(_lines.c.order_id == order_id, _lines.c.line_id == bindparam("lid"))
            .values(requested=_lines.c.requested + bindparam("units")),
            [{"lid": line_id, "units": n} for line_id, n in units.items()])

    # --- requests and RMAs ------------------------------------------------------------------------------

    async def request(self, channel: str, request_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(_requests).where(
            _requests.c.channel == channel, _requests.c.request_id == request_id))).mappings().first()
        return dict(row) if row else None

    async def add_request(self, channel: str, request_id: str, rma_id: str, at: datetime) -> None:
        await self.session.execute(_requests.insert().values(channel=channel, request_id=request_id, rma_id=rma_id,
                                                             created_at=at))

    async def rmas(self, ids: Iterable[str], *, lock: bool = True) -> dict[str, Rma]:
        """Locked in id order, so concurrent batches never deadlock; unlocked ones are only read, never saved."""
        query = select(_rmas.c.id, _rmas.c.document).where(_rmas.c.id.in_(sorted(set(ids)))).order_by(_rmas.c.id)
        rows = await self.session.execute(query.with_for_update() if lock else query)
        found = {rma_id: RMA_DOCUMENT.validate_json(document) for rma_id, document in rows}
        if lock:
            self._timeline_saved.update({rma_id: len(rma.timeline) for rma_id, rma in found.items()})
        return found

    async def rmas_of_order(self, order_id: str, exclude: set[str]) -> list[Rma]:
        """Read only, never saved: for what the order's other returns refund."""
        rows = await self.session.execute(select(_rmas.c.document).where(
            _rmas.c.order_id == order_id, _rmas.c.id.not_in(sorted(exclude))))
        return [RMA_DOCUMENT.validate_json(document) for (document,) in rows]

    async def returns_since(self, customer_id: str, since: datetime, exclude: str) -> int:
        return (await self.session.execute(select(func.count()).select_from(_rmas).where(
            _rmas.c.customer_id == customer_id, _rmas.c.authorized_at >= since, _rmas.c.id != exclude))).scalar_one()

    def unsaved_stages(self, rma: Rma) -> list[Stage]:
        return rma.timeline[self._timeline_saved.get(rma.id, 0):]

    async def save_rmas(self, rmas: Iterable[Rma], at: datetime) -> None:
        """Inserts new RMAs, updates known ones, and appends their new timeline steps to the audit."""
        new, known, audit = [], [], []
        for rma in rmas:
            saved = self._timeline_saved.get(rma.id)
            audit += [{"rma_id": rma.id, "stage": s.stage, "actor": s.actor, "note": s.note, "at": s.at}
                      for s in self.unsaved_stages(rma)]
            row = {"id": rma.id, "order_id": rma.order_id, "channel": rma.channel, "customer_id": rma.customer_id,
                   "node": rma.node, "status": rma.status.value, "updated_at": at, "expected_by": rma.expected_by,
                   "waiting_approval": any(s.status is SettlementStatus.pending_approval for s in rma.settlements),
                   "waiting_write_off": rma.waiting_write_off,
                   "authorized_at": rma.timeline[0].at, "document": RMA_DOCUMENT.dump_json(rma).decode()}
            (known if saved is not None else new).append(row)
            self._timeline_saved[rma.id] = len(rma.timeline)
        if new:
            await self.session.execute(_rmas.insert(), new)
        if known:
            names = ("status", "updated_at", "waiting_approval", "waiting_write_off", "expected_by", "document")
            await self.session.execute(update(_rmas).where(_rmas.c.id == bindparam("rid")).values(
                {name: bindparam(name) for name in names}),
                [{"rid": row["id"], **{name: row[name] for name in names}} for row in known])
        if audit:
            await self.session.execute(_audit.insert(), audit)

    async def queue(self, status: RmaStatus | None, waiting_for: str | None, limit: int) -> list[dict[str, Any]]:
        """RMAs at a stage, or waiting_for a decision ("refund" or "write_off"), oldest first (the aging order)."""
        waiting = {"refund": _rmas.c.waiting_approval, "write_off": _rmas.c.waiting_write_off}
        condition = waiting[waiting_for].is_(True) if waiting_for else _rmas.c.status == status.value
        rows = await self.session.execute(select(_rmas.c.id, _rmas.c.order_id, _rmas.c.channel, _rmas.c.node,
                                                 _rmas.c.status, _rmas.c.authorized_at, _rmas.c.expected_by,
                                                 _rmas.c.updated_at)
                                          .where(condition).order_by(_rmas.c.authorized_at).limit(limit))
        return [dict(row) for row in rows.mappings()]

    async def timelines_since(self, since: datetime) -> dict[str, list[Stage]]:
        """The audit of every RMA authorized since then, for cycle-time reports."""
        rows = await self.session.execute(
            select(_audit.c.rma_id, _audit.c.stage, _audit.c.at, _audit.c.actor, _audit.c.note)
            .join(_rmas, _rmas.c.id == _audit.c.rma_id).where(_rmas.c.authorized_at >= since).order_by(_audit.c.id))
        timelines: dict[str, list[Stage]] = {}
        for rma_id, stage, at, actor, note in rows:
            timelines.setdefault(rma_id, []).append(Stage(stage, at, actor, note))
        return timelines

    async def audit_of(self, rma_id: str) -> list[dict[str, Any]]:
        rows = await self.session.execute(select(_audit.c.stage, _audit.c.actor, _audit.c.note, _audit.c.at)
                                          .where(_audit.c.rma_id == rma_id).order_by(_audit.c.id))
        return [dict(row) for row in rows.mappings()]

    # --- rules --------------------------------------------------------------------------------------

    async def rules(self, kind: str) -> dict[str, dict[str, Any]]:
        rows = await self.session.execute(select(_rules).where(_rules.c.kind == kind))
        return {row["key"]: {**row, "document": json.loads(row["document"])} for row in rows.mappings()}

    async def put_rule(self, kind: str, key: str, document: dict[str, Any], actor: str, at: datetime) -> None:
        statement = self.dialect.insert(_rules).values(kind=kind, key=key, document=json.dumps(document),
                                                        updated_by=actor, updated_at=at)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["kind", "key"], set_={
            "document": statement.excluded.document, "updated_by": actor, "updated_at": at}))

    # --- the catalog's SKUs -----------------------------------------------------------------------------------

    async def catalog_revisions(self, skus: Iterable[str]) -> dict[str, int]:
        rows = await self.session.execute(select(_skus.c.sku, _skus.c.revision).where(_skus.c.sku.in_(set(skus))))
        return {sku: revision for sku, revision in rows}

    async def put_catalog_skus(self, skus: list[dict[str, Any]]) -> None:
        """sku, revision, returnable, final_sale, return_window_days, category, hazmat_class, changed_at per SKU; a
        revision not above the one stored changes nothing."""
        statement = self.dialect.insert(_skus)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in skus[0] if name != "sku"},
            where=statement.excluded.revision > _skus.c.revision), skus)

    async def catalog_skus(self, skus: Iterable[str]) -> dict[str, CatalogSku]:
        rows = await self.session.execute(select(_skus).where(_skus.c.sku.in_(set(skus))))
        return {row["sku"]: CatalogSku(row["returnable"], row["final_sale"], row["return_window_days"],
                                       row["category"], row["hazmat_class"]) for row in rows.mappings()}

    # --- vendors, unit costs and vendor claims ------------------------------------------------------------

    async def put_vendors(self, assignments: list[dict[str, Any]]) -> None:
        """sku, vendor_id, vendor_sku, assigned_by, assigned_at per SKU: its vendor from now on."""
        statement = self.dialect.insert(_vendors)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name]
                                          for name in ("vendor_id", "vendor_sku", "assigned_by", "assigned_at")}),
            assignments)

    async def remove_vendors(self, skus: Iterable[str]) -> None:
        await self.session.execute(delete(_vendors).where(_vendors.c.sku.in_(set(skus))))

    async def sku_vendors(self, skus: Iterable[str] | None = None, vendor_id: str | None = None,
                          limit: int = 1000) -> dict[str, dict[str, Any]]:
        """Per SKU its vendor row; of the SKUs given, or every SKU (of one vendor), in SKU order."""
        query = select(_vendors).order_by(_vendors.c.sku).limit(limit)
        if skus is not None:
            query = query.where(_vendors.c.sku.in_(sorted(set(skus))))
        if vendor_id is not None:
            query = query.where(_vendors.c.vendor_id == vendor_id)
        return {row["sku"]: dict(row) for row in (await self.session.execute(query)).mappings()}

    async def put_unit_costs(self, costs: list[dict[str, Any]]) -> None:
        """sku, amount, currency, at per cost; an older change than the one stored changes nothing."""
        statement = self.dialect.insert(_costs)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in ("amount", "currency", "at")},
            where=statement.excluded.at >= _costs.c.at), costs)

    async def unit_costs(self, skus: Iterable[str]) -> dict[str, UnitCost]:
        rows = await self.session.execute(select(_costs.c.sku, _costs.c.amount, _costs.c.currency)
                                          .where(_costs.c.sku.in_(sorted(set(skus)))))
        return {sku: UnitCost(amount, currency) for sku, amount, currency in rows}

    async def draft_claim(self, vendor_id: str, new: VendorClaim) -> VendorClaim:
        """The vendor's draft claim, locked; `new` stored first when the vendor has none (the partial unique index
        keeps it to one draft even when two transactions open one at once)."""
        insert = self.dialect.insert(_claims).values(self._claim_row(new, new.timeline[0].at)).on_conflict_do_nothing(
            index_elements=["vendor_id"], index_where=_claims.c.status == DRAFT)
        locked = select(_claims.c.document).where(_claims.c.vendor_id == vendor_id, _claims.c.status == DRAFT)
        # Twice at most: a draft submitted while this waited for its lock is no draft any more, and then the
        # second insert opens the next one.
        for _ in range(2):
            await self.session.execute(insert)
            if (document := (await self.session.execute(locked.with_for_update())).scalar()) is not None:
                return CLAIM_DOCUMENT.validate_json(document)
        raise RuntimeError(f"no draft claim for vendor {vendor_id}")

    async def claim(self, claim_id: str, *, lock: bool = True) -> VendorClaim | None:
        query = select(_claims.c.document).where(_claims.c.id == claim_id)
        document = (await self.session.execute(query.with_for_update() if lock else query)).scalar()
        return CLAIM_DOCUMENT.validate_json(document) if document else None

    async def claims(self, vendor_id: str | None, status: str | None, limit: int) -> list[VendorClaim]:
        """Newest change first."""
        query = select(_claims.c.document).order_by(_claims.c.updated_at.desc(), _claims.c.id).limit(limit)
        if vendor_id is not None:
            query = query.where(_claims.c.vendor_id == vendor_id)
        if status is not None:
            query = query.where(_claims.c.status == status)
        return [CLAIM_DOCUMENT.validate_json(document) for (document,) in await self.session.execute(query)]

    async def save_claim(self, claim: VendorClaim, at: datetime) -> None:
        row = self._claim_row(claim, at)
        await self.session.execute(update(_claims).where(_claims.c.id == claim.id).values(
            status=row["status"], updated_at=at, document=row["document"]))

    @staticmethod
    def _claim_row(claim: VendorClaim, at: datetime) -> dict[str, Any]:
        return {"id": claim.id, "vendor_id": claim.vendor_id, "status": claim.status, "updated_at": at,
                "document": CLAIM_DOCUMENT.dump_json(claim).decode()}
