"""Refusals the rules make, in plain Python: the domain and service layers raise them, and the HTTP layer answers
each kind with one status (ecomops_common.http), so no route writes its own try/except."""

from collections.abc import Sequence
from typing import NamedTuple


class Refused(Exception):
    """A request the rules refuse; the subclass says how (not found, conflict, forbidden, invalid)."""


class NotFound(Refused):
    """What the request names does not exist: 404."""


class Conflict(Refused):
    """The request does not fit the current state (e.g. cancelling a shipped order): 409."""


class Forbidden(Refused):
    """The caller may not do this (e.g. approving their own request): 403 with a machine-readable reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


class FieldProblem(NamedTuple):
    """One broken rule, addressed by a dotted path inside the request body (e.g. "rules.0.nodes")."""

    field: str
    message: str


class Invalid(Refused):
    """Well-formed input that a rule refuses: 422 naming each field, like a validation error."""

    code = "value_error"  # the `type` of each error in the answer

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems
