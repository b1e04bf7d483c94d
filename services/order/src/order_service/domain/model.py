"""The order as the order service sees it at intake. Plain Python: no framework, no I/O."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ecomops_common.contracts.orders import HoldReason, OrderStatus
from ecomops_common.contracts.types import MAX_LINE_QUANTITY
from ecomops_common.money import MINOR_UNIT_DIGITS
from order_service.domain.catalog import CatalogSku, UnknownSkuAction, apportion, unorderable_skus
from order_service.domain.lifecycle import (
    STORE_CREDIT,
    STORE_CREDIT_WAIT,
    IntakePolicy,
    OrderState,
    Transition,
    intake_holds,
)

ADDRESS_PARTS = ("name", "line1", "city", "postal_code", "country")  # what a carrier label needs
MAX_PLACED_LINES = 500  # OrderPlaced.lines
MAX_COMPONENT_LINES = 100  # PlacedBundle.component_line_ids
MAX_LINE_ID_LENGTH = 64  # ChannelOrderLine.line_id


def address_complete(address: object) -> bool:
    """A carrier label can be printed: every part the label needs is there (else the order waits on a hold)."""
    return all(getattr(address, part, None) for part in ADDRESS_PARTS)


@dataclass(frozen=True)
class Rejection:
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class GradedVariant:
    """A graded or open-box variant of a SKU, as the warehouse defined it last: only its channels may sell it."""

    sku: str
    channels: frozenset[str]  # empty: every channel
    defined_at: datetime

    def sold_on(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None
    final_sale: bool = False

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class BundleLine:
    """A bundle line as the channel sold it; the order is placed with its component lines instead."""

    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    component_line_ids: tuple[str, ...]


@dataclass
class Order:
    id: str
    channel: str
    external_order_id: str
    currency: str
    lines: list[OrderLine]
    shipping_fee: Decimal
    tax: Decimal
    payment_amount: Decimal
    payment_status: str = "authorized"
    payment_method: str | None = None
    fraud_score: int | None = None
    address_complete: bool = True
    rejections: list[Rejection] = field(default_factory=list)
    state: OrderState | None = None
    # As placed (screen): bundles as their components, with the catalog's category and final_sale where it knows
    # the SKU; `awaited_skus`: on inventory hold, the SKUs the catalog must know (active) for the hold to go.
    placed_lines: list[OrderLine] = field(default_factory=list)
    bundles: list[BundleLine] = field(default_factory=list)
    awaited_skus: frozenset[str] = frozenset()

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0)) + self.shipping_fee + self.tax

    @property
    def status(self) -> OrderStatus:
        return self.state.status if self.state else OrderStatus.received

    @property
    def pays_with_store_credit(self) -> bool:
        return self.payment_method == STORE_CREDIT

    def screen(self, policy: IntakePolicy, at: datetime, placed_by: str | None = None,
               graded_variants: Mapping[str, GradedVariant] | None = None,
               catalog: Mapping[str, CatalogSku] | None = None,
               unknown_sku_action: UnknownSkuAction | None = None) -> None:
        """Intake: rejected with every broken rule, else on hold (payment, fraud, address, unknown SKUs) or ready.
        `placed_by`: who placed the order over HTTP (the token's subject); from the topic, the channel.
        `graded_variants`, `catalog`: what is known of the order's SKUs (and a bundle's components), by SKU.
        `unknown_sku_action`: the channel's policy for SKUs the catalog does not know or discontinued (the
        policy's default if None)."""
        catalog = {} if catalog is None else catalog
        self.state = OrderState(self.id, OrderStatus.received, payment_method=self.payment_method)
        self.state.changes.append(Transition(None, OrderStatus.received, placed_by or f"channel:{self.channel}",
                                             None, at))
        self.rejections = business_rule_violations(self, graded_variants or {})
        # The channel can neither authorize nor fail store credit: it waits for finance whatever the channel says.
        payment_status = "pending" if self.pays_with_store_credit else self.payment_status
        if payment_status == "failed":
            self.rejections.append(Rejection("payment.status", "payment_failed", "the payment failed"))
        unknown = {index: skus for index, line in enumerate(self.lines)
                   if (skus := unorderable_skus(line.sku, catalog))}
        holding = (unknown_sku_action or policy.unknown_sku_action) is UnknownSkuAction.hold
        if not holding:
            self.rejections += [Rejection(f"lines.{index}.sku", "unknown_sku",
                                          f"{', '.join(skus)} unknown to the catalog or discontinued")
                                for index, skus in unknown.items()]
        if not self.rejections:
            self.placed_lines, self.bundles, self.rejections = place_lines(
                self.lines, catalog, MINOR_UNIT_DIGITS[self.currency])
        if self.rejections:
            self.state.move(OrderStatus.rejected, "system", ", ".join(r.code for r in self.rejections), at)
            return
        holds = intake_holds(policy, payment_status, self.fraud_score, self.address_complete)
        notes = [STORE_CREDIT_WAIT] if self.pays_with_store_credit else []
        if unknown:
            holds.add(HoldReason.inventory_hold)
            self.awaited_skus = frozenset(line.sku for line in self.placed_lines)
            notes.append("waiting for the catalog to know " + ", ".join(sorted({sku for skus in unknown.values()
                                                                                  for sku in skus})))
        self.state.hold(holds, "system", at, "; ".join(notes) or None)


