"""Purchasing in the books: the SKU master's unit costs, which replace hand-set ones, and vendor invoices matched
three ways against the goods received (goods receipts post with the other warehouse facts, service_layer/posting.py)."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.errors import Conflict, NotFound
from ecomops_common.handlers import Received
from finance_service.domain.purchasing import (
    CatalogRevision,
    InvoiceLine,
    VendorInvoice,
    catalog_cost,
    cost_to_announce,
    match_invoice,
    newest_revisions,
    post_vendor_invoice,
)
from finance_service.service_layer.journal import post, record_unit_cost
from finance_service.service_layer.unit_of_work import FinanceUnitOfWork

ACTOR_MAX_LENGTH = 128  # what unit_costs.updated_by keeps


class InvoiceIdTaken(Conflict):
    """Another invoice was recorded under this id."""


class InvoiceNotFound(NotFound):
    pass


async def record_catalog_costs(uow: FinanceUnitOfWork, facts: list[Received[SkuChanged]]) -> None:
    """Each SKU's newest revision is applied once: an older or repeated one changes nothing, so no inbox row is
    needed. A cost it states that differs from finance's becomes finance's, stored and announced as
    UnitCostChanged like one set by hand, recorded as set by whoever changed the SKU; facts waiting for it are
    posted by the parked-facts job. A revision without a cost leaves finance's cost, and lets staff set it."""
    revisions = newest_revisions(
        CatalogRevision(m.sku, m.revision, catalog_cost(m.unit_cost, m.currency), m.changed_by, m.changed_at)
        for m in (fact.message for fact in facts))
    applied = await uow.finance.apply_catalog_revisions(revisions)
    current = await uow.finance.unit_costs(applied)
    for revision in revisions:
        cost = cost_to_announce(revision, current.get(revision.sku)) if revision.sku in applied else None
        if cost is not None:
            await record_unit_cost(uow, revision.sku, cost, revision.changed_by[:ACTOR_MAX_LENGTH],
                                   revision.changed_at)
    await uow.commit()


async def record_vendor_invoice(uow: FinanceUnitOfWork, invoice: VendorInvoice, actor: str) -> tuple[Any, bool]:
    """Matches the invoice against its PO's goods received and not invoiced, posts it and records it, once per
    invoice id; returns the recorded invoice and whether it is new. The same invoice sent again answers what was
    recorded; another under a recorded id is refused; one that does not match records nothing."""
    # Locked first: a resend waiting here for the first sending sees it recorded once it may go on.
    balances = await uow.finance.grni_balances(invoice.po_id, {line.sku for line in invoice.lines})
    recorded = await uow.finance.invoice(invoice.invoice_id)
    if recorded is not None:
        if sent_invoice(recorded) != invoice:
            raise InvoiceIdTaken(f"invoice {invoice.invoice_id} is recorded with other content (PO "
                                 f"{recorded.po_id}, vendor {recorded.vendor_id}); another invoice needs its own id")
        return recorded, False
    matched = match_invoice(invoice, balances, await uow.finance.po_vendor(invoice.po_id))
    now = datetime.now(UTC)
    posted = await post(uow, [post_vendor_invoice(invoice, matched, now)], actor, now)
    if not posted:  # the journal keeps one entry per invoice id: another request recorded it meanwhile
        raise InvoiceIdTaken(f"invoice {invoice.invoice_id} was recorded meanwhile by another request")
    await uow.finance.save_invoiced(balances.values())
    await uow.finance.add_invoice(invoice, matched, posted[0], actor, now)
    await uow.commit()
    return await uow.finance.invoice(invoice.invoice_id), True


def sent_invoice(recorded: Any) -> VendorInvoice:
    """The invoice as it was sent, from what was recorded."""
    return VendorInvoice(recorded.invoice_id, recorded.po_id, recorded.vendor_id, recorded.currency, tuple(
        InvoiceLine(line["sku"], line["quantity"], Decimal(line["unit_price"])) for line in json.loads(recorded.lines)))
