"""Posting rules: one balanced journal entry per operational fact. Plain Python, no I/O.

A rule that lacks data it needs (the order's prices, a SKU's unit cost, which order an RMA belongs to) raises
MissingData naming it; the fact waits and is posted when the data arrives, never half. Which accounts each fact
posts to is data (domain/accounts.py).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ecomops_common.money import to_minor_unit
from finance_service.domain.accounts import (
    CARRIER_PAYABLES,
    CLEARING,
    COGS,
    COUNT_GAIN_LOSS,
    FEES_PAYABLE,
    FREIGHT,
    INVENTORY,
    INVENTORY_DISPOSITIONS,
    MARKETPLACE_FEES,
    ORIGINAL_PAYMENT,
    PAYABLE_BY_REFUND_METHOD,
    RECEIVABLE,
    RECEIVABLE_BY_PAYMENT_METHOD,
    REFUNDS_PAYABLE,
    RESTOCKING_FEES,
    RETURN_FREIGHT,
    REVENUE,
    SALES_RETURNS,
    SHIPPING_REVENUE,
    STORE_CREDIT,
    SUPPLIER_RECOVERIES,
    TAX_PAYABLE,
    VENDOR_PAYABLES,
    VENDOR_RECEIVABLE,
    WRITE_OFF,
    WRITE_OFF_DISPOSITIONS,
)
from finance_service.domain.journal import Dimensions, JournalEntry, JournalLine, build_entry, signed_line
from finance_service.domain.money import ZERO, allocate


class MissingData(Exception):
    """The fact cannot be posted yet; `keys` name what it waits for, e.g. order:O-1, cost:SKU-1, rma:R-1."""

    def __init__(self, keys: Sequence[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = list(keys)


class PostingError(Exception):
    """The fact contradicts what finance knows (e.g. a shipped line the order does not have): a person looks."""


@dataclass(frozen=True)
class UnitCost:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ChannelFees:
    """A channel's marketplace fees: its commission on goods revenue, and the share of that commission it gives
    back on goods refunded (both from 0 to 1)."""

    commission_rate: Decimal
    refund_reversal_rate: Decimal

    def commission(self, goods: Decimal, currency: str) -> Decimal:
        return to_minor_unit(self.commission_rate * goods, currency)

    def reversed_commission(self, goods_refunded: Decimal, currency: str) -> Decimal:
        return to_minor_unit(self.refund_reversal_rate * self.commission_rate * goods_refunded, currency)


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ShippedUnits:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    event_id: str
    order_id: str
    lines: tuple[ShippedUnits, ...]
    shipped_at: datetime
    carrier_cost: Decimal | None = None
    carrier_cost_currency: str | None = None


@dataclass
class SaleOrder:
    """What finance knows of an order: prices, what was shipped, what has been recognized, at which cost."""

    order_id: str
    channel: str
    customer_id: str
    currency: str
    payment_method: str
    lines: dict[str, OrderLine]
    shipping_fee: Decimal
    tax: Decimal
    shipped: dict[str, int] = field(default_factory=dict)
    recognized_shipping: Decimal = ZERO
    recognized_tax: Decimal = ZERO
    unit_costs: dict[str, UnitCost] = field(default_factory=dict)  # as posted to COGS, per SKU

    @property
    def goods_total(self) -> Decimal:
        return sum((to_minor_unit(line.unit_price * line.quantity, self.currency) for line in self.lines.values()),
                   ZERO)

    @property
    def paid(self) -> Decimal:
        """What the customer paid for the order: its total (the order service refuses an order whose payment is
        of another amount, and ships only once the payment is authorized); nothing for an exchange's
        replacement order."""
        if RECEIVABLE_BY_PAYMENT_METHOD.get(self.payment_method, CLEARING) is None:
            return ZERO
        return self.goods_total + self.shipping_fee + self.tax

    def ship(self, shipment: Shipment, costs: Mapping[str, UnitCost], fees: ChannelFees | None = None,
             ) -> JournalEntry:
        """Revenue, shipping fee and tax shares against what the customer owes; cost of the units against
        inventory; the carrier's charge as freight; the channel's commission on the goods revenue (its fees, if
        it has any). Shares of the fee and tax are pro rata to the goods value; the shipment that completes the
        order takes what is left, so the parts add up to the order."""
        unknown = [units.line_id for units in shipment.lines if units.line_id not in self.lines]
        if unknown:
            raise PostingError(f"order {self.order_id} has no line {', '.join(unknown)}")
        missing = sorted({f"cost:{u.sku}" for u in shipment.lines if u.sku not in costs})
        if missing:
            raise MissingData(missing)
        for units in shipment.lines:
            self.shipped[units.line_id] = self.shipped.get(units.line_id, 0) + units.quantity
        complete = all(self.shipped.get(line_id, 0) >= line.quantity for line_id, line in self.lines.items())
        revenue = [to_minor_unit(self.lines[u.line_id].unit_price * u.quantity, self.currency) for u in shipment.lines]
        shipping = self._share(self.shipping_fee, self.recognized_shipping, sum(revenue, ZERO), complete)
        tax = self._share(self.tax, self.recognized_tax, sum(revenue, ZERO), complete)
        self.recognized_shipping += shipping
        self.recognized_tax += tax

        order_dims = Dimensions(order_id=self.order_id, channel=self.channel)
        lines: list[JournalLine] = []
        owed_on = RECEIVABLE_BY_PAYMENT_METHOD.get(self.payment_method, CLEARING)
        if owed_on is not None:
            lines.append(signed_line(owed_on, sum(revenue, ZERO) + shipping + tax, self.currency, order_dims))
            lines += [signed_line(REVENUE, -amount, self.currency, _with_sku(order_dims, u.sku))
                      for u, amount in zip(shipment.lines, revenue, strict=True)]
            lines.append(signed_line(SHIPPING_REVENUE, -shipping, self.currency, order_dims))
            lines.append(signed_line(TAX_PAYABLE, -tax, self.currency, order_dims))
            if fees is not None:
                commission = fees.commission(sum(revenue, ZERO), self.currency)
                lines += [signed_line(MARKETPLACE_FEES, commission, self.currency, order_dims, "commission"),
                          signed_line(FEES_PAYABLE, -commission, self.currency, order_dims, "commission")]
        for units in shipment.lines:
            cost = costs[units.sku]
            self.unit_costs.setdefault(units.sku, cost)
            amount = to_minor_unit(cost.amount * units.quantity, cost.currency)
            dims = _with_sku(order_dims, units.sku)
            lines += [signed_line(COGS, amount, cost.currency, dims),
                      signed_line(INVENTORY, -amount, cost.currency, dims)]
        if shipment.carrier_cost and shipment.carrier_cost_currency:
            currency = shipment.carrier_cost_currency
            freight = allocate(to_minor_unit(shipment.carrier_cost, currency), [u.quantity for u in shipment.lines],
                               currency)
            lines += [signed_line(FREIGHT, amount, currency, _with_sku(order_dims, u.sku))
                      for u, amount in zip(shipment.lines, freight, strict=True)]
            lines.append(signed_line(CARRIER_PAYABLES, -sum(freight, ZERO), currency, order_dims))
        return build_entry("shipment", shipment.event_id, shipment.shipped_at, lines,
                           description=f"order {self.order_id} shipped", dims=order_dims)

    def _share(self, total: Decimal, recognized: Decimal, goods: Decimal, complete: bool) -> Decimal:
        left = total - recognized
        if complete or self.goods_total <= 0:
            return left
        return min(left, to_minor_unit(total * goods / self.goods_total, self.currency))

    def unit_cost(self, sku: str, costs: Mapping[str, UnitCost]) -> UnitCost:
        """The cost the SKU was sold at, so a return puts back what the sale took out; else today's."""
        if sku in self.unit_costs:
            return self.unit_costs[sku]
        if sku in costs:
            return costs[sku]
        raise MissingData([f"cost:{sku}"])


