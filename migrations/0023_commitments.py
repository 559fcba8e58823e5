"""A supplier's commitment per SKU x week, one per pair: ``commitments``.

A distributor forecasts per SKU x location x week (``forecasts``, written by the bulk
lane); the supplier answers per SKU x week, for the pair as a whole, with the units it
commits to supply and a note. The row's key is ``"<partnership>:<sku>:<week start>"``,
made by the hub (the integrity hook), so a pair has one commitment per SKU and week and
nobody keys a row for another pair. The hub stamps who changed it last and when.

- The pair's supplier creates and changes its commitments (``units``, ``note``); its
  distributor and the pair's account managers read them. Nobody deletes one: a supplier
  withdraws a commitment by committing 0.
- A commitment for a frozen week (inside the SKU's lead time) is refused on create and
  on change by the integrity hook, as the portal refuses it (domain/forecasts.py).
- ``forecasts.commit_units`` and ``commit_note`` are dropped, with the update right the
  suppliers' share policies gave on them: a per-location commitment nobody wrote, which a
  supplier could set on any shared forecast row, frozen weeks included.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import (
    ensure_collection,
    ensure_m2o,
    ensure_permission,
    ensure_policy,
    field,
    required,
    string_pk,
)

SUPPLIER = "Tandem supplier user"
DISTRIBUTOR = "Tandem distributor user"
MANAGER = "Tandem account manager"
ME = "$CURRENT_USER"
SIDE_OF_PAIR = {
    SUPPLIER: {"supplier": {"_eq": "$CURRENT_USER.organization.id"}},
    DISTRIBUTOR: {"distributor": {"_eq": "$CURRENT_USER.organization.id"}},
    MANAGER: {"managers": {"user": {"_eq": ME}}},
}
MY_PAIRS = "$CURRENT_USER.organization.supplier_partnerships.id"

# "id": the integrity hook puts the key it derives into the payload (a partner's own is refused).
CREATE = ["id", "note", "partnership", "sku", "units", "week_start"]
UPDATE = ["note", "units"]


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        "commitments",
        [
            string_pk(length=64),  # "<partnership>:<sku>:<week start>"
            required("week_start", "date"),
            required("units", "integer"),
            field("note", "text"),
            field("updated_by", "uuid", meta={"special": ["user-updated"], "readonly": True}),
            field("updated_at", "timestamp", meta={"special": ["date-updated"], "readonly": True}),
        ],
        meta={"note": "A supplier's weekly commitment per SKU, answering the pair's forecast"},
    )
    ensure_m2o(hub, "commitments", "partnership", "partnerships", nullable=False)
    ensure_m2o(hub, "commitments", "sku", "skus", nullable=False)
    for name, side in SIDE_OF_PAIR.items():
        ensure_permission(
            hub, ensure_policy(hub, name), "commitments", "read", permissions={"partnership": side}
        )
    supplier = ensure_policy(hub, SUPPLIER)
    ensure_permission(
        hub,
        supplier,
        "commitments",
        "create",
        fields=CREATE,
        validation={"partnership": {"_in": [MY_PAIRS]}},
    )
    ensure_permission(
        hub,
        supplier,
        "commitments",
        "update",
        fields=UPDATE,
        permissions={"partnership": SIDE_OF_PAIR[SUPPLIER]},
    )
    for row in hub.get(
        "/permissions",
        filter={"collection": {"_eq": "forecasts"}, "action": {"_eq": "update"}},
        fields=["id"],
        limit=-1,
    ):
        hub.delete(f"/permissions/{row['id']}")
    have = {f["field"] for f in hub.get("/fields/forecasts")}
    for name in ("commit_units", "commit_note"):
        if name in have:
            hub.delete(f"/fields/forecasts/{name}")
