"""The exception workflow: both sides of a pair move an exception (open -> acknowledged
-> resolved, or dismissed with a reason; a closed one reopened) and comment on it.

- ``exceptions.resolution``: what closed it (a dismissal's reason); ``closed_at`` and
  ``hours_to_close`` (detection to resolution, an exact decimal): stamped by the
  integrity hook into the write that closes it, cleared by the one that reopens it; no
  side writes them (the ownership table refuses them before the hook adds them, which is
  why the policies list them).
- A status move and its ``status`` event are one hub write (the ``events`` alias), as a
  promotion's history is; a ``comment`` event stands alone. The pair's account managers
  comment too.

The moves and fields are domain/ownership.py's table (``exceptions``,
``exception_events``), which the hook enforces; these policies grant the same fields.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, ensure_permission, ensure_policy, field

ME = "$CURRENT_USER"
SIDES = {
    "Tandem supplier user": ("supplier", {"supplier": {"_eq": "$CURRENT_USER.organization.id"}}),
    "Tandem distributor user": (
        "distributor",
        {"distributor": {"_eq": "$CURRENT_USER.organization.id"}},
    ),
    "Tandem account manager": ("manager", {"managers": {"user": {"_eq": ME}}}),
}
MY_PAIRS = {
    "supplier": "$CURRENT_USER.organization.supplier_partnerships.id",
    "distributor": "$CURRENT_USER.organization.distributor_partnerships.id",
    "manager": f"{ME}.managed_pairs.partnership",
}
EVENT_CREATE = ["comment", "exception", "kind", "partnership", "status"]


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "exceptions", field("resolution", "text"))
    ensure_field(hub, "exceptions", field("closed_at", "timestamp", meta={"readonly": True}))
    ensure_field(hub, "exceptions", field("hours_to_close", "string", meta={"readonly": True}))
    for name, (side, of_pair) in SIDES.items():
        policy = ensure_policy(hub, name)
        ensure_permission(
            hub,
            policy,
            "exception_events",
            "create",
            fields=EVENT_CREATE,
            validation={
                "_and": [
                    {"partnership": {"_in": [MY_PAIRS[side]]}},
                    {"kind": {"_in": ["comment", "status"]}},
                ]
            },
        )
        if side == "manager":
            continue
        ensure_permission(
            hub,
            policy,
            "exceptions",
            "update",
            # closed_at and hours_to_close: the hook stamps them into a move's payload.
            fields=["closed_at", "events", "hours_to_close", "resolution", "status"],
            permissions={"partnership": of_pair},
        )
