"""The ingestion side of POS and inventory: weekly rollups, imports, feeds, column mappings.

- ``pos_week_location`` and ``pos_week_distributor`` hold ISO-week totals per SKU x
  location and per SKU x distributor (and currency). The bulk lane (``directus/bulk.py``)
  keeps them up to date, in the same transaction as the daily rows, for the weeks an
  import touched; sell-through summaries read them instead of the raw rows. Their keys,
  ``"<d>:<s>:<week start>:<l>:<currency>"`` and ``"<d>:<s>:<week start>:<currency>"``,
  make a week's store rollups of one SKU one primary-key range (see
  ``directus/bulk.py``).
- ``imports``: one row per delivered file, its status, progress and counts (new, changed,
  unchanged, rejected rows).
- ``feeds``: freshness per distributor and data kind (data through, last received).
- ``column_mappings``: each distributor's columns and date format, saved for next time.

Distributors lose REST writes on ``pos_sales``: the bulk lane is its only writer.

Who sees what is in :mod:`domain.sharing` (rollups are shared like the raw rows, by
whole weeks) and below (a distributor its own imports, feeds and mappings).
"""

from __future__ import annotations

from typing import Any

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import (
    ensure_collection,
    ensure_m2o,
    ensure_permission,
    ensure_policy,
    field,
    int_pk,
    remove_permission,
    required,
    string_pk,
)

NO_HISTORY = {"accountability": None}
ORG = "$CURRENT_USER.organization.id"
DISTRIBUTOR = "Tandem distributor user"
SUPPLIER = "Tandem supplier user"
MANAGER = "Tandem account manager"


def _indexed(name: str, type_: str) -> dict[str, Any]:
    return required(name, type_, is_indexed=True)


def _rollup_fields() -> list[dict[str, Any]]:
    return [
        _indexed("week_start", "date"),  # the ISO week's Monday
        required("week_end", "date"),  # its Sunday
        required("iso_week", "string", length=8),  # "2026-W47"
        required("currency", "string", length=3),
        required("units", "bigInteger"),
        required("net_sales_minor", "bigInteger"),
        required("days", "integer"),  # daily rows summed
    ]


COLLECTIONS: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    (
        "pos_week_location",
        [string_pk(length=80), *_rollup_fields()],
        {
            "note": "ISO-week POS per SKU x location (bulk lane)",
            **NO_HISTORY,
        },
    ),
    (
        "pos_week_distributor",
        [string_pk(length=64), *_rollup_fields(), required("locations", "integer")],
        {
            "note": "ISO-week POS per SKU x distributor (bulk lane)",
            **NO_HISTORY,
        },
    ),
    (
        "imports",
        [
            int_pk(),
            required("kind", "string"),  # pos | inventory
            required("format", "string"),  # csv | xlsx | x12 | edifact
            required("filename", "string"),
            required("status", "string", default_value="queued"),  # queued|running|done|failed
            field("source", "string"),  # api | cli | drop | demo
            field("rows_read", "integer", schema={"default_value": 0}),
            field("rows_new", "integer", schema={"default_value": 0}),
            field("rows_changed", "integer", schema={"default_value": 0}),
            field("rows_unchanged", "integer", schema={"default_value": 0}),
            field("rows_rejected", "integer", schema={"default_value": 0}),
            field("rows_per_s", "integer"),
            field("data_from", "date"),
            field("data_through", "date"),
            field("created_at", "timestamp", meta={"special": ["date-created"]}),
            field("started_at", "timestamp"),
            field("finished_at", "timestamp"),
            field("error", "text"),
            field("rejects", "string"),  # the rejects file's name in the spool, if any
        ],
        {"note": "Delivered POS and inventory files: status, progress and counts", **NO_HISTORY},
    ),
    (
        "feeds",
        [
            string_pk(length=40),  # "<distributor>:<kind>"
            required("kind", "string"),
            field("data_through", "date"),
            field("received_at", "timestamp"),
            field("stale_after_days", "integer"),  # empty: the portal's default
        ],
        {"note": "Freshness per distributor and data kind", **NO_HISTORY},
    ),
    (
        "column_mappings",
        [
            string_pk(length=40),  # "<distributor>:<kind>"
            required("kind", "string"),
            field("columns", "json"),  # {"item": "Item Nbr", "store": "Store #", ...}
            field("date_format", "string"),
            field("updated_at", "timestamp"),
        ],
        {"note": "Each distributor's file columns, saved for next time", **NO_HISTORY},
    ),
]