def place_lines(lines: list[OrderLine], catalog: Mapping[str, CatalogSku],
                minor_digits: int) -> tuple[list[OrderLine], list[BundleLine], list[Rejection]]:
    """The lines as the order is placed: a bundle line as one line `<line_id>.<n>` per component (per part of the
    last component, see catalog.apportion) for its quantity times the component's, the bundle's unit price
    apportioned over them; every SKU the catalog knows with its category and final_sale. The rejections where
    that does not fit the order's contract (lines, line ids, quantities)."""
    placed: list[OrderLine] = []
    bundles: list[BundleLine] = []
    problems: list[Rejection] = []
    for index, line in enumerate(lines):
        entry = catalog.get(line.sku)
        if entry is None or not entry.is_bundle:
            placed.append(_with_catalog_flags(line, line.line_id, line.sku, line.quantity, line.unit_price, entry))
            continue
        costs = [(c.quantity, catalog[c.sku].unit_cost if c.sku in catalog else None) for c in entry.components]
        components = [(component.sku, units, unit_price)
                      for component, parts in zip(entry.components, apportion(line.unit_price, costs, minor_digits),
                                                  strict=True)
                      for units, unit_price in parts]
        ids = tuple(f"{line.line_id}.{number}" for number in range(1, len(components) + 1))
        placed += [_with_catalog_flags(line, line_id, sku, line.quantity * units, unit_price, catalog.get(sku))
                   for line_id, (sku, units, unit_price) in zip(ids, components, strict=True)]
        bundles.append(BundleLine(line.line_id, line.sku, line.quantity, line.unit_price, ids))
        if len(ids) > MAX_COMPONENT_LINES:
            problems.append(Rejection(f"lines.{index}.sku", "too_many_lines",
                                      f"bundle {line.sku} would be placed as {len(ids)} component lines, more than "
                                      f"{MAX_COMPONENT_LINES}"))
        if len(ids[-1]) > MAX_LINE_ID_LENGTH:
            problems.append(Rejection(f"lines.{index}.line_id", "line_id_too_long",
                                      f"component line id {ids[-1]!r} of bundle {line.sku} would be longer than "
                                      f"{MAX_LINE_ID_LENGTH} characters"))
        if line.quantity * max(units for _, units, _ in components) > MAX_LINE_QUANTITY:
            problems.append(Rejection(f"lines.{index}.quantity", "quantity_too_large",
                                      f"bundle {line.sku} would be placed with more than {MAX_LINE_QUANTITY} units "
                                      f"of a component"))
    if len(placed) > MAX_PLACED_LINES:
        problems.append(Rejection("lines", "too_many_lines", f"with its bundles as their components the order "
                                                             f"would have {len(placed)} lines, more than "
                                                             f"{MAX_PLACED_LINES}"))
    for line_id, count in Counter(line.line_id for line in placed).items():
        if count > 1:
            problems.append(Rejection("lines", "duplicate_line_id",
                                      f"line_id {line_id!r} of a bundle's component is also another line's"))
    return placed, bundles, problems


def _with_catalog_flags(sold: OrderLine, line_id: str, sku: str, quantity: int, unit_price: Decimal,
                        entry: CatalogSku | None) -> OrderLine:
    """A placed line: the catalog's category and final_sale when it knows the SKU, else the sold line's."""
    category, final_sale = (entry.category, entry.final_sale) if entry else (sold.category, sold.final_sale)
    return OrderLine(line_id, sku, quantity, unit_price, category, final_sale)


def business_rule_violations(order: Order, graded_variants: Mapping[str, GradedVariant]) -> list[Rejection]:
    problems: list[Rejection] = []
    minor_units = MINOR_UNIT_DIGITS.get(order.currency)
    if minor_units is None:
        problems.append(Rejection("currency", "unknown_currency", f"{order.currency} is not an ISO 4217 currency"))
    for index, line in enumerate(order.lines):
        if line.quantity <= 0:
            problems.append(Rejection(f"lines.{index}.quantity", "non_positive_quantity",
                                      f"quantity must be at least 1, got {line.quantity}"))
        if line.unit_price < 0:
            problems.append(Rejection(f"lines.{index}.unit_price", "negative_amount", "unit price is negative"))
        variant = graded_variants.get(line.sku)
        if variant is not None and not variant.sold_on(order.channel):
            problems.append(Rejection(f"lines.{index}.sku", "variant_not_sold_on_channel",
                                      f"{line.sku} is a graded variant sold only on "
                                      f"{', '.join(sorted(variant.channels))}, not on {order.channel}"))
    for line_id, count in Counter(line.line_id for line in order.lines).items():
        if count > 1:
            problems.append(Rejection("lines", "duplicate_line_id", f"line_id {line_id!r} appears {count} times"))
    for name in ("shipping_fee", "tax", "payment_amount"):
        if getattr(order, name) < 0:
            problems.append(Rejection(_field_name(name), "negative_amount", f"{name} is negative"))
    if minor_units is not None:
        for name, amount in _amounts(order):
            if amount.as_tuple().exponent < -minor_units:
                problems.append(Rejection(name, "too_many_decimals",
                                          f"{order.currency} has {minor_units} decimal places, got {amount}"))
    if order.payment_amount != order.total:
        problems.append(Rejection("payment.amount", "payment_amount_mismatch",
                                  f"payment amount {order.payment_amount} does not equal lines + shipping + tax"
                                  f" = {order.total}"))
    return problems


def _field_name(attribute: str) -> str:
    return "payment.amount" if attribute == "payment_amount" else attribute


def _amounts(order: Order):
    yield "shipping_fee", order.shipping_fee
    yield "tax", order.tax
    yield "payment.amount", order.payment_amount
    for index, line in enumerate(order.lines):
        yield f"lines.{index}.unit_price", line.unit_price
