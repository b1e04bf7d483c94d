from datetime import UTC, datetime
from decimal import Decimal

from ecomops_common.contracts.orders import OrderStatus
from ecomops_common.money import MINOR_UNIT_DIGITS, to_minor_unit
from order_service.adapters.fakes import EverySkuKnown
from order_service.domain.lifecycle import IntakePolicy
from order_service.domain.model import GradedVariant, Order, OrderLine

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
EVERY_SKU = EverySkuKnown()


def make_order(**changes) -> Order:
    fields = dict(
        id="o1", channel="web-eu", external_order_id="1", currency="EUR",
        lines=[OrderLine("1", "SKU-RED-M", 3, Decimal("19.99"))],
        shipping_fee=Decimal("4.99"), tax=Decimal("0.00"), payment_amount=Decimal("64.96"),
    )
    fields.update(changes)
    return Order(**fields)


def codes(order: Order) -> set[str]:
    order.screen(IntakePolicy(), NOW, catalog=EVERY_SKU)
    return {rejection.code for rejection in order.rejections}


def test_a_consistent_order_is_received():
    order = make_order()
    order.screen(IntakePolicy(), NOW, catalog=EVERY_SKU)
    assert order.status is OrderStatus.awaiting_allocation
    assert order.rejections == []
    assert order.total == Decimal("64.96")


def test_unknown_currency_rejects():
    assert "unknown_currency" in codes(make_order(currency="XYZ"))


def test_non_positive_quantity_rejects_with_the_line_path():
    order = make_order(lines=[OrderLine("1", "S", 0, Decimal("1.00"))], payment_amount=Decimal("4.99"))
    order.screen(IntakePolicy(), NOW, catalog=EVERY_SKU)
    assert order.status is OrderStatus.rejected
    assert [(r.field, r.code) for r in order.rejections] == [("lines.0.quantity", "non_positive_quantity")]


def test_payment_amount_must_equal_lines_shipping_and_tax():
    order = make_order(payment_amount=Decimal("60.00"))
    order.screen(IntakePolicy(), NOW, catalog=EVERY_SKU)
    (rejection,) = order.rejections
    assert rejection.code == "payment_amount_mismatch"
    assert "64.96" in rejection.message


def test_duplicate_line_ids_and_negative_amounts_reject():
    lines = [OrderLine("1", "A", 1, Decimal("1.00")), OrderLine("1", "B", 1, Decimal("1.00"))]
    assert {"duplicate_line_id", "negative_amount"} <= codes(
        make_order(lines=lines, shipping_fee=Decimal("-1.00"), payment_amount=Decimal("1.00")))


def test_amounts_finer_than_the_currency_allows_reject():
    assert "too_many_decimals" in codes(make_order(currency="JPY"))
    order = make_order(currency="JPY", lines=[OrderLine("1", "S", 2, Decimal("500"))],
                       shipping_fee=Decimal("0"), tax=Decimal("0"), payment_amount=Decimal("1000"))
    assert codes(order) == set()


def test_every_broken_rule_is_reported_at_once():
    order = make_order(currency="XYZ", lines=[OrderLine("1", "S", -2, Decimal("1.00"))])
    assert {"unknown_currency", "non_positive_quantity", "payment_amount_mismatch"} <= codes(order)


def test_intake_accepts_exactly_what_finance_books_without_rounding():
    """One table: an amount intake accepts is already in the minor units finance and returns round to."""
    for currency, digits in MINOR_UNIT_DIGITS.items():
        price = Decimal(7).scaleb(-digits)  # the smallest-unit price: 0.07, 7, 0.007 ...
        accepted = make_order(currency=currency, lines=[OrderLine("1", "S", 1, price)], shipping_fee=Decimal(0),
                              tax=Decimal(0), payment_amount=price)
        assert codes(accepted) == set(), currency
        assert to_minor_unit(price, currency) == price
        finer = price.scaleb(-1)
        refused = make_order(currency=currency, lines=[OrderLine("1", "S", 1, finer)], shipping_fee=Decimal(0),
                             tax=Decimal(0), payment_amount=finer)
        assert "too_many_decimals" in codes(refused), currency


def test_a_graded_variant_is_sold_only_on_its_channels():
    variants = {"SKU-RED-M-B": GradedVariant("SKU-RED-M-B", frozenset({"outlet", "market-fr"}), NOW),
                "SKU-BLUE-OPEN": GradedVariant("SKU-BLUE-OPEN", frozenset(), NOW)}  # no channels: sold everywhere
    lines = [OrderLine("1", "SKU-RED-M", 1, Decimal("10.00")), OrderLine("2", "SKU-RED-M-B", 1, Decimal("5.00")),
             OrderLine("3", "SKU-BLUE-OPEN", 1, Decimal("5.00"))]
    on_web = make_order(lines=lines, shipping_fee=Decimal("0"), payment_amount=Decimal("20.00"))
    on_web.screen(IntakePolicy(), NOW, graded_variants=variants, catalog=EVERY_SKU)
    assert on_web.status is OrderStatus.rejected
    (rejection,) = on_web.rejections
    assert (rejection.field, rejection.code) == ("lines.1.sku", "variant_not_sold_on_channel")
    assert "market-fr, outlet" in rejection.message and "web-eu" in rejection.message

    at_the_outlet = make_order(channel="outlet", lines=lines, shipping_fee=Decimal("0"),
                               payment_amount=Decimal("20.00"))
    at_the_outlet.screen(IntakePolicy(), NOW, graded_variants=variants, catalog=EVERY_SKU)
    assert at_the_outlet.status is OrderStatus.awaiting_allocation and at_the_outlet.rejections == []
