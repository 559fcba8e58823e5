"""Scorecards computed by the scheduler, and the stamps their KPIs need.

- ``purchase_orders.placed_at`` and ``shipments.recorded_at``: when the hub received
  the order and the ASN, stamped by the hub itself on create (Directus's
  ``date-created``), so neither side can backdate them. Acknowledgement within 24 h and
  ASN timeliness are measured from them.
- ``partnerships.scorecard_settings``: the pair's choices (domain.scorecard.Settings):
  which OTIF variant heads its scorecard, the arrival window, its fiscal year's first
  month.
- ``scorecards.source``: ``manual`` (an account manager's own, as before) or
  ``computed`` (the ``scorecards.compute`` job's, one per pair, ``grain`` and period,
  under a unique ``key``, with a ``digest`` of its figures and ``computed_at``). The
  ownership table lets a manager write only manual ones.
- ``scorecard_values``: the ``unit`` of a value, the ``collection`` its records are
  in, and the ids counted (``basis``) and missed (``misses``), for the drill-down.
- Scorecards and their values keep no activity or revisions (as POS does): they are
  derived, rewritten by the job whenever their data changes, and a manager's own writes
  are in Tandem's audit log. Directus's history rows doubled the job's cost per row.
- The sync service reads what the job computes from and writes computed scorecards.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import ensure_field, ensure_permission, ensure_policy, field, set_fields

MANAGER = "Tandem account manager"
COMPUTED = {"source": {"_eq": "computed"}}
STAMP = {"special": ["date-created"], "readonly": True}

SCORECARD_FIELDS = [
    "id",
    "partnership",
    "period_start",
    "period_end",
    "label",
    "source",
    "grain",
    "key",
    "computed_at",
    "digest",
    "values",
]
#: What a recomputation changes on a card; its values are replaced, never edited.
CARD_UPDATES = ["id", "label", "period_end", "computed_at", "digest"]
VALUE_FIELDS = [
    "id",
    "scorecard",
    "partnership",
    "kpi",
    "variant",
    "value",
    "numerator",
    "denominator",
    "unit",
    "collection",
    "basis",
    "misses",
]

#: What the job reads, by collection.
READS = {
    "partnerships": ["id", "pair", "status", "supplier", "distributor", "scorecard_settings"],
    "purchase_orders": [
        "id",
        "partnership",
        "status",
        "ordered_on",
        "requested_date",
        "promised_date",
        "original_promised_date",
        "placed_at",
        "acknowledged_at",
    ],
    "po_lines": [
        "id",
        "purchase_order",
        "partnership",
        "sku",
        "qty_ordered",
        "qty_promised",
        "answer",
    ],
    "shipments": [
        "id",
        "purchase_order",
        "partnership",
        "ship_date",
        "received_date",
        "recorded_at",
    ],
    "shipment_lines": ["id", "shipment", "po_line", "partnership", "qty_shipped", "qty_received"],
    "invoice_lines": ["id", "po_line", "partnership", "qty"],
    "skus": ["id", "case_pack"],
    "plan_actions": ["id", "plan", "partnership", "status", "due_date", "completed_on"],
}


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "purchase_orders", field("placed_at", "timestamp", meta=STAMP))
    ensure_field(hub, "shipments", field("recorded_at", "timestamp", meta=STAMP))
    ensure_field(hub, "partnerships", field("scorecard_settings", "json"))
    ensure_field(
        hub,
        "scorecards",
        field("source", "string", schema={"is_nullable": False, "default_value": "manual"}),
    )
    ensure_field(hub, "scorecards", field("grain", "string"))  # week | month | quarter
    ensure_field(hub, "scorecards", field("key", "string", schema={"is_unique": True}))
    ensure_field(hub, "scorecards", field("computed_at", "timestamp"))
    ensure_field(hub, "scorecards", field("digest", "string", schema={"length": 64}))
    ensure_field(hub, "scorecard_values", field("unit", "string"))  # % | days | ratio
    ensure_field(hub, "scorecard_values", field("collection", "string"))
    ensure_field(hub, "scorecard_values", field("basis", "json"))
    ensure_field(hub, "scorecard_values", field("misses", "json"))
    for collection in ("scorecards", "scorecard_values"):
        if hub.get(f"/collections/{collection}")["meta"].get("accountability") is not None:
            hub.patch(f"/collections/{collection}", {"meta": {"accountability": None}})

    # A manager may say a new scorecard is its own ("manual"); the hook refuses any other.
    set_fields(
        hub,
        ensure_policy(hub, MANAGER),
        "scorecards",
        "create",
        ["label", "partnership", "period_end", "period_start", "source", "values"],
    )

    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    for collection, fields in READS.items():
        ensure_permission(hub, sync, collection, "read", fields=fields)
    # The job writes computed scorecards only: a manager's own are not its to change, and
    # what says which pair and period a card is (its key, pair, source) is set once.
    ensure_permission(hub, sync, "scorecards", "read", fields=SCORECARD_FIELDS)
    ensure_permission(
        hub, sync, "scorecards", "create", fields=SCORECARD_FIELDS, validation=COMPUTED
    )
    ensure_permission(hub, sync, "scorecards", "update", fields=CARD_UPDATES, permissions=COMPUTED)
    ensure_permission(hub, sync, "scorecards", "delete", permissions=COMPUTED)
    ensure_permission(hub, sync, "scorecard_values", "read", fields=VALUE_FIELDS)
    # Only on a computed card: the integrity hook checks the parent (a policy's
    # validation sees the payload alone).
    ensure_permission(hub, sync, "scorecard_values", "create", fields=VALUE_FIELDS)
    ensure_permission(hub, sync, "scorecard_values", "delete", permissions={"scorecard": COMPUTED})
