"""The portal's data-access layer: the one place where governed reads and writes are scoped.

Build a :class:`DataAccess` from the signed-in user and the user's own hub client, then
list, read and write resources by name (see :mod:`portal.data.registry`). Every query
carries the user's scope explicitly, on top of the hub's own policies.
"""

from portal.data.access import DataAccess, Page, Unauthenticated
from portal.data.errors import (
    Conflict,
    DataError,
    Forbidden,
    HubFailed,
    HubUnavailable,
    Invalid,
    NotFound,
)
from portal.data.registry import MAX_PER_PAGE, RESOURCES, Child, Filter, Resource, Write
from portal.data.scope import Actor, Scope

__all__ = [
    "MAX_PER_PAGE",
    "RESOURCES",
    "Actor",
    "Child",
    "Conflict",
    "DataAccess",
    "DataError",
    "Filter",
    "Forbidden",
    "HubFailed",
    "HubUnavailable",
    "Invalid",
    "NotFound",
    "Page",
    "Resource",
    "Scope",
    "Unauthenticated",
    "Write",
]
