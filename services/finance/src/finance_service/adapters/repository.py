"""Finance persistence: orders and returns as finance follows them, unit costs, channel fee rules, refunds (the
payout queue), store credit, the journal (insert only) and facts waiting to be posted."""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ecomops_common.db import SqlRepository
from ecomops_common.money import to_minor_unit
from finance_service.adapters.orm import (
    ApprovalRequestRecord,
    CatalogSkuRecord,
    ChannelFeeRuleRecord,
    GoodsReceiptRecord,
    GrniBalanceRecord,
    JournalEntryRecord,
    JournalLineRecord,
    ParkedFactRecord,
    RefundRecord,
    ReturnCaseRecord,
    SaleOrderRecord,
    StoreCreditBalanceRecord,
    StoreCreditMovementRecord,
    UnitCostHistoryRecord,
    UnitCostRecord,
    VendorInvoiceRecord,
)
from finance_service.domain.approvals import ApprovalRequest, RequestKind, RequestStatus
from finance_service.domain.journal import Dimensions, JournalEntry, JournalLine
from finance_service.domain.payouts import PAYABLE, Refund, RefundStatus
from finance_service.domain.postings import ChannelFees, SaleOrder, UnitCost
from finance_service.domain.purchasing import CatalogRevision, GoodsReceipt, GrniBalance, MatchedLine, VendorInvoice
from finance_service.domain.store_credit import Movement, MovementKind, StoreCreditBalance

_orders = SaleOrderRecord.__table__
_returns = ReturnCaseRecord.__table__
_costs = UnitCostRecord.__table__
_cost_history = UnitCostHistoryRecord.__table__
_refunds = RefundRecord.__table__
_entries = JournalEntryRecord.__table__
_lines = JournalLineRecord.__table__
_parked = ParkedFactRecord.__table__
_requests = ApprovalRequestRecord.__table__
_fee_rules = ChannelFeeRuleRecord.__table__
_credit_balances = StoreCreditBalanceRecord.__table__
_credit_movements = StoreCreditMovementRecord.__table__
_catalog = CatalogSkuRecord.__table__
_receipts = GoodsReceiptRecord.__table__
_grni = GrniBalanceRecord.__table__
_invoices = VendorInvoiceRecord.__table__
GRNI_KEY = ("po_id", "sku", "currency")
GRNI_INVOICED = ("invoiced_quantity", "invoiced_value", "billed_value")
SALE_ORDER = TypeAdapter(SaleOrder)
REFUND_FIELDS = ("status", "generation", "attempts", "next_attempt_at", "provider_reference", "issued_at",
                 "last_error", "hold_reason", "method")
REQUEST_FIELDS = ("kind", "target", "reason", "reference", "requested_by", "requested_at", "status")


