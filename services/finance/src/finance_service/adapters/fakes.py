"""In-memory adapters for service-layer unit tests: the repository keeps orders, RMAs, costs, fee rules, refunds,
store credit, the journal, parked facts and purchasing (catalog revisions, receipts, GRNI, invoices) in dicts and
lists, the unit of work is ecomops_common's fake. The reports (SQL aggregates) are not faked: the service layer only
hands them to HTTP."""

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ecomops_common.testing.fakes import FakeUnitOfWork
from finance_service.adapters.repository import REFUND_FIELDS
from finance_service.domain.approvals import ApprovalRequest, RequestStatus
from finance_service.domain.journal import JournalEntry
from finance_service.domain.payouts import PAYABLE, Refund, RefundStatus
from finance_service.domain.postings import ChannelFees, SaleOrder, UnitCost
from finance_service.domain.purchasing import CatalogRevision, GoodsReceipt, GrniBalance, MatchedLine, VendorInvoice
from finance_service.domain.store_credit import Movement, StoreCreditBalance


class FakeFinance:
    def __init__(self) -> None:
        self.sale_orders: dict[str, SaleOrder] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.receipts: list[tuple[str, str, int]] = []
        self.inspections: list[tuple[str, str]] = []
        self.costs: dict[str, UnitCost] = {}
        self.fees: dict[str, ChannelFees] = {}
        self.credit: dict[tuple[str, str], Decimal] = {}  # balance per (customer, currency)
        self.movements: dict[str, Movement] = {}
        self.refunds: dict[str, Refund] = {}
        self.refund_details: dict[str, dict[str, Any]] = {}  # approved_by, lines and breakdown (JSON)
        self.approval_requests: dict[int, ApprovalRequest] = {}
        self.journal: list[tuple[JournalEntry, str]] = []  # (entry, posted_by); an entry's id is its place + 1
        self.parked: dict[str, dict[str, Any]] = {}
        self.catalog: dict[str, CatalogRevision] = {}
        self.receipts_posted: dict[str, GoodsReceipt] = {}
        self.grni: dict[tuple[str, str, str], GrniBalance] = {}  # per (po_id, sku, currency)
        self.invoices: dict[str, dict[str, Any]] = {}

    async def add_orders(self, orders: Sequence[SaleOrder]) -> None:
        for order in orders:
            self.sale_orders.setdefault(order.order_id, copy.deepcopy(order))

    async def orders(self, order_ids: Iterable[str]) -> dict[str, SaleOrder]:
        return {order_id: copy.deepcopy(self.sale_orders[order_id])
                for order_id in order_ids if order_id in self.sale_orders}

    async def save_orders(self, orders: Iterable[SaleOrder]) -> None:
        self.sale_orders.update({order.order_id: copy.deepcopy(order) for order in orders})

    async def add_return_cases(self, cases: list[dict[str, Any]]) -> None:
        for case in cases:
            self.cases.setdefault(case["rma_id"], dict(case))

    async def return_cases(self, rma_ids: Iterable[str]) -> dict[str, Any]:
        return {rma_id: SimpleNamespace(**self.cases[rma_id]) for rma_id in rma_ids if rma_id in self.cases}

    async def record_receipt(self, rma_id: str, sku: str, units: int, at: datetime) -> None:
        self.receipts.append((rma_id, sku, units))

    async def record_inspection(self, rma_id: str, condition: str, at: datetime) -> None:
        self.inspections.append((rma_id, condition))

    async def unit_costs(self, skus: Iterable[str]) -> dict[str, UnitCost]:
        return {sku: self.costs[sku] for sku in skus if sku in self.costs}

    async def set_unit_cost(self, sku: str, cost: UnitCost, actor: str, at: datetime) -> None:
        self.costs[sku] = cost

    async def channel_fees(self, channels: Iterable[str]) -> dict[str, ChannelFees]:
        return {channel: self.fees[channel] for channel in channels if channel in self.fees}

    async def set_channel_fees(self, channel: str, fees: ChannelFees, actor: str, at: datetime) -> None:
        self.fees[channel] = fees

    async def store_credit_balance(self, customer_id: str, currency: str) -> StoreCreditBalance:
        return StoreCreditBalance(customer_id, currency, self.credit.get((customer_id, currency), Decimal(0)))

    async def add_movement(self, movement: Movement, balance: StoreCreditBalance) -> bool:
        if movement.movement_id in self.movements:
            return False
        self.movements[movement.movement_id] = movement
        self.credit[(balance.customer_id, balance.currency)] = balance.balance
        return True

    async def movement(self, movement_id: str) -> Movement | None:
        return self.movements.get(movement_id)

    async def add_refunds(self, refunds: Sequence[tuple[Refund, dict[str, Any]]]) -> set[str]:
        new = set()
        for refund, details in refunds:
            if refund.refund_id in self.refunds:
                self.refunds[refund.refund_id].duplicate_requests += 1
            else:
                self.refunds[refund.refund_id] = copy.copy(refund)
                self.refund_details[refund.refund_id] = details
                new.add(refund.refund_id)
        return new

    async def due_refunds(self, now: datetime, limit: int) -> list[Refund]:
        due = [refund for refund in self.refunds.values() if refund.status is RefundStatus.pending
               and (refund.next_attempt_at is None or refund.next_attempt_at <= now)]
        return [copy.copy(refund) for refund in due[:limit]]

    async def refund(self, refund_id: str, lock: bool = True) -> Refund | None:
        return copy.copy(self.refunds.get(refund_id))

    async def save_refunds(self, refunds: Iterable[Refund]) -> None:
        for refund in refunds:  # like SQL: the payout's fields, not the duplicates counted meanwhile
            for name in REFUND_FIELDS:
                setattr(self.refunds[refund.refund_id], name, getattr(refund, name))

    async def held_refunds(self, limit: int) -> list[tuple[Refund, list[dict], list[dict]]]:
        held = [refund for refund in self.refunds.values()
                if refund.status is RefundStatus.held and refund.order_id in self.sale_orders]
        return [(copy.copy(refund), json.loads(self.refund_details[refund.refund_id]["lines"]),
                 json.loads(self.refund_details[refund.refund_id]["breakdown"])) for refund in held[:limit]]

    async def refunded_amounts(self, order_ids: Iterable[str]) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for refund in self.refunds.values():
            if refund.order_id in set(order_ids) and refund.status in PAYABLE:
                totals[refund.order_id] = totals.get(refund.order_id, Decimal(0)) + refund.amount
        return totals

    async def add_request(self, request: ApprovalRequest) -> int | None:
        if await self.open_request(request.target):
            return None
        request_id = len(self.approval_requests) + 1
        self.approval_requests[request_id] = copy.copy(request)
        self.approval_requests[request_id].id = request_id
        return request_id

    async def open_request(self, target: str) -> ApprovalRequest | None:
        return next((copy.copy(r) for r in self.approval_requests.values()
                     if r.target == target and r.status is RequestStatus.requested), None)

    async def request(self, request_id: int, lock: bool = True) -> ApprovalRequest | None:
        return copy.copy(self.approval_requests.get(request_id))

    async def save_request(self, request: ApprovalRequest) -> None:
        self.approval_requests[request.id] = copy.copy(request)

    async def requests(self, status: str | None = None, limit: int = 500) -> list[ApprovalRequest]:
        return [copy.copy(r) for r in self.approval_requests.values() if status is None or r.status == status][:limit]

    async def post(self, entries: Sequence[JournalEntry], posted_by: str, now: datetime
                   ) -> list[tuple[int, JournalEntry]]:
        new = []
        for entry in entries:
            if not any((e.kind, e.source_id) == (entry.kind, entry.source_id) for e, _ in self.journal):
                self.journal.append((entry, posted_by))
                new.append((len(self.journal), entry))
        return new

    async def entry(self, entry_id: int) -> tuple[Any, JournalEntry] | None:
        if not 1 <= entry_id <= len(self.journal):
            return None
        entry, posted_by = self.journal[entry_id - 1]
        return SimpleNamespace(id=entry_id, posted_by=posted_by), entry

    async def entry_of(self, kind: str, source_id: str) -> JournalEntry | None:
        return next((e for e, _ in self.journal if (e.kind, e.source_id) == (kind, source_id)), None)

    async def reversed(self, reverses: str) -> bool:
        return any((e.kind, e.source_id) == ("reversal", reverses) for e, _ in self.journal)

    async def park(self, facts: list[dict[str, Any]]) -> None:
        self.parked.update({fact["event_id"]: fact for fact in facts})

    async def ready_parked(self, limit: int) -> list[Any]:
        known = {"order": self.sale_orders, "rma": self.cases, "cost": self.costs}
        ready = [fact for fact in self.parked.values()
                 if fact["waiting_for"].partition(":")[2] in known.get(fact["waiting_for"].partition(":")[0], ())]
        return [SimpleNamespace(**fact) for fact in sorted(ready, key=lambda fact: fact["occurred_at"])[:limit]]

    async def unpark(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self.parked.pop(event_id, None)

    async def apply_catalog_revisions(self, revisions: Sequence[CatalogRevision]) -> set[str]:
        applied = set()
        for revision in revisions:
            if revision.sku not in self.catalog or self.catalog[revision.sku].revision < revision.revision:
                self.catalog[revision.sku] = revision
                applied.add(revision.sku)
        return applied

    async def catalog_cost_revision(self, sku: str) -> int | None:
        revision = self.catalog.get(sku)
        return revision.revision if revision and revision.cost else None

    async def add_goods_receipts(self, receipts: Sequence[GoodsReceipt]) -> set[str]:
        new = set()
        for receipt in receipts:
            if receipt.receipt_id not in self.receipts_posted:
                self.receipts_posted[receipt.receipt_id] = receipt
                key = (receipt.po_id, receipt.sku, receipt.cost.currency)
                self.grni.setdefault(key, GrniBalance(*key)).receive(receipt)
                new.add(receipt.receipt_id)
        return new

    async def grni_balances(self, po_id: str, skus: Iterable[str]) -> dict[tuple[str, str], GrniBalance]:
        return {(sku, currency): replace(balance) for (po, sku, currency), balance in self.grni.items()
                if po == po_id and sku in set(skus)}

    async def save_invoiced(self, balances: Iterable[GrniBalance]) -> None:
        for balance in balances:
            self.grni[(balance.po_id, balance.sku, balance.currency)] = replace(balance)

    async def add_invoice(self, invoice: VendorInvoice, matched: Sequence[MatchedLine], entry_id: int,
                          recorded_by: str, at: datetime) -> None:
        self.invoices[invoice.invoice_id] = {
            "invoice_id": invoice.invoice_id, "po_id": invoice.po_id, "vendor_id": invoice.vendor_id,
            "currency": invoice.currency, "entry_id": entry_id, "recorded_by": recorded_by, "recorded_at": at,
            "lines": json.dumps([{"sku": m.sku, "quantity": m.quantity, "unit_price": str(m.unit_price),
                                  "amount": str(m.amount), "received_cost": str(m.received_cost)} for m in matched])}

    async def invoice(self, invoice_id: str) -> Any | None:
        return SimpleNamespace(**self.invoices[invoice_id]) if invoice_id in self.invoices else None

    async def po_vendor(self, po_id: str) -> str | None:
        return next((invoice["vendor_id"] for invoice in self.invoices.values() if invoice["po_id"] == po_id), None)

    def entries(self, kind: str | None = None) -> list[JournalEntry]:
        return [entry for entry, _ in self.journal if kind is None or entry.kind == kind]


class FakeFinanceUnitOfWork(FakeUnitOfWork):
    def __init__(self, finance: FakeFinance | None = None) -> None:
        super().__init__()
        self.finance = finance or FakeFinance()
