"""A SKU's lead time is the operator's to change, not its supplier's.

The lead time decides which weeks are frozen (domain/forecasts.py): a supplier able to
set its SKU's lead time to 0 through the hub could change its commitments for frozen
weeks and put the lead time back, and widen or narrow which of a distributor's forecast
weeks the lane accepts. Suppliers keep every other field of their SKUs; a new SKU still
starts with the lead time its supplier gives it.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_permission, ensure_policy

SUPPLIER = "Tandem supplier user"
ORG = "$CURRENT_USER.organization.id"
KEPT = {"lead_time_days"}


def upgrade(hub: HubClient) -> None:
    names = sorted(
        f["field"]
        for f in hub.get("/fields/skus")
        if f["field"] not in KEPT and (f.get("meta") or {}).get("special") != ["o2m"]
    )
    ensure_permission(
        hub,
        ensure_policy(hub, SUPPLIER),
        "skus",
        "update",
        fields=names,
        permissions={"supplier": {"_eq": ORG}},
        validation={"supplier": {"_eq": ORG}},
    )
