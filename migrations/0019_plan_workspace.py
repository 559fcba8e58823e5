"""The joint business plan as a workspace: its significant events, revisions kept as
versions, and each side reporting its own actions.

- ``business_plans.events``: the year's significant events (promotions, range changes,
  store openings and closings, new products), each ``{"date", "kind", "title"}``,
  written by the account manager with the plan.
- ``plan_revisions.revised_by`` and ``created_at``: who made a quarterly revision and
  when, stamped by the hub on create (Directus's ``user-created`` and ``date-created``),
  so neither can be forged. Revisions are versions: nobody changes or deletes one once
  made (the ownership table and the manager's policy agree).
- A partner user reports progress on the actions its side owns (``owner_side``), not
  only those naming it as ``owner``.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import (
    ensure_field,
    ensure_permission,
    ensure_policy,
    field,
    remove_permission,
    set_fields,
)

SUPPLIER = "Tandem supplier user"
DISTRIBUTOR = "Tandem distributor user"
MANAGER = "Tandem account manager"
ME = "$CURRENT_USER"
ORG = "$CURRENT_USER.organization.id"
SIDES = {SUPPLIER: "supplier", DISTRIBUTOR: "distributor"}

PLAN_CREATE = ["events", "partnership", "sponsors", "status", "targets", "year"]
PLAN_UPDATE = ["events", "sponsors", "status", "targets"]


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "business_plans", field("events", "json"))
    ensure_field(
        hub,
        "plan_revisions",
        field("revised_by", "uuid", meta={"special": ["user-created"], "readonly": True}),
    )
    ensure_field(
        hub,
        "plan_revisions",
        field("created_at", "timestamp", meta={"special": ["date-created"], "readonly": True}),
    )
    manager = ensure_policy(hub, MANAGER)
    set_fields(hub, manager, "business_plans", "create", PLAN_CREATE)
    set_fields(hub, manager, "business_plans", "update", PLAN_UPDATE)
    remove_permission(hub, manager, "plan_revisions", "update")
    remove_permission(hub, manager, "plan_revisions", "delete")
    for name, side in SIDES.items():
        of_pair = {"partnership": {side: {"_eq": ORG}}}
        ensure_permission(
            hub,
            ensure_policy(hub, name),
            "plan_actions",
            "update",
            fields=["completed_on", "status"],
            permissions={
                "_and": [
                    of_pair,
                    {"plan": of_pair},
                    {"_or": [{"owner": {"_eq": ME}}, {"owner_side": {"_eq": side}}]},
                ]
            },
        )