@dataclass(frozen=True)
class DispositionApplied:
    event_id: str
    rma_id: str
    sku: str
    quantity: int
    disposition: str
    applied_at: datetime


def post_disposition(fact: DispositionApplied, order: SaleOrder, reason: str | None, costs: Mapping[str, UnitCost],
                     ) -> JournalEntry:
    """Returned units leave cost of goods sold: back into inventory at the cost they were sold at (units to
    liquidate too, until they are sold: post_recovery_write_off), or written off when scrapped."""
    cost = order.unit_cost(fact.sku, costs)
    amount = to_minor_unit(cost.amount * fact.quantity, cost.currency)
    dims = Dimensions(order.order_id, fact.rma_id, fact.sku, order.channel, reason)
    lines = [signed_line(COGS, -amount, cost.currency, dims)]
    if fact.disposition in INVENTORY_DISPOSITIONS:
        lines.append(signed_line(INVENTORY, amount, cost.currency, dims))
    elif fact.disposition in WRITE_OFF_DISPOSITIONS:
        lines.append(signed_line(WRITE_OFF, amount, cost.currency, dims))
    else:
        raise PostingError(f"no posting rule for disposition {fact.disposition}")
    return build_entry("disposition", fact.event_id, fact.applied_at, lines,
                       description=f"{fact.quantity} × {fact.sku} of {fact.rma_id}: {fact.disposition}", dims=dims)


