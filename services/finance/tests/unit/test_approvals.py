"""Segregation of duties: a correction's requester may not approve it, and a request is decided once."""

from datetime import UTC, datetime

import pytest

from ecomops_common.errors import Forbidden
from finance_service.domain.approvals import ApprovalRequest, RequestDecided, RequestKind, RequestStatus

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def requested(kind: RequestKind = RequestKind.manual_settlement) -> ApprovalRequest:
    return ApprovalRequest(kind, "refund:rf-1", "fin:maria", NOW, reference="SEPA-77", id=7)


@pytest.mark.parametrize("kind", list(RequestKind))
def test_the_requester_may_not_approve_their_own_request(kind):
    request = requested(kind)
    with pytest.raises(Forbidden, match=f"fin:maria requested {kind} 7 and may not approve it") as refused:
        request.approve("fin:maria", NOW)
    assert refused.value.reason == "segregation_of_duties" and request.status is RequestStatus.requested


def test_another_person_approves_once():
    request = requested()
    request.approve("sup:li", NOW)
    assert (request.status, request.decided_by, request.decided_at) == (RequestStatus.approved, "sup:li", NOW)
    with pytest.raises(RequestDecided, match="request 7 was already approved by sup:li"):
        request.approve("fin:omar", NOW)
    with pytest.raises(RequestDecided):
        request.deny("fin:omar", NOW, "too late")


def test_a_denial_is_final_and_the_requester_may_withdraw():
    request = requested()
    request.deny("fin:maria", NOW, "wrong reference")
    assert (request.status, request.decision_note) == (RequestStatus.denied, "wrong reference")
    with pytest.raises(RequestDecided, match="request 7 was already denied by fin:maria"):
        request.approve("sup:li", NOW)
