"""Create the shared data model: partners, catalog, sales and inventory, orders, promotions,
forecasts, plans, risks, scorecards, sharing agreements, audit log, EDI messages, API tokens.

Conventions (docs/ARCHITECTURE.md has the why):
- Money is integer minor units plus an ISO 4217 ``currency``; never ``decimal``, which
  Directus stores as a float on SQLite. Exact ratios (KPI values) are decimal strings.
- Records that belong to a supplier-distributor pair point at one ``partnerships`` row,
  never at two organizations, so the pair cannot disagree with itself. Their children
  carry the partnership too, so a policy can check both.
- High-volume rows (POS, inventory, forecasts) have a natural-key string primary key,
  ``"<distributor>:<location>:<sku>:<YYYY-MM-DD>"``: the key is unique by construction and
  the bulk lane upserts on it. Their collections keep no activity or revisions.
"""

from __future__ import annotations

from typing import Any

from directus import HubClient
from migrations.schema import (
    ensure_collection,
    ensure_field,
    ensure_m2o,
    field,
    int_pk,
    required,
    string_pk,
)

NO_HISTORY = {"accountability": None}

COLLECTIONS: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    (
        "organizations",
        [
            int_pk(),
            required("name", "string", is_unique=True),
            required("kind", "string"),  # supplier | distributor | retailer | operator
            required("status", "string", default_value="active"),  # active | inactive
            field("gln", "string", schema={"length": 13, "is_unique": True}),
            field("currency", "string", schema={"length": 3, "default_value": "USD"}),
            field("x12_qualifier", "string", schema={"length": 2}),
            field("x12_id", "string", schema={"length": 15}),
            field("edifact_id", "string", schema={"length": 35}),
            field("share_policy", "uuid", meta={"hidden": True, "readonly": True}),
        ],
        {"note": "Suppliers, distributors, retailers and the operator"},
    ),
    (
        "partnerships",
        [
            int_pk(),
            required("pair", "string", is_unique=True),  # "<supplier>:<distributor>"
            required("status", "string", default_value="active"),
        ],
        {"note": "One supplier-distributor pair; pair-bound records point here"},
    ),
    (
        "partnership_managers",
        [string_pk()],  # "<partnership>:<user>"
        {"note": "Account managers assigned to a pair"},
    ),
    (
        "skus",
        [
            int_pk(),
            required("gtin", "string", length=14, is_unique=True),
            required("description", "string"),
            field("category", "string"),
            required("unit", "string", default_value="EA"),
            required("case_pack", "integer", default_value=1),
            required("cost_minor", "bigInteger"),
            required("list_price_minor", "bigInteger"),
            required("currency", "string", length=3),
            required("lead_time_days", "integer", default_value=14),
            required("status", "string", default_value="active"),
        ],
        {"note": "A supplier's items; GTIN with a valid GS1 check digit"},
    ),
    (
        "sku_codes",
        [string_pk(), required("item_code", "string")],  # "<distributor>:<item_code>"
        {"note": "Each distributor's own item code for a SKU"},
    ),
    (
        "locations",
        [
            int_pk(),
            required("ref", "string", is_unique=True),  # "<distributor>:<code>"
            required("code", "string"),
            required("name", "string"),
            required("kind", "string"),  # store | dc
            field("gln", "string", schema={"length": 13}),
            field("region", "string"),
            required("status", "string", default_value="active"),
        ],
        {"note": "Stores and DCs, owned by a distributor"},
    ),
    (
        "pos_sales",
        [
            string_pk(length=64),
            required("day", "date"),
            required("units", "integer"),
            required("net_sales_minor", "bigInteger"),
            required("currency", "string", length=3),
        ],
        {"note": "Daily point-of-sale by distributor, location and SKU", **NO_HISTORY},
    ),
    (
        "inventory_positions",
        [
            string_pk(length=64),
            required("day", "date"),
            required("on_hand", "integer"),
            required("in_transit", "integer", default_value=0),
            required("on_order", "integer", default_value=0),
        ],
        {"note": "Daily inventory by distributor, location and SKU", **NO_HISTORY},
    ),
    (
        "forecasts",
        [
            string_pk(length=64),  # "<distributor>:<location>:<sku>:<week start>"
            required("week_start", "date"),
            field("forecast_units", "integer"),
            field("commit_units", "integer"),
            field("commit_note", "text"),
        ],
        {"note": "Weekly distributor forecast and supplier commitment", **NO_HISTORY},
    ),
    (
        "promotions",
        [
            int_pk(),
            required("name", "string"),
            required("type", "string"),  # tpr | display | feature | bogo | bundle
            field("mechanics", "text"),
            required("start_date", "date"),
            required("end_date", "date"),
            field("expected_uplift_pct", "integer"),
            required("status", "string", default_value="draft"),
            field("supplier_comment", "text"),
        ],
        {"note": "A distributor's promotion on a supplier's SKUs"},
    ),
    ("promotion_skus", [int_pk()], {"note": "SKUs a promotion covers"}),
    ("promotion_locations", [int_pk()], {"note": "Locations a promotion covers"}),
    (
        "promotion_events",
        [
            int_pk(),
            required("status", "string"),
            field("comment", "text"),
            required("at", "timestamp"),
        ],
        {"note": "Status history of a promotion"},
    ),
    (
        "purchase_orders",
        [
            int_pk(),
            required("number", "string"),
            required("status", "string", default_value="open"),
            required("ordered_on", "date"),
            required("requested_date", "date"),
            field("promised_date", "date"),
            field("original_promised_date", "date"),
            field("revised_date", "date"),
            field("acknowledged_at", "timestamp"),
            required("currency", "string", length=3),
        ],
        {"note": "A distributor's PO to a supplier, with its commitment dates"},
    ),
    (
        "po_lines",
        [
            int_pk(),
            required("line_no", "integer"),
            required("qty_ordered", "integer"),
            required("unit_cost_minor", "bigInteger"),
            field("qty_promised", "integer"),
            field("promised_date", "date"),
            field("original_promised_date", "date"),
            field("revised_date", "date"),
        ],
        {"note": "PO lines; the supplier's promise is kept beside the original"},
    ),
    (
        "shipments",
        [
            int_pk(),
            required("number", "string"),
            required("status", "string", default_value="shipped"),
            required("ship_date", "date"),
            field("expected_delivery", "date"),
            field("received_date", "date"),
        ],
        {"note": "Advance ship notices (ASN) against a PO"},
    ),
    (
        "shipment_lines",
        [int_pk(), required("qty_shipped", "integer"), field("qty_received", "integer")],
        {"note": "ASN lines"},
    ),
    (
        "invoices",
        [
            int_pk(),
            required("number", "string"),
            required("invoice_date", "date"),
            field("due_date", "date"),
            required("total_minor", "bigInteger"),
            required("currency", "string", length=3),
            required("status", "string", default_value="open"),
        ],
        {"note": "Supplier invoices against a PO"},
    ),
    (
        "invoice_lines",
        [
            int_pk(),
            required("qty", "integer"),
            required("unit_price_minor", "bigInteger"),
            required("amount_minor", "bigInteger"),
        ],
        {"note": "Invoice lines"},
    ),
    (
        "business_plans",
        [
            int_pk(),
            required("year", "integer"),
            field("targets", "json"),  # {"metric": "decimal string"}
            field("sponsors", "text"),
            required("status", "string", default_value="draft"),
        ],
        {"note": "Joint business plan per pair and year"},
    ),
    (
        "plan_revisions",
        [
            int_pk(),
            required("quarter", "integer"),
            field("targets", "json"),
            field("notes", "text"),
            required("revised_on", "date"),
        ],
        {"note": "Quarterly refinements of a joint business plan"},
    ),
    (
        "plan_actions",
        [
            int_pk(),
            required("title", "string"),
            required("owner_side", "string"),  # supplier | distributor
            field("due_date", "date"),
            required("status", "string", default_value="open"),
            field("completed_on", "date"),
        ],
        {"note": "Actions in a plan, each with an owner on one side"},
    ),
    (
        "risks",
        [
            int_pk(),
            required("title", "string"),
            field("description", "text"),
            field("category", "string"),
            required("likelihood", "integer"),
            required("impact", "integer"),
            field("mitigation", "text"),
            field("review_date", "date"),
            required("status", "string", default_value="open"),
        ],
        {"note": "Risk register per pair; score = likelihood x impact"},
    ),
    (
        "scorecards",
        [
            int_pk(),
            required("period_start", "date"),
            required("period_end", "date"),
            field("label", "string"),
        ],
        {"note": "Scorecard per pair and period"},
    ),
    (
        "scorecard_values",
        [
            int_pk(),
            required("kpi", "string"),
            required("variant", "string"),
            field("value", "string"),  # exact decimal as text
            field("numerator", "string"),
            field("denominator", "string"),
        ],
        {"note": "One KPI value on a scorecard, naming its definition variant"},
    ),
    (
        "share_agreements",
        [
            int_pk(),
            required("kinds", "json"),  # ["pos", "inventory", "forecasts", ...]
            field("regions", "json"),  # [] or null: all
            field("locations", "json"),  # [] or null: all (location ids)
            required("granularity", "string", default_value="store_day"),  # or aggregated
            required("valid_from", "date"),
            field("valid_to", "date"),
            field("purpose", "text"),
            required("status", "string", default_value="active"),  # active | revoked
            field("revoked_at", "timestamp"),
        ],
        {"note": "Data-sharing agreements: grantor's data kinds shown to a grantee"},
    ),
    (
        "audit_log",
        [
            int_pk(),
            required("at", "timestamp"),
            required("action", "string"),
            field("collection", "string"),
            field("record_ids", "json"),
            field("detail", "json"),
            field("via", "string"),
        ],
        {"note": "Who did what to which records, and when", **NO_HISTORY},
    ),
    (
        "edi_messages",
        [
            int_pk(),
            required("direction", "string"),  # in | out
            required("standard", "string"),  # x12 | edifact
            required("message_type", "string"),
            field("control_number", "string"),
            required("status", "string"),
            required("received_at", "timestamp"),
            field("payload", "text"),
            field("error", "text"),
            field("related_collection", "string"),
            field("related_id", "string"),
        ],
        {"note": "EDI interchanges in and out", **NO_HISTORY},
    ),
    (
        "api_tokens",
        [
            string_pk(length=32),  # public token id
            required("name", "string"),
            required("token_hash", "string"),
            required("sealed", "text"),
            required("created_at", "timestamp"),
            field("last_used_at", "timestamp"),
            field("expires_at", "timestamp"),
            field("revoked_at", "timestamp"),
        ],
        {"note": "Personal API tokens: a hash and a session sealed with the token", **NO_HISTORY},
    ),
]

