"""Supplier recovery: finance's unit costs and vendor claims from the first defective unit graded to the vendor's
credit note. Every change of a claim publishes it whole (VendorClaimChanged), in the transaction that made it."""

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from ecomops_common.contracts import RETURNS_EVENTS
from ecomops_common.contracts.finance import UnitCostChanged
from ecomops_common.contracts.returns import VendorClaimChanged, VendorClaimLine
from ecomops_common.envelope import new_event
from ecomops_common.errors import NotFound
from ecomops_common.handlers import Received
from ecomops_common.ids import new_id
from returns_service.domain.rma import Inspection, Rma
from returns_service.domain.vendor_claims import ClaimLine, ClaimRule, VendorClaim, claim_line, new_claim
from returns_service.service_layer.unit_of_work import SOURCE, ReturnsUnitOfWork


class ClaimNotFound(NotFound):
    pass


async def record_unit_costs(uow: ReturnsUnitOfWork, changes: list[Received[UnitCostChanged]]) -> None:
    """finance.events.v1: each SKU's latest cost. An upsert that keeps the newest change, so a redelivery or an
    older change arriving late changes nothing and no inbox row is needed."""
    latest: dict[str, UnitCostChanged] = {}
    for change in (received.message for received in changes):
        if change.sku not in latest or change.at >= latest[change.sku].at:
            latest[change.sku] = change
    await uow.returns.put_unit_costs([{"sku": c.sku, "amount": c.amount, "currency": c.currency, "at": c.at}
                                      for c in latest.values()])
    await uow.commit()


async def claim_defects(uow: ReturnsUnitOfWork, inspected: Iterable[tuple[Rma, Inspection]], rule: ClaimRule,
                        at: datetime) -> None:
    """Inspected units the claim rule names (the RMA's reason, the unit's grade), of a SKU with a vendor, join the
    vendor's draft claim (a new one when it has none), with their evidence and the SKU's cost when known. The
    caller commits. An inspection already on the draft adds nothing."""
    matching = [(rma, inspection) for rma, inspection in inspected if rule.matches(rma.reason, inspection.grade)]
    if not matching:
        return
    vendors = await uow.returns.sku_vendors({inspection.sku for _, inspection in matching})
    costs = await uow.returns.unit_costs(vendors)
    lines: dict[str, list[tuple[ClaimLine, str]]] = {}
    for rma, inspection in matching:
        if (vendor := vendors.get(inspection.sku)) is not None:
            line = claim_line(rma, inspection, vendor["vendor_sku"], costs.get(inspection.sku))
            lines.setdefault(vendor["vendor_id"], []).append((line, inspection.inspector))
    for vendor_id in sorted(lines):  # drafts locked in vendor order, so concurrent batches never deadlock
        claim = await uow.returns.draft_claim(vendor_id, new_claim(f"VC-{new_id()}", vendor_id, at, SOURCE))
        if [line for line, inspector in lines[vendor_id] if claim.add_line(line, at, inspector)]:
            await _save(uow, claim, at)


async def submit(uow: ReturnsUnitOfWork, claim_id: str, actor: str, note: str | None) -> VendorClaim:
    """ClaimError names the lines without a unit cost (or the status)."""
    async def with_costs(claim: VendorClaim) -> None:
        claim.submit(await uow.returns.unit_costs(line.sku for line in claim.lines), actor, datetime.now(UTC), note)

    return await _change(uow, claim_id, with_costs)


async def record_vendor_response(uow: ReturnsUnitOfWork, claim_id: str, outcome: str,
                                 accepted_amount: Decimal | None, note: str | None, actor: str) -> VendorClaim:
    async def respond(claim: VendorClaim) -> None:
        claim.respond(outcome, accepted_amount, actor, datetime.now(UTC), note)

    return await _change(uow, claim_id, respond)


async def record_credit(uow: ReturnsUnitOfWork, claim_id: str, amount: Decimal, reference: str,
                        actor: str) -> VendorClaim:
    async def credit(claim: VendorClaim) -> None:
        claim.credit(amount, reference, actor, datetime.now(UTC))

    return await _change(uow, claim_id, credit)


async def _change(uow: ReturnsUnitOfWork, claim_id: str,
                  change: Callable[[VendorClaim], Awaitable[None]]) -> VendorClaim:
    claim = await uow.returns.claim(claim_id)
    if claim is None:
        raise ClaimNotFound(f"vendor claim {claim_id} not found")
    await change(claim)
    await _save(uow, claim, claim.last_step.at)
    await uow.commit()
    return claim


async def _save(uow: ReturnsUnitOfWork, claim: VendorClaim, at: datetime) -> None:
    await uow.returns.save_claim(claim, at)
    step = claim.last_step
    uow.emit(new_event("VendorClaimChanged", 1, SOURCE, "vendor_claim", claim.id, VendorClaimChanged(
        claim_id=claim.id, vendor_id=claim.vendor_id, status=claim.status, currency=claim.currency,
        claimed_amount=claim.claimed_amount, accepted_amount=claim.accepted_amount,
        credited_amount=claim.credited_amount, credit_reference=claim.credit_reference,
        lines=[VendorClaimLine(rma_id=line.rma_id, sku=line.sku, vendor_sku=line.vendor_sku, quantity=line.quantity,
                               grade=line.grade, reason=line.reason, unit_cost=line.unit_cost,
                               serials=list(line.serials), notes=line.notes, photos=list(line.photos))
               for line in claim.lines],
        actor=step.actor, note=step.note, at=step.at)), RETURNS_EVENTS)
