"""Four eyes on the books: a change one person asks for (a count variance, a receipt that matched no expected
one, a large short-pick write-off) is applied only when a supervisor other than that person approves it.
Plain Python."""

from ecomops_common.errors import Forbidden


def require_four_eyes(approver: str, requested_by: str, what: str) -> None:
    """Refuses the decider who asked for the change themselves (403, reason segregation_of_duties)."""
    if approver == requested_by:
        raise Forbidden("segregation_of_duties", f"{approver} {what}: another supervisor decides")
