"""Read-only queries behind finance's reports: trial balance, refund reconciliation, leakage, pending return
liability, the margin impact of returns and goods received not invoiced. Amounts are Decimal; rows are plain dicts,
ready for JSON or CSV."""

import json
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, or_, select

from ecomops_common.db import SqlRepository
from ecomops_common.money import to_minor_unit
from finance_service.adapters.orm import (
    GrniBalanceRecord,
    JournalEntryRecord,
    JournalLineRecord,
    RefundRecord,
    ReturnCaseRecord,
    SaleOrderRecord,
)
from finance_service.adapters.repository import SALE_ORDER
from finance_service.domain.accounts import (
    ACCOUNTS,
    FREIGHT,
    GOODS_RECEIVED_NOT_INVOICED,
    INVENTORY,
    MARKETPLACE_FEES,
    RECEIVABLE,
    REFUNDS_PAYABLE,
    RESTOCKING_FEES,
    RETURN_FREIGHT,
    SALES_RETURNS,
    SHIPPING_REVENUE,
    TAX_PAYABLE,
    WRITE_OFF,
)
from finance_service.domain.leakage import FeeRule, uncharged_fee
from finance_service.domain.money import ZERO
from finance_service.domain.payouts import PAYABLE, RefundStatus

_entries, _lines = JournalEntryRecord.__table__, JournalLineRecord.__table__
_refunds, _returns, _orders = RefundRecord.__table__, ReturnCaseRecord.__table__, SaleOrderRecord.__table__
_grni = GrniBalanceRecord.__table__


