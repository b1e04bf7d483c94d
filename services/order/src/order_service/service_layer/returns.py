"""The returns service's news (returns.events.v1): each RMA's steps, kept beside the order; its status stays."""

from ecomops_common.contracts.returns import ReturnAuthorized, ReturnStatus, ReturnStatusChanged
from ecomops_common.handlers import Received
from order_service.domain.returns import Authorization, ReturnedLine, ReturnStep
from order_service.service_layer.unit_of_work import OrderUnitOfWork

RETURNS_ACTOR = "returns"  # ReturnAuthorized names no actor: the returns service authorized by its policy


def return_step_of(event: ReturnAuthorized | ReturnStatusChanged) -> ReturnStep:
    if isinstance(event, ReturnStatusChanged):
        return ReturnStep(event.rma_id, event.order_id, event.status, event.actor, event.note, event.at)
    lines = tuple(ReturnedLine(line.line_id, line.sku, line.quantity) for line in event.lines)
    return ReturnStep(event.rma_id, event.order_id, ReturnStatus.authorized, RETURNS_ACTOR, event.reason,
                      event.authorized_at, Authorization(event.resolution, lines))


async def record_returns(uow: OrderUnitOfWork, steps: list[Received[ReturnAuthorized | ReturnStatusChanged]]) -> None:
    """All steps of a batch in one statement and one transaction. Not checked against the orders stored (the
    returns service authorizes returns of known orders only): a step of an unknown order is kept all the same."""
    await uow.orders.add_return_steps([return_step_of(step.message) for step in steps])
    await uow.commit()