RELATIONS = [
    ("pos_week_location", "distributor", "organizations", None, False),
    ("pos_week_location", "location", "locations", None, False),
    ("pos_week_location", "sku", "skus", None, False),
    ("pos_week_distributor", "distributor", "organizations", None, False),
    ("pos_week_distributor", "sku", "skus", None, False),
    ("imports", "distributor", "organizations", "imports", False),
    ("imports", "user", "directus_users", None, True),
    ("feeds", "distributor", "organizations", "feeds", False),
    ("feeds", "last_import", "imports", None, True),
    ("column_mappings", "distributor", "organizations", None, False),
]

OWN = {"distributor": {"_eq": ORG}}
MINE = {"user": {"_eq": "$CURRENT_USER"}}
IMPORT_FIELDS = ["kind", "format", "filename", "source", "distributor", "user"]


def upgrade(hub: HubClient) -> None:
    for name, fields, meta in COLLECTIONS:
        ensure_collection(hub, name, fields, meta=meta)
    for collection, name, related, alias, nullable in RELATIONS:
        ensure_m2o(hub, collection, name, related, one_field=alias, nullable=nullable)

    distributor = ensure_policy(hub, DISTRIBUTOR)
    # POS rows are written only by the bulk lane, which keeps the rollups by difference:
    # a row written through REST would not be in them. (Distributors still read theirs.)
    for action in ("create", "update", "delete"):
        remove_permission(hub, distributor, "pos_sales", action)
    for collection in ("pos_week_location", "pos_week_distributor", "imports", "feeds"):
        ensure_permission(hub, distributor, collection, "read", permissions=OWN)
    # An upload is recorded as the user's own import; the bulk lane does the rest.
    ensure_permission(
        hub,
        distributor,
        "imports",
        "create",
        validation=OWN,
        presets={"distributor": ORG, "status": "queued", "source": "api"},
        fields=IMPORT_FIELDS,
    )
    ensure_permission(hub, distributor, "column_mappings", "read", permissions=OWN)
    for action in ("create", "update"):
        ensure_permission(
            hub,
            distributor,
            "column_mappings",
            action,
            **({"permissions": OWN} if action == "update" else {}),
            validation=OWN,
            presets={"distributor": ORG},
            fields=["id", "kind", "columns", "date_format", "updated_at", "distributor"],
        )

    # Suppliers and account managers see the freshness of the feeds of partners they
    # trade with (a date and a timestamp: no figures).
    supplier = ensure_policy(hub, SUPPLIER)
    ensure_permission(
        hub,
        supplier,
        "feeds",
        "read",
        permissions={"distributor": {"distributor_partnerships": {"supplier": {"_eq": ORG}}}},
    )
    manager = ensure_policy(hub, MANAGER)
    ensure_permission(
        hub,
        manager,
        "feeds",
        "read",
        permissions={
            "distributor": {
                "distributor_partnerships": {"managers": {"user": {"_eq": "$CURRENT_USER"}}}
            }
        },
    )

    # The drop-folder job records the imports it starts; the bulk lane writes the rest.
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    ensure_permission(hub, sync, "organizations", "read", fields=["id", "name", "kind", "status"])
    ensure_permission(hub, sync, "imports", "read")
    ensure_permission(hub, sync, "imports", "create", fields=IMPORT_FIELDS)
    # ...and marks failed those whose process died before it could (the reaper job).
    ensure_permission(
        hub,
        sync,
        "imports",
        "update",
        permissions={"status": {"_in": ["queued", "running"]}},
        fields=["status", "error", "finished_at"],
    )
    ensure_permission(hub, sync, "column_mappings", "read")