class FinanceReports(SqlRepository):
    async def trial_balance(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Per account and currency: balance before the period, debits and credits in it, balance after."""
        in_period = (_entries.c.occurred_at >= start) & (_entries.c.occurred_at < end)
        rows = await self.session.execute(
            select(_lines.c.account, _lines.c.currency,
                   func.sum(case((_entries.c.occurred_at < start, _lines.c.debit - _lines.c.credit), else_=0)),
                   func.sum(case((in_period, _lines.c.debit), else_=0)),
                   func.sum(case((in_period, _lines.c.credit), else_=0)))
            .join(_entries, _entries.c.id == _lines.c.entry_id).where(_entries.c.occurred_at < end)
            .group_by(_lines.c.account, _lines.c.currency).order_by(_lines.c.currency, _lines.c.account))
        accounts, totals = [], defaultdict(lambda: {"debits": ZERO, "credits": ZERO})
        for account, currency, opening, debits, credits in rows:
            opening, debits, credits = _dec(opening), _dec(debits), _dec(credits)
            accounts.append({"account": account, "name": ACCOUNTS[account].name, "type": ACCOUNTS[account].type,
                             "currency": currency, "opening": opening, "debits": debits, "credits": credits,
                             "closing": opening + debits - credits})
            totals[currency]["debits"] += debits
            totals[currency]["credits"] += credits
        return {"from": start, "to": end, "accounts": accounts,
                "totals": [{"currency": c, **t, "balanced": t["debits"] == t["credits"]} for c, t in totals.items()]}

    async def refund_reconciliation(self, now: datetime, no_receipt_days: int) -> dict[str, Any]:
        rows = await self._refunds_with_returns()
        overdue_before = now - timedelta(days=no_receipt_days)
        refunds = []
        for row in rows:
            issued = row.status == RefundStatus.issued
            refunds.append({
                "refund_id": row.refund_id, "rma_id": row.rma_id, "order_id": row.order_id, "channel": row.channel,
                "amount": row.amount, "currency": row.currency, "status": row.status, "timing": row.timing,
                "approved_by": row.approved_by, "approved_at": row.approved_at, "issued_at": row.issued_at,
                "provider_reference": row.provider_reference, "matched_return": row.case_rma is not None,
                "received_at": row.first_received_at, "inspected_at": row.first_inspected_at,
                "before_inspection": issued and (row.first_inspected_at is None
                                                 or row.issued_at < row.first_inspected_at),
                "no_receipt": issued and not row.received_units and row.issued_at <= overdue_before})
        totals = defaultdict(lambda: defaultdict(lambda: ZERO))
        for refund in refunds:
            totals[refund["currency"]][refund["status"]] += refund["amount"]
        payable = await self._balances(REFUNDS_PAYABLE)
        return {
            "refunds": refunds,
            "issued_before_inspection": [r for r in refunds if r["before_inspection"]],
            "no_receipt_after_days": [r for r in refunds if r["no_receipt"]],
            "unmatched": [r for r in refunds if not r["matched_return"]],
            "totals": [{"currency": currency, **{s: by_status[s] for s in RefundStatus},
                        # the ledger's refunds payable must be exactly what is approved and not yet paid
                        "refunds_payable_in_ledger": -payable.get(currency, ZERO),
                        "ledger_agrees": -payable.get(currency, ZERO) == by_status[RefundStatus.pending]
                        + by_status[RefundStatus.failed]} for currency, by_status in totals.items()],
        }

    async def leakage(self, fee_rule: FeeRule) -> dict:
        rows = await self._refunds_with_returns()
        orders = await self._orders({row.order_id for row in rows})
        over_policy, attempts, fees = [], [], []
        for row in rows:
            lines, breakdown = json.loads(row.lines), json.loads(row.breakdown)
            base = {"refund_id": row.refund_id, "rma_id": row.rma_id, "order_id": row.order_id,
                    "amount": row.amount, "currency": row.currency}
            order = orders.get(row.order_id)
            if order is not None:
                goods = sum((to_minor_unit(order.lines[line["line_id"]].unit_price * line["quantity"], order.currency)
                             for line in lines if line["line_id"] in order.lines), ZERO)
                shipping = (to_minor_unit(order.shipping_fee * goods / order.goods_total, order.currency)
                            if order.goods_total else ZERO)
                # the tax on those, pro rata as the returns service refunds it (a tax component of the refund)
                tax = to_minor_unit(order.tax * goods / order.goods_total, order.currency) if order.goods_total \
                    else ZERO
                allowed = goods + shipping + tax
                if row.amount > allowed:
                    over_policy.append({**base, "allowed": allowed, "excess": row.amount - allowed})
            if row.attempts > 1 or row.duplicate_requests or row.generation:
                attempts.append({**base, "attempts": row.attempts, "duplicate_requests": row.duplicate_requests,
                                 "declined_generations": row.generation, "status": row.status})
            due = uncharged_fee(fee_rule, row.reason, lines, breakdown,
                                {c for c in (row.conditions or "").split("\n") if c})
            if due:
                fees.append({**base, "reason": row.reason, **due, "timing": row.timing})
        return {"over_policy": over_policy, "duplicate_attempts": attempts, "fees_not_charged": fees}

    async def pending_liability(self) -> dict[str, Any]:
        approved = [{"refund_id": r.refund_id, "rma_id": r.rma_id, "amount": r.amount, "currency": r.currency,
                     "status": r.status, "approved_at": r.approved_at, "last_error": r.last_error}
                    for r in await self.session.execute(select(_refunds).where(
                        _refunds.c.status.in_([RefundStatus.pending, RefundStatus.failed])).order_by(
                        _refunds.c.approved_at))]
        refunded_rmas = set((await self.session.scalars(select(_refunds.c.rma_id).where(
            _refunds.c.status.in_(PAYABLE)).distinct())).all())
        cases = list(await self.session.execute(select(_returns).where(
            _returns.c.resolution == "refund", _returns.c.received_units < _returns.c.authorized_units)))
        orders = await self._orders({c.order_id for c in cases})
        awaiting = []
        for case_row in cases:
            order = orders.get(case_row.order_id)
            value = None
            if order is not None:
                value = sum((to_minor_unit(order.lines[line["line_id"]].unit_price
                                         * max(line["quantity"] - line.get("received", 0), 0), order.currency)
                             for line in json.loads(case_row.lines) if line["line_id"] in order.lines), ZERO)
            awaiting.append({"rma_id": case_row.rma_id, "order_id": case_row.order_id, "channel": case_row.channel,
                             "authorized_at": case_row.authorized_at,
                             "units_outstanding": case_row.authorized_units - case_row.received_units,
                             "value": value, "currency": order.currency if order else None,
                             "refund_already_approved": case_row.rma_id in refunded_rmas})
        totals = defaultdict(lambda: {"approved_not_refunded": ZERO, "authorized_not_received": ZERO})
        for refund in approved:
            totals[refund["currency"]]["approved_not_refunded"] += refund["amount"]
        for item in awaiting:
            if item["value"] is not None and not item["refund_already_approved"]:
                totals[item["currency"]]["authorized_not_received"] += item["value"]
        return {"approved_not_refunded": approved, "authorized_not_received": awaiting,
                "totals": [{"currency": c, **t} for c, t in totals.items()]}

    async def margin_impact(self, by: str, start: datetime | None = None, end: datetime | None = None,
                            ) -> list[dict[str, Any]]:
        """Per SKU, channel or reason: what returns cost. refunds: paid back net of fees kept (not the tax);
        write_offs: cost of units scrapped or liquidated less proceeds; recovered_value: cost put back into
        inventory plus liquidation proceeds (less the cost of recovered units that later left the books: those
        recovery entries carry the SKU only); freight: the outbound carrier cost of the returned units;
        return_freight: the return labels the retailer paid; fees_reversed: marketplace commission given back;
        tax_refunded: sales tax paid back, which is no margin. Between start and end: the returns' entries of that
        period (freight: of their orders, whenever shipped)."""
        statement = (
            select(_lines.c.order_id, _lines.c.sku, _lines.c.channel, _lines.c.reason, _lines.c.account,
                   _lines.c.currency, func.sum(_lines.c.debit - _lines.c.credit))
            .join(_entries, _entries.c.id == _lines.c.entry_id)
            .where(or_(_lines.c.rma_id.is_not(None), _entries.c.kind == "recovery"), _lines.c.account.in_(
                [SALES_RETURNS, SHIPPING_REVENUE, RESTOCKING_FEES, WRITE_OFF, INVENTORY, RECEIVABLE, RETURN_FREIGHT,
                 MARKETPLACE_FEES, TAX_PAYABLE])))
        if start and end:
            statement = statement.where(_entries.c.occurred_at >= start, _entries.c.occurred_at < end)
        rows = await self.session.execute(statement.group_by(
            _lines.c.order_id, _lines.c.sku, _lines.c.channel, _lines.c.reason, _lines.c.account, _lines.c.currency))
        buckets = defaultdict(lambda: {"refunds": ZERO, "fees_kept": ZERO, "write_offs": ZERO,
                                       "recovered_value": ZERO, "freight": ZERO, "return_freight": ZERO,
                                       "fees_reversed": ZERO, "tax_refunded": ZERO})
        orders_with_returns = set()
        for order_id, sku, channel, reason, account, currency, net in rows:
            orders_with_returns.add(order_id)
            bucket, net = buckets[({"sku": sku, "channel": channel, "reason": reason}[by], currency)], _dec(net)
            if account in (SALES_RETURNS, SHIPPING_REVENUE):
                bucket["refunds"] += net
            elif account == RESTOCKING_FEES:
                bucket["refunds"] += net
                bucket["fees_kept"] -= net
            elif account == WRITE_OFF:
                bucket["write_offs"] += net
            elif account == RETURN_FREIGHT:
                bucket["return_freight"] += net
            elif account == MARKETPLACE_FEES:
                bucket["fees_reversed"] -= net
            elif account == TAX_PAYABLE:
                bucket["tax_refunded"] += net
            else:
                bucket["recovered_value"] += net
        for dims, currency, freight in await self._freight_of_returned_units(orders_with_returns - {None}):
            buckets[(dims[by], currency)]["freight"] += freight
        return [{by: key, "currency": currency, **bucket,
                 "margin_impact": bucket["recovered_value"] - bucket["refunds"] - bucket["freight"]
                 - bucket["return_freight"] + bucket["fees_reversed"]}
                for (key, currency), bucket in sorted(buckets.items(), key=lambda item: (str(item[0][0]),
                                                                                         item[0][1]))]

    async def _freight_of_returned_units(self, order_ids: set[str]) -> list:
        """Per RMA line received: the order's freight for the SKU × units received / units shipped."""
        if not order_ids:
            return []
        freight = defaultdict(dict)
        for order_id, sku, currency, amount in await self.session.execute(
                select(_lines.c.order_id, _lines.c.sku, _lines.c.currency, func.sum(_lines.c.debit - _lines.c.credit))
                .where(_lines.c.account == FREIGHT, _lines.c.order_id.in_(order_ids))
                .group_by(_lines.c.order_id, _lines.c.sku, _lines.c.currency)):
            freight[(order_id, sku)][currency] = _dec(amount)
        orders = await self._orders(order_ids)
        shares = []
        for case_row in await self.session.execute(select(_returns).where(_returns.c.order_id.in_(order_ids))):
            order = orders.get(case_row.order_id)
            for line in json.loads(case_row.lines):
                shipped = order.shipped.get(line["line_id"], 0) if order else 0
                if not (shipped and line.get("received")):
                    continue
                shipped_of_sku = sum(order.shipped.get(sold.line_id, 0) for sold in order.lines.values()
                                     if sold.sku == line["sku"])
                dims = {"sku": line["sku"], "channel": case_row.channel, "reason": case_row.reason}
                for currency, amount in freight.get((case_row.order_id, line["sku"]), {}).items():
                    shares.append((dims, currency, to_minor_unit(
                        amount * min(line["received"], shipped) / shipped_of_sku, currency)))
        return shares

    async def grni(self, po_id: str | None = None, open_only: bool = False, limit: int = 1000) -> dict[str, Any]:
        """Per purchase order, SKU and currency: received, invoiced (at the received cost, and as billed, the
        difference being the price variance) and open; totals per currency over every PO, beside the ledger's
        GRNI account, which must hold exactly what is open."""
        statement = select(_grni).order_by(_grni.c.po_id, _grni.c.sku, _grni.c.currency).limit(limit)
        if po_id is not None:
            statement = statement.where(_grni.c.po_id == po_id)
        if open_only:
            statement = statement.where(_grni.c.received_quantity > _grni.c.invoiced_quantity)
        lines = [{"po_id": row.po_id, "sku": row.sku, "currency": row.currency,
                  "received_quantity": row.received_quantity, "received_value": row.received_value,
                  "invoiced_quantity": row.invoiced_quantity, "invoiced_value": row.invoiced_value,
                  "billed_value": row.billed_value, "price_variance": row.billed_value - row.invoiced_value,
                  "open_quantity": row.received_quantity - row.invoiced_quantity,
                  "open_value": row.received_value - row.invoiced_value}
                 for row in await self.session.execute(statement)]
        ledger = await self._balances(GOODS_RECEIVED_NOT_INVOICED)
        open_values = dict((await self.session.execute(select(
            _grni.c.currency, func.sum(_grni.c.received_value - _grni.c.invoiced_value)).group_by(_grni.c.currency))
                            ).all())
        totals = [{"currency": currency, "open_value": _dec(open_values.get(currency)),
                   "grni_in_ledger": -ledger.get(currency, ZERO),
                   "ledger_agrees": -ledger.get(currency, ZERO) == _dec(open_values.get(currency))}
                  for currency in sorted(set(open_values) | set(ledger))]
        return {"lines": lines, "totals": totals}

    async def _refunds_with_returns(self) -> list[Any]:
        return list(await self.session.execute(
            select(_refunds, _returns.c.rma_id.label("case_rma"), _returns.c.first_received_at,
                   _returns.c.first_inspected_at, _returns.c.received_units, _returns.c.conditions)
            .outerjoin(_returns, _returns.c.rma_id == _refunds.c.rma_id).order_by(_refunds.c.approved_at)))

    async def _orders(self, order_ids) -> dict:
        rows = await self.session.execute(select(_orders).where(_orders.c.order_id.in_(set(order_ids))))
        return {row.order_id: SALE_ORDER.validate_json(row.document) for row in rows}

    async def _balances(self, account: str) -> dict[str, Decimal]:
        rows = await self.session.execute(select(_lines.c.currency, func.sum(_lines.c.debit - _lines.c.credit))
                                          .where(_lines.c.account == account).group_by(_lines.c.currency))
        return {currency: _dec(net) for currency, net in rows}


def _dec(value) -> Decimal:
    return Decimal(value or 0)