class FinanceRepository(SqlRepository):
    def _lock(self, statement, skip_locked: bool = False):
        return statement.with_for_update(skip_locked=skip_locked) if self.dialect is postgresql else statement

    # --- orders --------------------------------------------------------------------------------------------

    async def add_orders(self, orders: Sequence[SaleOrder]) -> None:
        """Placed orders; one already known keeps its state (a replayed OrderPlaced changes nothing)."""
        if orders:
            await self.session.execute(self.dialect.insert(_orders).on_conflict_do_nothing(), [
                {"order_id": o.order_id, "document": SALE_ORDER.dump_json(o).decode()} for o in orders])

    async def orders(self, order_ids: Iterable[str]) -> dict[str, SaleOrder]:
        """Locked until commit: shipments of one order are posted one after another."""
        rows = await self.session.execute(self._lock(select(_orders).where(_orders.c.order_id.in_(set(order_ids)))))
        return {row.order_id: SALE_ORDER.validate_json(row.document) for row in rows}

    async def save_orders(self, orders: Iterable[SaleOrder]) -> None:
        rows = [{"key": o.order_id, "document": SALE_ORDER.dump_json(o).decode()} for o in orders]
        if rows:
            await self.session.execute(update(_orders).where(_orders.c.order_id == bindparam("key")).values(
                document=bindparam("document")), rows)

    # --- returns -------------------------------------------------------------------------------------------

    async def add_return_cases(self, cases: list[dict[str, Any]]) -> None:
        if cases:
            await self.session.execute(self.dialect.insert(_returns).on_conflict_do_nothing(), cases)

    async def return_cases(self, rma_ids: Iterable[str]) -> dict[str, Any]:
        rows = await self.session.execute(select(_returns).where(_returns.c.rma_id.in_(set(rma_ids))))
        return {row.rma_id: row for row in rows}

    async def record_receipt(self, rma_id: str, sku: str, units: int, at: datetime) -> None:
        """Received units go to the RMA's lines of that SKU in order; more than authorized stays on the last."""
        row = (await self.session.execute(self._lock(select(_returns).where(_returns.c.rma_id == rma_id)))).first()
        if row is None:
            return
        lines = json.loads(row.lines)
        of_sku = [line for line in lines if line["sku"] == sku]
        left = units
        for line in of_sku:
            taken = left if line is of_sku[-1] else min(left, max(line["quantity"] - line.get("received", 0), 0))
            line["received"] = line.get("received", 0) + taken
            left -= taken
        await self.session.execute(update(_returns).where(_returns.c.rma_id == rma_id).values(
            lines=json.dumps(lines), received_units=_returns.c.received_units + units,
            first_received_at=func.coalesce(_returns.c.first_received_at, at)))

    async def record_inspection(self, rma_id: str, condition: str, at: datetime) -> None:
        await self.session.execute(update(_returns).where(_returns.c.rma_id == rma_id).values(
            conditions=_returns.c.conditions + condition + "\n",
            first_inspected_at=func.coalesce(_returns.c.first_inspected_at, at)))

    # --- unit costs ----------------------------------------------------------------------------------------

    async def unit_costs(self, skus: Iterable[str]) -> dict[str, UnitCost]:
        rows = await self.session.execute(select(_costs).where(_costs.c.sku.in_(set(skus))))
        return {row.sku: UnitCost(_cost_amount(row.amount, row.currency), row.currency) for row in rows}

    async def all_unit_costs(self) -> list[Any]:
        """Every SKU's cost, and whether the SKU master sets it (from_catalog)."""
        return list(await self.session.execute(
            select(_costs, _catalog.c.unit_cost.is_not(None).label("from_catalog"))
            .outerjoin(_catalog, _catalog.c.sku == _costs.c.sku).order_by(_costs.c.sku)))

    async def set_unit_cost(self, sku: str, cost: UnitCost, actor: str, at: datetime) -> None:
        row = {"sku": sku, "amount": cost.amount, "currency": cost.currency, "updated_by": actor, "updated_at": at}
        statement = self.dialect.insert(_costs)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={k: statement.excluded[k] for k in row if k != "sku"}), [row])
        await self.session.execute(_cost_history.insert(), [row])

    # --- the SKU master's costs ----------------------------------------------------------------------------

    async def apply_catalog_revisions(self, revisions: Sequence[CatalogRevision]) -> set[str]:
        """Stores each SKU's revision where it is newer than the one applied (one statement: a concurrent older
        one cannot overwrite it); returns the SKUs whose revision was applied."""
        if not revisions:
            return set()
        statement = self.dialect.insert(_catalog).values([
            {"sku": r.sku, "revision": r.revision, "unit_cost": r.cost.amount if r.cost else None,
             "currency": r.cost.currency if r.cost else None, "changed_at": r.changed_at} for r in revisions])
        applied = await self.session.execute(statement.on_conflict_do_update(
            index_elements=["sku"], set_={name: statement.excluded[name] for name in (
                "revision", "unit_cost", "currency", "changed_at")},
            where=_catalog.c.revision < statement.excluded.revision).returning(_catalog.c.sku))
        return set(applied.scalars())

    async def catalog_cost_revision(self, sku: str) -> int | None:
        """The SKU master's revision that costs the SKU; None when the catalog does not cost it."""
        return await self.session.scalar(select(_catalog.c.revision).where(
            _catalog.c.sku == sku, _catalog.c.unit_cost.is_not(None)))

    # --- goods received not invoiced -----------------------------------------------------------------------

    async def add_goods_receipts(self, receipts: Sequence[GoodsReceipt]) -> set[str]:
        """Records the receipts not recorded before and adds them to their PO line's goods received not invoiced
        (incremented in SQL: receipts of one PO line may be posted concurrently); returns the new receipt ids."""
        first: dict[str, GoodsReceipt] = {}
        for receipt in receipts:
            first.setdefault(receipt.receipt_id, receipt)
        if not first:
            return set()
        inserted = await self.session.execute(self.dialect.insert(_receipts).values([
            {"receipt_id": r.receipt_id, "po_id": r.po_id, "asn_id": r.asn_id, "node": r.node, "sku": r.sku,
             "quantity": r.quantity, "unit_cost": r.cost.amount, "currency": r.cost.currency, "amount": r.amount,
             "received_by": r.received_by, "received_at": r.received_at} for r in first.values()
        ]).on_conflict_do_nothing().returning(_receipts.c.receipt_id))
        new = set(inserted.scalars())
        received: dict[tuple[str, str, str], GrniBalance] = {}
        for receipt in first.values():
            if receipt.receipt_id in new:
                key = (receipt.po_id, receipt.sku, receipt.cost.currency)
                received.setdefault(key, GrniBalance(*key)).receive(receipt)
        if received:
            statement = self.dialect.insert(_grni).values([asdict(balance) for balance in received.values()])
            await self.session.execute(statement.on_conflict_do_update(index_elements=list(GRNI_KEY), set_={
                name: _grni.c[name] + statement.excluded[name] for name in ("received_quantity", "received_value")}))
        return new

    async def grni_balances(self, po_id: str, skus: Iterable[str]) -> dict[tuple[str, str], GrniBalance]:
        """The PO's balances of these SKUs per (SKU, currency), locked until commit: an invoice is matched
        against them one at a time."""
        rows = await self.session.execute(self._lock(select(_grni).where(
            _grni.c.po_id == po_id, _grni.c.sku.in_(set(skus))).order_by(_grni.c.sku, _grni.c.currency)))
        return {(row.sku, row.currency): _grni_balance(row) for row in rows}

    async def save_invoiced(self, balances: Iterable[GrniBalance]) -> None:
        rows = [{**{f"key_{name}": getattr(b, name) for name in GRNI_KEY},
                 **{name: getattr(b, name) for name in GRNI_INVOICED}} for b in balances]
        if rows:
            await self.session.execute(update(_grni).where(
                *(_grni.c[name] == bindparam(f"key_{name}") for name in GRNI_KEY)).values(
                {name: bindparam(name) for name in GRNI_INVOICED}), rows)

    async def add_invoice(self, invoice: VendorInvoice, matched: Sequence[MatchedLine], entry_id: int,
                          recorded_by: str, at: datetime) -> None:
        await self.session.execute(_invoices.insert().values(
            invoice_id=invoice.invoice_id, po_id=invoice.po_id, vendor_id=invoice.vendor_id,
            currency=invoice.currency, lines=json.dumps([{
                "sku": m.sku, "quantity": m.quantity, "unit_price": str(m.unit_price), "amount": str(m.amount),
                "received_cost": str(m.received_cost)} for m in matched]),
            entry_id=entry_id, recorded_by=recorded_by, recorded_at=at))

    async def invoice(self, invoice_id: str) -> Any | None:
        return (await self.session.execute(select(_invoices).where(_invoices.c.invoice_id == invoice_id))).first()

    async def po_vendor(self, po_id: str) -> str | None:
        """Who invoiced the PO, if anyone did."""
        return await self.session.scalar(select(_invoices.c.vendor_id).where(_invoices.c.po_id == po_id).limit(1))

    # --- channel fee rules ---------------------------------------------------------------------------------

    async def channel_fees(self, channels: Iterable[str]) -> dict[str, ChannelFees]:
        rows = await self.session.execute(select(_fee_rules).where(_fee_rules.c.channel.in_(set(channels))))
        return {row.channel: ChannelFees(row.commission_rate, row.refund_reversal_rate) for row in rows}

    async def set_channel_fees(self, channel: str, fees: ChannelFees, actor: str, at: datetime) -> None:
        row = {"channel": channel, "commission_rate": fees.commission_rate,
               "refund_reversal_rate": fees.refund_reversal_rate, "updated_by": actor, "updated_at": at}
        statement = self.dialect.insert(_fee_rules)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["channel"], set_={k: statement.excluded[k] for k in row if k != "channel"}), [row])

    async def channel_fee_rows(self, channel: str | None = None) -> list[Any]:
        statement = select(_fee_rules).order_by(_fee_rules.c.channel)
        if channel is not None:
            statement = statement.where(_fee_rules.c.channel == channel)
        return list(await self.session.execute(statement))

    # --- store credit --------------------------------------------------------------------------------------

    async def store_credit_balance(self, customer_id: str, currency: str) -> StoreCreditBalance:
        """The customer's balance in the currency (zero if none yet), locked until commit: the movements of
        one customer's credit happen one after another."""
        await self.session.execute(self.dialect.insert(_credit_balances).on_conflict_do_nothing(), [
            {"customer_id": customer_id, "currency": currency, "balance": Decimal(0)}])
        balance = await self.session.scalar(self._lock(select(_credit_balances.c.balance).where(
            _credit_balances.c.customer_id == customer_id, _credit_balances.c.currency == currency)))
        return StoreCreditBalance(customer_id, currency, to_minor_unit(Decimal(balance), currency))

    async def add_movement(self, movement: Movement, balance: StoreCreditBalance) -> bool:
        """Records the movement and the balance after it; False (nothing changed) when it happened already."""
        inserted = await self.session.execute(self.dialect.insert(_credit_movements).values(
            asdict(movement)).on_conflict_do_nothing().returning(_credit_movements.c.movement_id))
        if inserted.scalar() is None:
            return False
        await self.session.execute(update(_credit_balances).where(
            _credit_balances.c.customer_id == balance.customer_id,
            _credit_balances.c.currency == balance.currency).values(balance=balance.balance))
        return True

    async def movement(self, movement_id: str) -> Movement | None:
        row = (await self.session.execute(select(_credit_movements).where(
            _credit_movements.c.movement_id == movement_id))).first()
        return _movement(row) if row else None

    async def store_credit(self, customer_id: str, limit: int = 1000) -> tuple[list[Any], list[Any]]:
        """The customer's balances per currency and latest movements, oldest first."""
        balances = list(await self.session.execute(select(_credit_balances).where(
            _credit_balances.c.customer_id == customer_id).order_by(_credit_balances.c.currency)))
        movements = list(await self.session.execute(select(_credit_movements).where(
            _credit_movements.c.customer_id == customer_id).order_by(
            _credit_movements.c.at.desc(), _credit_movements.c.movement_id).limit(limit)))
        return balances, movements[::-1]

    # --- refunds -------------------------------------------------------------------------------------------

    async def add_refunds(self, refunds: Sequence[tuple[Refund, dict[str, Any]]]) -> set[str]:
        """Inserts new refunds (with their breakdown, lines, approver); returns the ids that were new. An id
        seen before is counted as a duplicate request, for the leakage report, and not paid again."""
        if not refunds:
            return set()
        known = set((await self.session.scalars(select(_refunds.c.refund_id).where(
            _refunds.c.refund_id.in_([refund.refund_id for refund, _ in refunds])))).all())
        new: dict[str, dict[str, Any]] = {}
        repeats: Counter[str] = Counter()
        for refund, extra in refunds:
            if refund.refund_id in known or refund.refund_id in new:
                repeats[refund.refund_id] += 1
            else:
                new[refund.refund_id] = {**asdict(refund), **extra}
        if new:
            await self.session.execute(_refunds.insert(), list(new.values()))
        for refund_id, count in repeats.items():
            await self.session.execute(update(_refunds).where(_refunds.c.refund_id == refund_id).values(
                duplicate_requests=_refunds.c.duplicate_requests + count))
        return set(new)

    async def due_refunds(self, now: datetime, limit: int) -> list[Refund]:
        """Pending refunds due for an attempt, locked until commit; other replicas skip them."""
        statement = select(_refunds).where(
            _refunds.c.status == RefundStatus.pending,
            (_refunds.c.next_attempt_at.is_(None)) | (_refunds.c.next_attempt_at <= now),
        ).order_by(_refunds.c.approved_at).limit(limit)
        return [_refund(row) for row in await self.session.execute(self._lock(statement, skip_locked=True))]

    async def refund(self, refund_id: str, lock: bool = True) -> Refund | None:
        statement = select(_refunds).where(_refunds.c.refund_id == refund_id)
        row = (await self.session.execute(self._lock(statement) if lock else statement)).first()
        return _refund(row) if row else None

    async def save_refunds(self, refunds: Iterable[Refund]) -> None:
        rows = [{"key": r.refund_id, **{name: getattr(r, name) for name in REFUND_FIELDS}} for r in refunds]
        if rows:
            await self.session.execute(update(_refunds).where(_refunds.c.refund_id == bindparam("key")).values(
                {name: bindparam(name) for name in REFUND_FIELDS}), rows)

    async def held_refunds(self, limit: int) -> list[tuple[Refund, list[dict], list[dict]]]:
        """Held refunds whose order is known now, with their lines and breakdown, locked (skipped by other
        replicas)."""
        statement = select(_refunds).where(
            _refunds.c.status == RefundStatus.held, exists().where(_orders.c.order_id == _refunds.c.order_id),
        ).order_by(_refunds.c.approved_at).limit(limit)
        return [(_refund(row), json.loads(row.lines), json.loads(row.breakdown))
                for row in await self.session.execute(self._lock(statement, skip_locked=True))]

    async def refunded_amounts(self, order_ids: Iterable[str]) -> dict[str, Decimal]:
        """Per order: what its refunds that finance pays or paid amount to."""
        rows = await self.session.execute(
            select(_refunds.c.order_id, func.sum(_refunds.c.amount)).where(
                _refunds.c.order_id.in_(set(order_ids)), _refunds.c.status.in_(PAYABLE)).group_by(_refunds.c.order_id))
        return {order_id: Decimal(total) for order_id, total in rows}

    async def refund_rows(self, status: str | None = None, limit: int = 500) -> list[Any]:
        statement = select(_refunds).order_by(_refunds.c.approved_at).limit(limit)
        if status:
            statement = statement.where(_refunds.c.status == status)
        return list(await self.session.execute(statement))

    # --- approval requests ---------------------------------------------------------------------------------

    async def add_request(self, request: ApprovalRequest) -> int | None:
        """The new request's id; None when its target already has an open request."""
        row = {name: getattr(request, name) for name in REQUEST_FIELDS}
        inserted = await self.session.execute(
            self.dialect.insert(_requests).values(row).on_conflict_do_nothing().returning(_requests.c.id))
        return inserted.scalar()

    async def open_request(self, target: str) -> ApprovalRequest | None:
        row = (await self.session.execute(select(_requests).where(
            _requests.c.target == target, _requests.c.status == RequestStatus.requested))).first()
        return _request(row) if row else None

    async def request(self, request_id: int, lock: bool = True) -> ApprovalRequest | None:
        """Locked until commit: a request is decided once."""
        statement = select(_requests).where(_requests.c.id == request_id)
        row = (await self.session.execute(self._lock(statement) if lock else statement)).first()
        return _request(row) if row else None

    async def save_request(self, request: ApprovalRequest) -> None:
        await self.session.execute(update(_requests).where(_requests.c.id == request.id).values(
            {name: getattr(request, name) for name in ("status", "decided_by", "decided_at", "decision_note",
                                                       "outcome")}))

    async def requests(self, status: str | None = None, limit: int = 500) -> list[ApprovalRequest]:
        statement = select(_requests).order_by(_requests.c.id).limit(limit)
        if status:
            statement = statement.where(_requests.c.status == status)
        return [_request(row) for row in await self.session.execute(statement)]

    # --- journal -------------------------------------------------------------------------------------------

    async def post(self, entries: Sequence[JournalEntry], posted_by: str, now: datetime
                   ) -> list[tuple[int, JournalEntry]]:
        """Appends entries (one statement for the entries, one for their lines); one whose fact is already in
        the journal is skipped, and so is a second entry of one fact in `entries` (the same recovery action or
        vendor claim step delivered twice in a batch). Returns the new entries with their ids, in the order
        given."""
        if not entries:
            return []
        first: dict[tuple[str, str], JournalEntry] = {}
        for entry in entries:
            first.setdefault((entry.kind, entry.source_id), entry)
        entries = list(first.values())
        inserted = await self.session.execute(self.dialect.insert(_entries).values([
            {"kind": e.kind, "source_id": e.source_id, "occurred_at": e.occurred_at, "posted_at": now,
             "posted_by": posted_by, "description": e.description, "reverses": e.reverses,
             "order_id": e.dims.order_id, "rma_id": e.dims.rma_id} for e in entries
        ]).on_conflict_do_nothing(index_elements=["kind", "source_id"]).returning(
            _entries.c.id, _entries.c.kind, _entries.c.source_id))
        ids = {(kind, source_id): entry_id for entry_id, kind, source_id in inserted}
        new = [(ids[(e.kind, e.source_id)], e) for e in entries if (e.kind, e.source_id) in ids]
        if new:
            await self.session.execute(_lines.insert(), [
                {"entry_id": entry_id, "account": line.account, "debit": line.debit, "credit": line.credit,
                 "currency": line.currency, "memo": line.memo, **asdict(line.dims)}
                for entry_id, entry in new for line in entry.lines])
        return new

    async def entry(self, entry_id: int) -> tuple[Any, JournalEntry] | None:
        row = (await self.session.execute(select(_entries).where(_entries.c.id == entry_id))).first()
        if row is None:
            return None
        lines = await self.session.execute(select(_lines).where(_lines.c.entry_id == entry_id).order_by(_lines.c.id))
        return row, JournalEntry(row.kind, row.source_id, row.occurred_at, tuple(
            JournalLine(line.account, line.debit, line.credit, line.currency,
                        Dimensions(line.order_id, line.rma_id, line.sku, line.channel, line.reason), line.memo)
            for line in lines), row.description, row.reverses, Dimensions(row.order_id, row.rma_id))

    async def entry_of(self, kind: str, source_id: str) -> JournalEntry | None:
        """The entry of one fact, if it is posted."""
        entry_id = await self.session.scalar(select(_entries.c.id).where(
            _entries.c.kind == kind, _entries.c.source_id == source_id))
        return None if entry_id is None else (await self.entry(entry_id))[1]

    async def reversed(self, reverses: str) -> bool:
        """Whether the entry `<kind>:<source_id>` has its reversal."""
        return bool(await self.session.scalar(select(exists().where(
            _entries.c.kind == "reversal", _entries.c.source_id == reverses))))

    async def entry_rows(self, *, order_id: str | None = None, rma_id: str | None = None, kind: str | None = None,
                         after_id: int = 0, limit: int = 200) -> list[Any]:
        statement = select(_entries).where(_entries.c.id > after_id).order_by(_entries.c.id).limit(limit)
        for column, value in ((_entries.c.order_id, order_id), (_entries.c.rma_id, rma_id), (_entries.c.kind, kind)):
            if value is not None:
                statement = statement.where(column == value)
        return list(await self.session.execute(statement))

    async def line_rows(self, entry_ids: Sequence[int]) -> list[Any]:
        return list(await self.session.execute(
            select(_lines).where(_lines.c.entry_id.in_(entry_ids)).order_by(_lines.c.entry_id, _lines.c.id)))

    # --- facts waiting to be posted ------------------------------------------------------------------------

    async def park(self, facts: list[dict[str, Any]]) -> None:
        if facts:
            statement = self.dialect.insert(_parked)
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["event_id"], set_={"waiting_for": statement.excluded.waiting_for}), facts)

    async def ready_parked(self, limit: int) -> list[Any]:
        """Parked facts whose awaited order, RMA or cost is now known, locked (skipped by other replicas)."""
        kind, key = func.split_part(_parked.c.waiting_for, ":", 1), _parked.c.waiting_for
        if self.dialect is sqlite:
            kind = func.substr(key, 1, func.instr(key, ":") - 1)
        rest = func.substr(key, func.length(kind) + 2)
        statement = select(_parked).where(
            ((kind == "order") & exists().where(_orders.c.order_id == rest))
            | ((kind == "rma") & exists().where(_returns.c.rma_id == rest))
            | ((kind == "cost") & exists().where(_costs.c.sku == rest))
        ).order_by(_parked.c.occurred_at).limit(limit)
        return list(await self.session.execute(self._lock(statement, skip_locked=True)))

    async def unpark(self, event_ids: Iterable[str]) -> None:
        event_ids = list(event_ids)
        if event_ids:
            await self.session.execute(delete(_parked).where(_parked.c.event_id.in_(event_ids)))

    async def parked_rows(self, limit: int = 500) -> list[Any]:
        return list(await self.session.execute(select(_parked).order_by(_parked.c.occurred_at).limit(limit)))


