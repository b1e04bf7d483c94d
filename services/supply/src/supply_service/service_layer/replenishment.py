"""Replenishment: each SKU×node's net demand forecast and position become a suggestion with its explanation;
buyers turn the due suggestions of a node into draft purchase orders, one per vendor (and currency). Past demand
can be loaded for SKUs whose history predates the service."""

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ecomops_common.contracts.types import MAX_LINE_QUANTITY
from ecomops_common.errors import FieldProblem, Invalid
from supply_service.domain.purchase_orders import PurchaseOrder
from supply_service.domain.replenishment import OrderRules, Position, ServiceTargets, Suggestion, forecast_of, suggest
from supply_service.service_layer import purchase_orders
from supply_service.service_layer.purchase_orders import DISCONTINUED, LineRequest
from supply_service.service_layer.unit_of_work import SupplyUnitOfWork


class InvalidHistory(Invalid):
    code = "invalid_history"


@dataclass(frozen=True)
class Planning:
    """The settings a suggestion is made with."""

    targets: ServiceTargets
    history_days: int


@dataclass(frozen=True)
class SkuSuggestion:
    sku: str
    node: str
    vendor_id: str | None
    vendor_sku: str | None
    unit_cost: Decimal | None
    currency: str | None
    lead_time_days: int
    suggestion: Suggestion


@dataclass(frozen=True)
class HistoryDay:
    sku: str
    day: date
    shipped: int
    restocked: int = 0


async def load_history(uow: SupplyUnitOfWork, node: str, days: Sequence[HistoryDay]) -> int:
    """Each day's shipped and restocked units replace what that SKU×node's day held (loading a file twice loads it
    once). Days in the future, and a SKU's day given twice, are refused naming them."""
    today = datetime.now(UTC).date()
    problems, seen = [], {}
    for n, day in enumerate(days):
        if day.day > today:
            problems.append(FieldProblem(f"days.{n}.date", f"{day.day.isoformat()} is in the future"))
        if (day.sku, day.day) in seen:
            problems.append(FieldProblem(f"days.{n}", f"{day.sku} on {day.day.isoformat()} is days."
                                                      f"{seen[(day.sku, day.day)]} already"))
        seen.setdefault((day.sku, day.day), n)
    if problems:
        raise InvalidHistory(problems)
    if days:
        await uow.supply.set_demand([{"sku": d.sku, "node": node, "day": d.day, "shipped": d.shipped,
                                      "restocked": d.restocked} for d in days])
    await uow.commit()
    return len(days)


async def suggestions(uow: SupplyUnitOfWork, planning: Planning, node: str | None = None,
                      vendor_id: str | None = None, skus: Iterable[str] | None = None) -> list[SkuSuggestion]:
    """Every SKU×node with demand, stock or units on order (of one node, vendor or set of SKUs), in SKU and node
    order. A SKU the catalog does not know has no vendor and the default lead time."""
    today = datetime.now(UTC).date()
    wanted = None if skus is None else set(skus)
    if vendor_id is not None:
        vendors_skus = set(await uow.supply.skus(vendor_id=vendor_id))
        wanted = vendors_skus if wanted is None else wanted & vendors_skus
    demand = await uow.supply.demand(today - timedelta(days=planning.history_days - 1), node, wanted)
    stock = await uow.supply.stock(node, wanted)
    on_order = await uow.supply.on_order(node, wanted)
    pairs = sorted({*demand, *stock, *on_order})
    catalog = await uow.supply.skus({sku for sku, _ in pairs})

    def suggest_each() -> list[SkuSuggestion]:
        found = []
        for sku, at in pairs:
            terms = catalog.get(sku, {})
            net = {day: shipped - restocked for day, (shipped, restocked) in demand.get((sku, at), {}).items()}
            on_hand, reserved = stock.get((sku, at), (0, 0))
            rules = OrderRules(terms.get("lead_time_days"), terms.get("min_order_quantity", 1),
                               terms.get("case_pack", 1),
                               replenished=not terms.get("is_bundle") and terms.get("status") != DISCONTINUED)
            suggestion = suggest(forecast_of(net, today, planning.history_days),
                                 Position(on_hand, reserved, on_order.get((sku, at), 0)), rules, planning.targets)
            lead_time = planning.targets.default_lead_time_days if rules.lead_time_days is None \
                else rules.lead_time_days
            found.append(SkuSuggestion(sku, at, terms.get("vendor_id"), terms.get("vendor_sku"),
                                       terms.get("unit_cost"), terms.get("currency"), lead_time, suggestion))
        return found

    # Fitting takes milliseconds per SKU×node: off the event loop, so consumers and other requests go on meanwhile.
    return await asyncio.to_thread(suggest_each)


async def draft_purchase_orders(uow: SupplyUnitOfWork, planning: Planning, node: str, actor: str,
                                vendor_id: str | None = None,
                                skus: Iterable[str] | None = None) -> tuple[list[PurchaseOrder], list[dict[str, str]]]:
    """The node's due suggestions as draft purchase orders, one per vendor and currency, each line expected after
    its lead time; the SKUs left out, each with why (no vendor or cost in the catalog, nothing due)."""
    today = datetime.now(UTC).date()
    groups: dict[tuple[str, str], list[SkuSuggestion]] = {}
    skipped = []
    considered = await suggestions(uow, planning, node, vendor_id, skus)
    for found in considered:
        if found.suggestion.quantity == 0:
            if skus is not None:  # asked for by name: say why not
                skipped.append({"sku": found.sku, "reason": str(found.suggestion.explanation["why"])})
        elif found.suggestion.quantity > MAX_LINE_QUANTITY:
            skipped.append({"sku": found.sku, "reason": f"{found.suggestion.quantity} units suggested: more than a "
                                                        f"line carries ({MAX_LINE_QUANTITY}), order by hand"})
        elif found.vendor_id is None:
            skipped.append({"sku": found.sku, "reason": "no vendor in the catalog"})
        elif found.unit_cost is None or found.currency is None:
            skipped.append({"sku": found.sku, "reason": "no unit cost in the catalog"})
        else:
            groups.setdefault((found.vendor_id, found.currency), []).append(found)
    unheard_of = sorted(set(skus or ()) - {found.sku for found in considered})
    skipped += [{"sku": sku, "reason": f"no demand, stock or units on order at {node}"
                 + (f" of vendor {vendor_id}" if vendor_id else "")} for sku in unheard_of]
    orders = []
    for (vendor, currency), lines in sorted(groups.items()):
        requests = [LineRequest(line.sku, line.suggestion.quantity, line.unit_cost, line.vendor_sku,
                                today + timedelta(days=line.lead_time_days)) for line in lines]
        orders.append(await purchase_orders.create(
            uow, vendor, node, currency, max(request.expected_date for request in requests), requests, actor,
            note="suggested by replenishment"))
    return orders, skipped
