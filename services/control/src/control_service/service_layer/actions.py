"""The inbox's actions, done by the service that owns what they change (backend-for-frontend): the control service
calls that service's API with the signed-in person's own token, so the owner checks their role and segregation of
duties and records them as the actor. Only `acknowledge` is the control service's own: it closes the item."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from control_service.domain.inbox import KINDS
from control_service.service_layer.unit_of_work import ControlUnitOfWork
from control_service.settings import ControlSettings


@dataclass(frozen=True)
class Outcome:
    """What happened, for the person who acted: `status` is the HTTP status to answer with."""

    status: int
    message: str
    detail: Any = None

    @property
    def ok(self) -> bool:
        return self.status < 300


class ServiceClient:
    """The owning services' APIs, called with the signed-in person's bearer token."""

    def __init__(self, settings: ControlSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {"order": settings.order_url, "allocation": settings.allocation_url,
                     "warehouse": settings.warehouse_url, "returns": settings.returns_url,
                     "finance": settings.finance_url, "catalog": settings.catalog_url,
                     "supply": settings.supply_url, "shipping": settings.shipping_url}
        self.group_prefix = settings.topic_prefix  # consumer groups are prefixed like topics
        self.http = httpx.AsyncClient(timeout=settings.service_timeout_s, transport=transport)

    async def request(self, method: str, service: str, path: str, token: str, body: Any = None) -> Outcome:
        try:
            response = await self.http.request(method, self.urls[service].rstrip("/") + path, json=body,
                                               headers={"authorization": f"Bearer {token}"})
        except httpx.TimeoutException:
            return Outcome(504, f"the {service} service did not answer in time")
        except httpx.HTTPError as error:
            return Outcome(503, f"the {service} service is unreachable ({type(error).__name__})")
        try:
            detail = response.json()
        except ValueError:
            detail = response.text[:500]
        if response.is_success:
            return Outcome(response.status_code, "done", detail)
        reason = detail.get("detail") if isinstance(detail, dict) else detail
        return Outcome(response.status_code if response.status_code < 500 else 502,
                       f"the {service} service refused: {reason}", detail)

    async def get(self, service: str, path: str, token: str) -> Outcome:
        return await self.request("GET", service, path, token)

    async def close(self) -> None:
        await self.http.aclose()


def _p(value: Any) -> str:
    return quote(str(value), safe="")


async def perform(action: str, item: dict[str, Any], *, token: str, actor: str, note: str | None,
                  uow: ControlUnitOfWork, services: ServiceClient) -> Outcome:
    """Does `action` on an open inbox item; on success the item is closed (a newer fact may open it again)."""
    kind = KINDS[item["kind"]]
    if action not in {a.name for a in kind.actions}:
        return Outcome(422, f"action {action!r} does not apply to {kind.title.lower()} items; "
                            f"use one of: {', '.join(a.name for a in kind.actions)}")
    if item["status"] != "open":
        return Outcome(409, f"the item was already closed ({item.get('closed_by') or 'by a later fact'})")
    outcome = await _call_owner(action, item["reference"], token=token, note=note or f"from the ops console by "
                                f"{actor}", services=services)
    if outcome.ok:
        await uow.read_model.close_item(item["item_id"], actor, datetime.now(UTC))
        await uow.commit()
    return outcome


async def _call_owner(action: str, ref: dict[str, Any], *, token: str, note: str,
                      services: ServiceClient) -> Outcome:
    post = services.request
    match action:
        case "acknowledge":
            return Outcome(200, "acknowledged")
        case "release_hold":
            return await post("POST", "order", f"/v1/orders/{_p(ref['order_id'])}/holds/{_p(ref['hold'])}/release",
                              token, {"note": note})
        case "cancel_order":
            return await post("POST", "order", f"/v1/orders/{_p(ref['order_id'])}/cancel", token, {"reason": note})
        case "resolve_scan" | "approve_scan":
            verb = "resolve" if action == "resolve_scan" else "approve"
            return await post("POST", "warehouse", f"/v1/scan-exceptions/{_p(ref['exception_id'])}/{verb}", token,
                              {"resolution": note})
        case "approve_variance" | "reject_variance":
            decision = action.split("_")[0]
            return await post("POST", "warehouse", f"/v1/count-variances/{_p(ref['exception_id'])}/{decision}",
                              token)
        case "approve_short_pick" | "reject_short_pick":
            decision = action.split("_")[0]
            return await post("POST", "warehouse", f"/v1/short-picks/{_p(ref['exception_id'])}/{decision}", token)
        case "approve_refund" | "deny_refund":
            return await _decide_refund(action == "approve_refund", ref["rma_id"], token, note, services)
        case "retry_refund":
            return await post("POST", "finance", f"/v1/refunds/{_p(ref['refund_id'])}/retry", token)
        case "approve_purchase_order" | "cancel_purchase_order":
            step = action.split("_")[0]
            return await post("POST", "supply", f"/v1/purchase-orders/{_p(ref['po_id'])}/{step}", token,
                              {"note": note})
        case "redrive":
            group = ref["consumer"].removeprefix(services.group_prefix)
            service = group.split(".", 1)[0].removesuffix("-service")
            if service not in services.urls:
                return Outcome(409, f"no service of this platform owns consumer {ref['consumer']!r}")
            return await post("POST", service, f"/v1/dead-letters/{_p(ref['dlq_topic'])}/{ref['partition']}/"
                                               f"{ref['offset']}/redrive", token)
    return Outcome(422, f"unknown action {action!r}")


async def _decide_refund(approve: bool, rma_id: str, token: str, note: str, services: ServiceClient) -> Outcome:
    """The returns service decides settlements: the pending one of the RMA is looked up first."""
    found = await services.get("returns", f"/v1/returns/{_p(rma_id)}", token)
    if not found.ok:
        return found
    pending = [s for s in found.detail.get("settlements", []) if s.get("status") == "pending_approval"]
    if not pending:
        return Outcome(409, f"return {rma_id} has no refund awaiting approval")
    path = f"/v1/returns/{_p(rma_id)}/settlements/{_p(pending[0]['id'])}/{'approve' if approve else 'deny'}"
    return await services.request("POST", "returns", path, token, {"note": note} if approve else {"reason": note})