@dataclass(frozen=True)
class StockAdjustment:
    event_id: str
    sku: str
    node: str
    quantity: int  # signed: found (+) or lost (−)
    adjusted_at: datetime


def post_stock_adjustment(fact: StockAdjustment, costs: Mapping[str, UnitCost]) -> JournalEntry:
    if fact.sku not in costs:
        raise MissingData([f"cost:{fact.sku}"])
    cost = costs[fact.sku]
    amount = to_minor_unit(cost.amount * fact.quantity, cost.currency)
    dims = Dimensions(sku=fact.sku)
    return build_entry("stock_adjustment", fact.event_id, fact.adjusted_at, [
        signed_line(INVENTORY, amount, cost.currency, dims), signed_line(COUNT_GAIN_LOSS, -amount, cost.currency, dims),
    ], description=f"count at {fact.node}: {fact.quantity:+d} × {fact.sku}", dims=dims)


@dataclass(frozen=True)
class RecoveryMove:
    """Returned units leaving a recovery status (refurbish, quarantined, vendor_return, liquidation): off the
    books when `to_status` is None (liquidated, shipped to the vendor, scrapped), else to another status, possibly
    as a graded variant SKU (`to_sku`)."""

    action_id: str
    action: str
    sku: str
    quantity: int
    to_status: str | None
    occurred_at: datetime
    to_sku: str | None = None
    proceeds: Decimal | None = None
    proceeds_currency: str | None = None
    reference: str | None = None


def post_recovery_write_off(move: RecoveryMove, costs: Mapping[str, UnitCost]) -> JournalEntry | None:
    """Units that leave the books are written off at the SKU's cost, less what the liquidator owes for them (a
    gain when the proceeds exceed the cost shows as a credit to write-off); units that stay post nothing."""
    if move.to_status is not None:
        return None
    if move.sku not in costs:
        raise MissingData([f"cost:{move.sku}"])
    cost = costs[move.sku]
    amount = to_minor_unit(cost.amount * move.quantity, cost.currency)
    currency = move.proceeds_currency or cost.currency
    proceeds = to_minor_unit(move.proceeds or ZERO, currency)
    if proceeds < 0:
        raise PostingError(f"recovery {move.action_id}: negative proceeds {proceeds}")
    dims = Dimensions(sku=move.sku)
    # netted per currency, so proceeds in the cost's currency make one write-off line and the entry balances
    # per currency whatever the liquidator pays in
    written_off = {cost.currency: amount}
    written_off[currency] = written_off.get(currency, ZERO) - proceeds
    lines = [signed_line(WRITE_OFF, net, written_off_currency, dims, move.action)
             for written_off_currency, net in written_off.items()]
    lines += [signed_line(RECEIVABLE, proceeds, currency, dims, "liquidation"),
              signed_line(INVENTORY, -amount, cost.currency, dims)]
    reference = f" ({move.reference})" if move.reference else ""
    return build_entry("recovery", move.action_id, move.occurred_at, lines,
                       description=f"{move.quantity} × {move.sku} {move.action}{reference}", dims=dims)


