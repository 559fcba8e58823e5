"""What the data layer refuses, as exceptions the API turns into its error envelope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DataError(Exception):
    """A refused read or write. ``errors`` maps a field (or ``_schema``) to messages."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = {k: list(v) for k, v in (errors or {}).items()}


class NotFound(DataError):
    """Not there, or not the user's to see: the two are never told apart."""

    status = 404
    code = "NOT_FOUND"


class Forbidden(DataError):
    """The user's role may not do this, or the request names records that are not theirs."""

    status = 403
    code = "FORBIDDEN"


class Invalid(DataError):
    """The request is well-formed but breaks a rule (or the hub refused its content)."""

    status = 422
    code = "UNPROCESSABLE_ENTITY"


class Conflict(DataError):
    """The record is in a state that does not allow this change."""

    status = 409
    code = "CONFLICT"


class HubFailed(DataError):
    """The hub could not answer (503) or answered something unexpected (502)."""

    status = 502
    code = "BAD_GATEWAY"


class HubUnavailable(HubFailed):
    status = 503
    code = "SERVICE_UNAVAILABLE"