def _grni_balance(row) -> GrniBalance:
    # stored with 4 decimals; receipts and invoices are valued in the currency's minor units
    return GrniBalance(row.po_id, row.sku, row.currency, row.received_quantity,
                       to_minor_unit(row.received_value, row.currency), row.invoiced_quantity,
                       to_minor_unit(row.invoiced_value, row.currency), to_minor_unit(row.billed_value, row.currency))


def _request(row) -> ApprovalRequest:
    fields = {name: getattr(row, name) for name in ApprovalRequest.__dataclass_fields__}
    return ApprovalRequest(**{**fields, "kind": RequestKind(row.kind), "status": RequestStatus(row.status)})


def _cost_amount(amount: Decimal, currency: str) -> Decimal:
    """A cost as it was set: stored with 4 decimals, it has those of the currency's minor unit, or more."""
    in_minor_units = to_minor_unit(amount, currency)
    return in_minor_units if in_minor_units == amount else amount.normalize()


def _movement(row) -> Movement:
    fields = {name: getattr(row, name) for name in Movement.__dataclass_fields__}
    # stored with 4 decimals; store credit moves in the currency's minor units
    return Movement(**{**fields, "kind": MovementKind(row.kind), "amount": to_minor_unit(row.amount, row.currency),
                       "balance": to_minor_unit(row.balance, row.currency)})


def _refund(row) -> Refund:
    fields = {name: getattr(row, name) for name in Refund.__dataclass_fields__}
    # stored with 4 decimals; the refund was rounded to the currency's minor unit before it was approved
    return Refund(**{**fields, "status": RefundStatus(row.status), "amount": to_minor_unit(row.amount, row.currency)})

