"""Each side's policy grants only the fields it owns (domain/ownership.py).

The partner policies of 0003 let a supplier write every field of its shipments, ASN
lines, invoices and invoice lines (a distributor's received date and received quantities
among them), a distributor change a promotion's ``partnership`` and any field of its
SKU and location links, and an account manager any field of plans, risks and scorecards,
``partnership`` included. The integrity hook now refuses those writes (with 400 naming
the field); this migration narrows the policies' field lists to the same table, so a
policy never grants a field the table gives to the other side, and a ``partnership`` is
written on create only. Filters, validation and presets are left as they are.

The lists are written out as they were when this migration was made, as migrations are;
``tests/test_access_matrix.py`` checks that the hub's policies still grant exactly what
the table says, so a later change of the table needs a migration of its own.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_policy, set_fields

SUPPLIER = "Tandem supplier user"
DISTRIBUTOR = "Tandem distributor user"
MANAGER = "Tandem account manager"

PROMISE = ["original_promised_date", "promised_date", "revised_date"]

#: policy -> (collection, action) -> the fields it may write
FIELDS: dict[str, dict[tuple[str, str], list[str]]] = {
    SUPPLIER: {
        ("shipments", "create"): [
            "expected_delivery",
            "lines",
            "number",
            "partnership",
            "purchase_order",
            "ship_date",
            "status",
        ],
        ("shipments", "update"): ["expected_delivery", "number", "ship_date"],
        ("shipment_lines", "create"): ["partnership", "po_line", "qty_shipped", "shipment"],
        ("shipment_lines", "update"): ["qty_shipped"],
        ("invoices", "create"): [
            "currency",
            "due_date",
            "invoice_date",
            "lines",
            "number",
            "partnership",
            "purchase_order",
            "status",
            "total_minor",
        ],
        ("invoices", "update"): ["currency", "due_date", "invoice_date", "number", "total_minor"],
        ("invoice_lines", "create"): [
            "amount_minor",
            "invoice",
            "partnership",
            "po_line",
            "qty",
            "unit_price_minor",
        ],
        ("invoice_lines", "update"): ["amount_minor", "po_line", "qty", "unit_price_minor"],
        ("promotion_events", "create"): [
            "actor",
            "at",
            "comment",
            "partnership",
            "promotion",
            "status",
        ],
        ("promotions", "update"): ["history", "status", "supplier_comment"],
        ("purchase_orders", "update"): ["acknowledged_at", *PROMISE, "status"],
        ("po_lines", "update"): [*PROMISE, "qty_promised"],
        ("plan_actions", "update"): ["completed_on", "status"],
    },
    DISTRIBUTOR: {
        ("promotions", "create"): [
            "end_date",
            "expected_uplift_pct",
            "history",
            "locations",
            "mechanics",
            "name",
            "partnership",
            "skus",
            "start_date",
            "status",
            "type",
        ],
        ("promotions", "update"): [
            "end_date",
            "expected_uplift_pct",
            "history",
            "mechanics",
            "name",
            "start_date",
            "status",
            "type",
        ],
        ("promotion_skus", "create"): ["partnership", "promotion", "sku"],
        ("promotion_skus", "update"): ["sku"],
        ("promotion_locations", "create"): ["location", "partnership", "promotion"],
        ("promotion_locations", "update"): ["location"],
        ("promotion_events", "create"): [
            "actor",
            "at",
            "comment",
            "partnership",
            "promotion",
            "status",
        ],
        ("purchase_orders", "create"): [
            "currency",
            "lines",
            "number",
            "ordered_on",
            "partnership",
            "requested_date",
            "ship_to",
            "status",
        ],
        ("purchase_orders", "update"): ["requested_date", "ship_to", "status"],
        ("po_lines", "create"): [
            "line_no",
            "partnership",
            "purchase_order",
            "qty_ordered",
            "sku",
            "unit_cost_minor",
        ],
        ("po_lines", "update"): ["qty_ordered", "unit_cost_minor"],
        ("shipments", "update"): ["received_date", "status"],
        ("shipment_lines", "update"): ["qty_received"],
        ("invoices", "update"): ["status"],
        ("plan_actions", "update"): ["completed_on", "status"],
    },
    MANAGER: {
        ("business_plans", "create"): ["partnership", "sponsors", "status", "targets", "year"],
        ("business_plans", "update"): ["sponsors", "status", "targets"],
        ("plan_revisions", "create"): [
            "notes",
            "partnership",
            "plan",
            "quarter",
            "revised_on",
            "targets",
        ],
        ("plan_revisions", "update"): ["notes", "quarter", "revised_on", "targets"],
        ("plan_actions", "create"): [
            "completed_on",
            "due_date",
            "owner",
            "owner_side",
            "partnership",
            "plan",
            "status",
            "title",
        ],
        ("plan_actions", "update"): [
            "completed_on",
            "due_date",
            "owner",
            "owner_side",
            "status",
            "title",
        ],
        ("risks", "create"): [
            "category",
            "description",
            "distributor_owner",
            "impact",
            "likelihood",
            "mitigation",
            "partnership",
            "review_date",
            "status",
            "supplier_owner",
            "title",
        ],
        ("risks", "update"): [
            "category",
            "description",
            "distributor_owner",
            "impact",
            "likelihood",
            "mitigation",
            "review_date",
            "status",
            "supplier_owner",
            "title",
        ],
        ("scorecards", "create"): ["label", "partnership", "period_end", "period_start", "values"],
        ("scorecards", "update"): ["label", "period_end", "period_start"],
        ("scorecard_values", "create"): [
            "denominator",
            "kpi",
            "numerator",
            "partnership",
            "scorecard",
            "value",
            "variant",
        ],
        ("scorecard_values", "update"): ["denominator", "kpi", "numerator", "value", "variant"],
    },
}


def upgrade(hub: HubClient) -> None:
    for name, grants in FIELDS.items():
        policy = ensure_policy(hub, name)
        for (collection, action), fields in grants.items():
            set_fields(hub, policy, collection, action, fields)