def variant_cost(move: RecoveryMove, costs: Mapping[str, UnitCost]) -> UnitCost | None:
    """A regrade into a variant SKU that has no cost yet: the variant takes the base SKU's cost (None when
    there is nothing to set)."""
    if move.to_status is None or move.to_sku is None or move.to_sku == move.sku or move.to_sku in costs:
        return None
    if move.sku not in costs:
        raise MissingData([f"cost:{move.sku}"])
    return costs[move.sku]


@dataclass(frozen=True)
class RefundComponent:
    line_id: str
    kind: str  # goods, partial_refund, restocking_fee_<grade>, shipping, tax, cap
    amount: Decimal  # signed: fees and caps are negative


def post_refund_approved(refund_id: str, order_id: str, rma_id: str, channel: str, reason: str, currency: str,
                         skus: Mapping[str, str], breakdown: Sequence[RefundComponent], amount: Decimal,
                         approved_at: datetime, *, method: str = ORIGINAL_PAYMENT,
                         fees: ChannelFees | None = None) -> JournalEntry:
    """The approved refund becomes a liability (refunds payable, or store credit when paid as such): goods (less
    agreed reductions and caps) to sales returns, the shipping share back out of shipping revenue, the tax share
    out of sales tax payable, restocking fees kept as income, and the channel's commission on the goods given
    back as its fees rule says."""
    if sum((c.amount for c in breakdown), ZERO) != amount:
        raise PostingError(f"refund {refund_id}: breakdown does not add up to {amount}")
    lines: list[JournalLine] = []
    for line_id in dict.fromkeys(c.line_id for c in breakdown):
        parts = [c for c in breakdown if c.line_id == line_id]
        dims = Dimensions(order_id, rma_id, skus.get(line_id), channel, reason)
        fees_kept = sum((c.amount for c in parts if c.kind.startswith("restocking_fee")), ZERO)
        shipping = sum((c.amount for c in parts if c.kind == "shipping"), ZERO)
        tax = sum((c.amount for c in parts if c.kind == "tax"), ZERO)
        goods = sum((c.amount for c in parts if c.kind in ("goods", "partial_refund", "cap")), ZERO)
        if goods < 0:  # a cap larger than the goods share comes off the shipping share
            shipping, goods = shipping + goods, ZERO
        lines += [signed_line(SALES_RETURNS, goods, currency, dims),
                  signed_line(SHIPPING_REVENUE, shipping, currency, dims),
                  signed_line(TAX_PAYABLE, tax, currency, dims, "tax refunded"),
                  signed_line(RESTOCKING_FEES, fees_kept, currency, dims, "restocking fee")]
        if fees is not None:
            commission = fees.reversed_commission(goods, currency)
            lines += [signed_line(FEES_PAYABLE, commission, currency, dims, "commission reversed"),
                      signed_line(MARKETPLACE_FEES, -commission, currency, dims, "commission reversed")]
    refund_dims = Dimensions(order_id, rma_id, None, channel, reason)
    lines.append(signed_line(PAYABLE_BY_REFUND_METHOD.get(method, REFUNDS_PAYABLE), -amount, currency, refund_dims,
                             method))
    return build_entry("refund_approved", refund_id, approved_at, lines,
                       description=f"refund {refund_id} of {rma_id} approved ({method})", dims=refund_dims)


def post_refund_issued(refund_id: str, order_id: str, rma_id: str, channel: str, reason: str, currency: str,
                       amount: Decimal, provider_reference: str, issued_at: datetime) -> JournalEntry:
    dims = Dimensions(order_id, rma_id, None, channel, reason)
    return build_entry("refund_issued", refund_id, issued_at, [
        signed_line(REFUNDS_PAYABLE, amount, currency, dims),
        signed_line(CLEARING, -amount, currency, dims, provider_reference),
    ], description=f"refund {refund_id} of {rma_id} paid out ({provider_reference})", dims=dims)


