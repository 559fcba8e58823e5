"""A distributor's import is its own user's: ``imports.user`` is preset, never chosen.

Distributors could name any user on an import they created through the hub's REST
API: a queued import credited to another organization's user was stored, and a user
id that does not exist answered ``INVALID_FOREIGN_KEY``, which told which ids exist.
The create permission now presets ``user`` to ``$CURRENT_USER`` and leaves it out of
the fields a distributor writes, as ``audit_log`` and ``promotion_events`` already do:
naming any user is Directus's own 403, whether the id exists or not.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_permission, ensure_policy

DISTRIBUTOR = "Tandem distributor user"
ORG = "$CURRENT_USER.organization.id"
OWN = {"distributor": {"_eq": ORG}}


def upgrade(hub: HubClient) -> None:
    ensure_permission(
        hub,
        ensure_policy(hub, DISTRIBUTOR),
        "imports",
        "create",
        validation=OWN,
        presets={"distributor": ORG, "status": "queued", "source": "api", "user": "$CURRENT_USER"},
        fields=["kind", "format", "filename", "source", "distributor"],
    )