# (collection, field, related collection, o2m alias on the related side, nullable)
RELATIONS: list[tuple[str, str, str, str | None, bool]] = [
    ("directus_users", "organization", "organizations", "members", True),
    ("partnerships", "supplier", "organizations", "supplier_partnerships", False),
    ("partnerships", "distributor", "organizations", "distributor_partnerships", False),
    ("partnership_managers", "partnership", "partnerships", "managers", False),
    ("partnership_managers", "user", "directus_users", "managed_pairs", False),
    ("skus", "supplier", "organizations", "skus", False),
    ("sku_codes", "sku", "skus", "codes", False),
    ("sku_codes", "distributor", "organizations", None, False),
    ("locations", "distributor", "organizations", "locations", False),
    ("pos_sales", "distributor", "organizations", None, False),
    ("pos_sales", "location", "locations", None, False),
    ("pos_sales", "sku", "skus", None, False),
    ("inventory_positions", "distributor", "organizations", None, False),
    ("inventory_positions", "location", "locations", None, False),
    ("inventory_positions", "sku", "skus", None, False),
    ("forecasts", "distributor", "organizations", None, False),
    ("forecasts", "location", "locations", None, False),
    ("forecasts", "sku", "skus", None, False),
    ("promotions", "partnership", "partnerships", "promotions", False),
    ("promotion_skus", "promotion", "promotions", "skus", False),
    ("promotion_skus", "partnership", "partnerships", None, False),
    ("promotion_skus", "sku", "skus", None, False),
    ("promotion_locations", "promotion", "promotions", "locations", False),
    ("promotion_locations", "partnership", "partnerships", None, False),
    ("promotion_locations", "location", "locations", None, False),
    ("promotion_events", "promotion", "promotions", "history", False),
    ("promotion_events", "partnership", "partnerships", None, False),
    ("promotion_events", "actor", "directus_users", None, True),
    ("purchase_orders", "partnership", "partnerships", "purchase_orders", False),
    ("purchase_orders", "ship_to", "locations", "purchase_orders", True),
    ("po_lines", "purchase_order", "purchase_orders", "lines", False),
    ("po_lines", "partnership", "partnerships", None, False),
    ("po_lines", "sku", "skus", None, False),
    ("shipments", "purchase_order", "purchase_orders", "shipments", False),
    ("shipments", "partnership", "partnerships", None, False),
    ("shipment_lines", "shipment", "shipments", "lines", False),
    ("shipment_lines", "partnership", "partnerships", None, False),
    ("shipment_lines", "po_line", "po_lines", None, False),
    ("invoices", "purchase_order", "purchase_orders", "invoices", False),
    ("invoices", "partnership", "partnerships", None, False),
    ("invoice_lines", "invoice", "invoices", "lines", False),
    ("invoice_lines", "partnership", "partnerships", None, False),
    ("invoice_lines", "po_line", "po_lines", None, True),
    ("business_plans", "partnership", "partnerships", "plans", False),
    ("plan_revisions", "plan", "business_plans", "revisions", False),
    ("plan_revisions", "partnership", "partnerships", None, False),
    ("plan_actions", "plan", "business_plans", "actions", False),
    ("plan_actions", "partnership", "partnerships", None, False),
    ("plan_actions", "owner", "directus_users", None, True),
    ("risks", "partnership", "partnerships", "risks", False),
    ("risks", "supplier_owner", "directus_users", None, True),
    ("risks", "distributor_owner", "directus_users", None, True),
    ("scorecards", "partnership", "partnerships", "scorecards", False),
    ("scorecard_values", "scorecard", "scorecards", "values", False),
    ("scorecard_values", "partnership", "partnerships", None, False),
    ("share_agreements", "grantor", "organizations", "granted_agreements", False),
    ("share_agreements", "grantee", "organizations", "received_agreements", False),
    ("audit_log", "actor", "directus_users", None, True),
    ("audit_log", "organization", "organizations", None, True),
    ("edi_messages", "sender", "organizations", None, True),
    ("edi_messages", "receiver", "organizations", None, True),
    ("api_tokens", "user", "directus_users", None, False),
]

USER_FIELDS = [
    # supplier_user | distributor_user | account_manager | operator_admin
    field("tandem_role", "string", meta={"interface": "select-dropdown"}),
]


def upgrade(hub: HubClient) -> None:
    for name, fields, meta in COLLECTIONS:
        ensure_collection(hub, name, fields, meta=meta)
    for definition in USER_FIELDS:
        ensure_field(hub, "directus_users", definition)
    for collection, name, related, alias, nullable in RELATIONS:
        ensure_m2o(hub, collection, name, related, one_field=alias, nullable=nullable)
