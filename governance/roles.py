"""The hub roles behind Tandem's roles."""

from __future__ import annotations

from directus import HubClient
from domain.roles import HUB_ROLE_NAMES
from governance.errors import GovernanceError


def hub_role_id(admin: HubClient, tandem_role: str) -> str:
    rows = admin.get(
        "/roles", filter={"name": {"_eq": HUB_ROLE_NAMES[tandem_role]}}, fields=["id"], limit=1
    )
    if not rows:
        raise GovernanceError("the hub has no Tandem roles; run tandem migrate")
    return str(rows[0]["id"])
