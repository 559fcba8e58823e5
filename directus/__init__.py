"""Tandem's side of the Directus hub: the client, the process lifecycle, the install.

The npm project that pins Directus itself (package.json, package-lock.json) sits in
this folder too.
"""

from directus.client import HubClient, Tokens
from directus.errors import (
    AuthFailed,
    DatabaseLocked,
    ForbiddenOrMissing,
    HubError,
    HubProcessError,
    InvalidPayload,
    NodeMissing,
    PortInUse,
    RecordNotUnique,
    Unavailable,
)

__all__ = [
    "AuthFailed",
    "DatabaseLocked",
    "ForbiddenOrMissing",
    "HubClient",
    "HubError",
    "HubProcessError",
    "InvalidPayload",
    "NodeMissing",
    "PortInUse",
    "RecordNotUnique",
    "Tokens",
    "Unavailable",
]
