"""The hub's failure kinds, as exceptions.

Directus answers 403 FORBIDDEN both for "you may not" and for "there is no such
collection, field or item", so those share one exception on purpose.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """A call to the hub failed. ``status`` and ``code`` are Directus's own."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.errors = errors or []


class AuthFailed(HubError):
    """Credentials or token rejected (401), or a refresh that did not work."""


class ForbiddenOrMissing(HubError):
    """403: not allowed, or not there. Directus does not say which."""


class InvalidPayload(HubError):
    """The hub refused the request's content (400 INVALID_PAYLOAD, INVALID_QUERY, ...)."""


class RecordNotUnique(InvalidPayload):
    """A unique constraint refused the write (RECORD_NOT_UNIQUE)."""


class Unavailable(HubError):
    """The hub could not answer: 503, a connection error or a timeout."""


class HubProcessError(Exception):
    """The hub process could not be installed, bootstrapped or started."""


class PortInUse(HubProcessError):
    """The port asked for is taken by another process."""


class NodeMissing(HubProcessError):
    """No Node.js 22 to run Directus with."""


class DatabaseLocked(HubProcessError):
    """The hub database is held by another process."""