def post_return_freight(event_id: str, rma_id: str, order_id: str, channel: str, reason: str | None, sku: str,
                        cost: Decimal, currency: str, received_at: datetime) -> JournalEntry:
    """The return label the retailer paid: return freight owed to the carrier."""
    amount = to_minor_unit(cost, currency)
    if amount < 0:
        raise PostingError(f"return label of {rma_id}: negative cost {amount}")
    dims = Dimensions(order_id, rma_id, sku, channel, reason)
    return build_entry("return_freight", event_id, received_at, [
        signed_line(RETURN_FREIGHT, amount, currency, dims), signed_line(CARRIER_PAYABLES, -amount, currency, dims),
    ], description=f"return label of {rma_id}", dims=Dimensions(order_id, rma_id, None, channel, reason))


ACCEPTED_CLAIM_STATUSES = frozenset({"accepted", "partially_accepted"})
CLAIM_ACCEPTED = "vendor_claim_accepted"  # the kind of a claim's acceptance entry


@dataclass(frozen=True)
class VendorClaim:
    """A vendor claim as the returns service reports it at one step."""

    claim_id: str
    vendor_id: str
    status: str
    currency: str | None
    accepted_amount: Decimal | None
    credited_amount: Decimal | None
    credit_reference: str | None
    at: datetime


def post_vendor_claim(claim: VendorClaim, receivable: Decimal | None = None) -> list[JournalEntry]:
    """Accepted (wholly or partly): the vendor owes the accepted amount, a supplier recovery. Credited: the
    vendor's credit note reduces what we owe the vendor and settles the receivable (`receivable`: what the
    claim's acceptance posted, None if it has not been posted); what was accepted and not credited comes back out
    of the recoveries. One entry per step and claim (the journal keeps each once; accepted and partially accepted
    are one step), so a credited claim whose acceptance was never seen posts both. Other steps post nothing."""
    if claim.status not in ACCEPTED_CLAIM_STATUSES and claim.status != "credited":
        return []
    accepted = claim.accepted_amount if claim.accepted_amount is not None else claim.credited_amount or ZERO
    credited = claim.credited_amount or ZERO
    if not (accepted or credited or receivable):
        return []
    if claim.currency is None:
        raise PostingError(f"vendor claim {claim.claim_id} has amounts but no currency")
    currency, memo = claim.currency, f"vendor {claim.vendor_id} claim {claim.claim_id}"
    accepted, credited = to_minor_unit(accepted, currency), to_minor_unit(credited, currency)
    if accepted < 0 or credited < 0:
        raise PostingError(f"vendor claim {claim.claim_id}: negative amounts")
    entries = []
    if receivable is None:
        receivable = accepted
        entries.append(build_entry(CLAIM_ACCEPTED, claim.claim_id, claim.at, [
            signed_line(VENDOR_RECEIVABLE, accepted, currency, memo=memo),
            signed_line(SUPPLIER_RECOVERIES, -accepted, currency, memo=memo),
        ], description=f"{memo} accepted"))
    if claim.status == "credited":
        note = f" ({claim.credit_reference})" if claim.credit_reference else ""
        entries.append(build_entry("vendor_claim_credited", claim.claim_id, claim.at, [
            signed_line(VENDOR_PAYABLES, credited, currency, memo=f"{memo}{note}"),
            signed_line(VENDOR_RECEIVABLE, -receivable, currency, memo=memo),
            signed_line(SUPPLIER_RECOVERIES, receivable - credited, currency, memo=memo),
        ], description=f"{memo} credited{note}"))
    return entries


def post_store_credit_payment(kind: str, order_id: str, channel: str, amount: Decimal, currency: str,
                              at: datetime) -> JournalEntry:
    """An order paid with store credit, `redeemed`: the liability to the customer pays what the customer will owe
    for it; or cancelled after that, `restored`: the credit is the customer's again."""
    signed = amount if kind == "redeemed" else -amount
    dims = Dimensions(order_id, channel=channel)
    return build_entry(f"store_credit_{kind}", order_id, at, [
        signed_line(STORE_CREDIT, signed, currency, dims), signed_line(RECEIVABLE, -signed, currency, dims),
    ], description=f"order {order_id}: store credit {kind}", dims=dims)


def _with_sku(dims: Dimensions, sku: str) -> Dimensions:
    return Dimensions(dims.order_id, dims.rma_id, sku, dims.channel, dims.reason)
