"""CPFR exceptions: each pair's agreed criteria, the exceptions a scheduled job finds by
them, and each exception's history (domain/exceptions.py).

- ``exception_criteria``: a pair's criterion as data (metric, comparison, threshold and
  ``upper`` for a range, a ``scope`` of SKUs and locations, the side that owns what it
  finds, the hours it has to respond, ``active``), recorded by the operator for the pair
  (``tandem partner exceptions``).
- ``exceptions``: one per criterion and subject while it is not closed, written by the
  ``exceptions.evaluate`` job (the sync service): owner side, status, the value and
  figures that triggered it, when it opened, is due, was last seen and cleared.
- ``exception_events``: what happened to an exception (opened, updated, cleared,
  recurred), stamped by the hub.
- ``partnerships.exceptions_checked``: the job's note of what it last evaluated a pair
  on, so that a pair whose data did not change is not evaluated again.

Both sides of a pair and its account managers read the three; nobody else does, and no
partner writes them.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import (
    add_fields,
    ensure_collection,
    ensure_field,
    ensure_m2o,
    ensure_permission,
    ensure_policy,
    field,
    int_pk,
    required,
)

ME = "$CURRENT_USER"
ORG = "$CURRENT_USER.organization.id"
SIDES = {
    "Tandem supplier user": {"supplier": {"_eq": ORG}},
    "Tandem distributor user": {"distributor": {"_eq": ORG}},
    "Tandem account manager": {"managers": {"user": {"_eq": ME}}},
}
NO_HISTORY = {"accountability": None}
STAMP = {"special": ["date-created"], "readonly": True}

CRITERION_FIELDS = ["id", "partnership", "name", "metric", "comparison", "threshold", "upper",
                    "scope", "owner_side", "response_hours", "active", "date_updated"]  # fmt: skip
EXCEPTION_FIELDS = ["id", "partnership", "criterion", "subject", "status", "owner_side", "value",
                    "figures", "sku", "location", "purchase_order", "week_start", "opened_at",
                    "due_at", "last_seen_at", "cleared_at"]  # fmt: skip
EVENT_FIELDS = ["id", "exception", "partnership", "kind", "status", "value", "comment"]

#: What the job reads to evaluate a pair, by collection.
READS = {
    "partnerships": ["id", "supplier", "distributor", "status", "exceptions_checked"],
    "exception_criteria": CRITERION_FIELDS,
    "forecasts": ["id", "distributor", "location", "sku", "week_start", "forecast_units"],
    "commitments": ["id", "partnership", "sku", "week_start", "units", "updated_at"],
    "feeds": ["id", "distributor", "kind", "received_at"],
    "inventory_positions": ["id", "distributor", "location", "sku", "day", "on_hand"],
    "pos_week_location": ["id", "distributor", "location", "sku", "week_start", "units"],
    "purchase_orders": ["id", "partnership", "number", "status", "ordered_on", "placed_at"],
    "skus": ["id", "supplier", "lead_time_days"],
    "locations": ["id", "distributor", "kind", "region"],
}


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        "exception_criteria",
        [
            int_pk(),
            required("name", "string"),
            required("metric", "string"),
            required("comparison", "string"),  # above | below | outside
            required("threshold", "string"),  # an exact decimal, as text
            field("upper", "string"),
            field("scope", "json"),  # {"skus": [...], "locations": [...]}
            required("owner_side", "string"),  # supplier | distributor
            required("response_hours", "integer", default_value=48),
            required("active", "boolean", default_value=True),
            field("date_updated", "timestamp", meta={"special": ["date-updated"]}),
        ],
        meta={"note": "A pair's agreed CPFR exception criteria"},
    )
    ensure_collection(
        hub,
        "exceptions",
        [
            int_pk(),
            required("subject", "string"),  # sku:3:week:2027-01-04, po:5, store:1:sku:3...
            required("status", "string", default_value="open"),
            required("owner_side", "string"),
            required("value", "string"),
            field("figures", "json"),
            field("week_start", "date"),
            required("opened_at", "timestamp"),
            required("due_at", "timestamp"),
            required("last_seen_at", "timestamp"),
            field("cleared_at", "timestamp"),
        ],
        meta={"note": "An exception a pair's criterion found", **NO_HISTORY},
    )
    ensure_collection(
        hub,
        "exception_events",
        [
            int_pk(),
            required("kind", "string"),  # opened | updated | cleared | recurred
            field("status", "string"),
            field("value", "string"),
            field("comment", "text"),
            field("at", "timestamp", meta=STAMP),
            field("actor", "uuid", meta={"special": ["user-created"], "readonly": True}),
        ],
        meta={"note": "What happened to an exception", **NO_HISTORY},
    )
    ensure_field(hub, "partnerships", field("exceptions_checked", "json"))
    ensure_m2o(hub, "exception_criteria", "partnership", "partnerships", nullable=False)
    ensure_m2o(hub, "exceptions", "partnership", "partnerships", nullable=False)
    ensure_m2o(hub, "exceptions", "criterion", "exception_criteria", nullable=False)
    ensure_m2o(hub, "exceptions", "sku", "skus")
    ensure_m2o(hub, "exceptions", "location", "locations")
    ensure_m2o(hub, "exceptions", "purchase_order", "purchase_orders")
    ensure_m2o(
        hub, "exception_events", "exception", "exceptions", one_field="events", nullable=False
    )
    ensure_m2o(hub, "exception_events", "partnership", "partnerships", nullable=False)
    for policy, side in SIDES.items():
        for collection in ("exception_criteria", "exceptions", "exception_events"):
            ensure_permission(
                hub,
                ensure_policy(hub, policy),
                collection,
                "read",
                permissions={"partnership": side},
            )
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    for collection, fields in READS.items():
        add_fields(hub, sync, collection, "read", fields)
    ensure_permission(hub, sync, "exceptions", "read", fields=EXCEPTION_FIELDS)
    ensure_permission(hub, sync, "exceptions", "create", fields=[*EXCEPTION_FIELDS, "events"])
    ensure_permission(
        hub, sync, "exceptions", "update",
        fields=["value", "figures", "last_seen_at", "cleared_at", "events"],
    )  # fmt: skip
    ensure_permission(hub, sync, "exception_events", "read", fields=EVENT_FIELDS)
    ensure_permission(hub, sync, "exception_events", "create", fields=EVENT_FIELDS)
    ensure_permission(hub, sync, "partnerships", "update", fields=["exceptions_checked"])
