"""Create the partner roles and their row rules: supplier user, distributor user, account
manager and operator admin, plus the portal's token-verification service.

What each role may do is written out below as data. POS, inventory and forecast rows are
not here: a supplier sees those only through its organization's share policy, which
:mod:`governance.sharing` regenerates from the agreements in force.

Relations "to many" are filtered without ``_some``: Directus 11.17.4 honours ``_some`` only
at the top level of a filter and silently ignores it below (matching every row), while a
plain nested o2m filter means "some related row matches all of these".

Directus checks item rules on read, update and delete, but on create it checks only
``validation`` (the payload) and ``presets``. So every create rule pins the partnership
to one of the user's own (``_in`` a ``$CURRENT_USER`` path), and every read rule on a
child row checks its own partnership and its parent's.
"""

from __future__ import annotations

from typing import Any

from directus import HubClient
from migrations.accounts import PORTAL_AUTH_EMAIL, PORTAL_AUTH_ROLE
from migrations.schema import (
    ensure_permission,
    ensure_policy,
    ensure_role,
    ensure_service_user,
)

# ".id", not the bare field: when a request also needs a deeper path such as
# "$CURRENT_USER.organization.supplier_partnerships.id", Directus fetches the organization
# as an object and the bare "$CURRENT_USER.organization" is no longer an id (400
# "Invalid numeric value" on every such update).
ORG = "$CURRENT_USER.organization.id"
ME = "$CURRENT_USER"

SUPPLIER = "Tandem supplier user"
DISTRIBUTOR = "Tandem distributor user"
MANAGER = "Tandem account manager"
OPERATOR = "Tandem operator admin"

Filter = dict[str, Any]

# Pair-bound collections and the parent whose partnership must match too.
PAIR_BOUND: dict[str, str | None] = {
    "promotions": None,
    "promotion_skus": "promotion",
    "promotion_locations": "promotion",
    "promotion_events": "promotion",
    "purchase_orders": None,
    "po_lines": "purchase_order",
    "shipments": "purchase_order",
    "shipment_lines": "shipment",
    "invoices": "purchase_order",
    "invoice_lines": "invoice",
    "business_plans": None,
    "plan_revisions": "plan",
    "plan_actions": "plan",
    "risks": None,
    "scorecards": None,
    "scorecard_values": "scorecard",
}

SIDE_OF_PAIR: dict[str, Filter] = {
    "supplier": {"supplier": {"_eq": ORG}},
    "distributor": {"distributor": {"_eq": ORG}},
    "manager": {"managers": {"user": {"_eq": ME}}},
}

MY_PAIRS: dict[str, str] = {
    "supplier": "$CURRENT_USER.organization.supplier_partnerships.id",
    "distributor": "$CURRENT_USER.organization.distributor_partnerships.id",
    "manager": f"{ME}.managed_pairs.partnership",
}


def pair_rule(collection: str, side: str) -> Filter:
    """Rows of a pair-bound collection that this side of the pair may see."""
    rules = [{"partnership": SIDE_OF_PAIR[side]}]
    parent = PAIR_BOUND[collection]
    if parent:
        rules.append({parent: {"partnership": SIDE_OF_PAIR[side]}})
    return {"_and": rules}


def pair_create(side: str, extra: Filter | None = None) -> Filter:
    """Validation for a create: the partnership named must be one of the user's."""
    rules: list[Filter] = [{"partnership": {"_in": [MY_PAIRS[side]]}}]
    if extra:
        rules.append(extra)
    return {"_and": rules}


ORG_FIELDS = [
    "id",
    "name",
    "kind",
    "status",
    "gln",
    "currency",
    "x12_qualifier",
    "x12_id",
    "edifact_id",
]
USER_FIELDS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "status",
    "organization",
    "tandem_role",
    "role",
]
AUDIT_CREATE = {
    "validation": {"_and": [{"actor": {"_eq": ME}}, {"organization": {"_eq": ORG}}]},
    "presets": {"actor": ME, "organization": ORG},
}
OWN_TOKENS = {"user": {"_eq": ME}}
TOKEN_LIST_FIELDS = ["id", "name", "created_at", "last_used_at", "expires_at", "revoked_at", "user"]


def common(side: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Rules every partner role has, for its own organization and its own pairs."""
    rules: list[tuple[str, str, dict[str, Any]]] = [
        (
            "directus_users",
            "read",
            {"permissions": {"organization": {"_eq": ORG}}, "fields": USER_FIELDS},
        ),
        ("partnerships", "read", {"permissions": SIDE_OF_PAIR[side]}),
        ("partnership_managers", "read", {"permissions": {"partnership": SIDE_OF_PAIR[side]}}),
        ("audit_log", "create", AUDIT_CREATE),
        ("api_tokens", "read", {"permissions": OWN_TOKENS, "fields": TOKEN_LIST_FIELDS}),
        (
            "api_tokens",
            "create",
            {
                "validation": {"user": {"_eq": ME}},
                "presets": {"user": ME},
            },
        ),
        # Revoking is one-way: a revoked token cannot be reinstated by clearing revoked_at.
        (
            "api_tokens",
            "update",
            {
                "permissions": {"_and": [OWN_TOKENS, {"revoked_at": {"_null": True}}]},
                "fields": ["revoked_at"],
                "validation": {"revoked_at": {"_nnull": True}},
            },
        ),
    ]
    for collection in PAIR_BOUND:
        rules.append((collection, "read", {"permissions": pair_rule(collection, side)}))
    return rules


def supplier_rules() -> list[tuple[str, str, dict[str, Any]]]:
    side = "supplier"
    not_draft = {"status": {"_neq": "draft"}}
    rules = common(side)
    # Suppliers see a promotion once it is submitted, never a distributor's draft.
    rules = [
        r
        for r in rules
        if r[0] not in ("promotions", "promotion_skus", "promotion_locations", "promotion_events")
    ]
    rules += [
        (
            "organizations",
            "read",
            {
                "permissions": {
                    "_or": [
                        {"id": {"_eq": ORG}},
                        {"distributor_partnerships": {"supplier": {"_eq": ORG}}},
                    ]
                },
                "fields": ORG_FIELDS,
            },
        ),
        ("skus", "read", {"permissions": {"supplier": {"_eq": ORG}}}),
        (
            "skus",
            "create",
            {
                "validation": {"supplier": {"_eq": ORG}},
                "presets": {"supplier": ORG},
            },
        ),
        (
            "skus",
            "update",
            {
                "permissions": {"supplier": {"_eq": ORG}},
                "validation": {"supplier": {"_eq": ORG}},
            },
        ),
        ("sku_codes", "read", {"permissions": {"sku": {"supplier": {"_eq": ORG}}}}),
        (
            "locations",
            "read",
            {"permissions": {"purchase_orders": {"partnership": SIDE_OF_PAIR[side]}}},
        ),
        (
            "promotions",
            "read",
            {"permissions": {"_and": [pair_rule("promotions", side), not_draft]}},
        ),
        (
            "promotions",
            "update",
            {
                # Only a submitted promotion is answered, once: not a cancelled or answered one.
                "permissions": {
                    "_and": [pair_rule("promotions", side), {"status": {"_eq": "submitted"}}]
                },
                # history: the answer and its history row are one hub transaction.
                "fields": ["status", "supplier_comment", "history"],
                "validation": {"status": {"_in": ["accepted", "declined"]}},
            },
        ),
    ]
    for child in ("promotion_skus", "promotion_locations", "promotion_events"):
        rules.append(
            (
                child,
                "read",
                {"permissions": {"_and": [pair_rule(child, side), {"promotion": not_draft}]}},
            )
        )
    rules += [
        (
            "promotion_events",
            "create",
            {
                "validation": pair_create(side, {"actor": {"_eq": ME}}),
                "presets": {"actor": ME},
            },
        ),
        (
            "purchase_orders",
            "update",
            {
                "permissions": pair_rule("purchase_orders", side),
                "fields": [
                    "status",
                    "promised_date",
                    "original_promised_date",
                    "revised_date",
                    "acknowledged_at",
                ],
                "validation": {
                    "status": {
                        "_in": ["acknowledged", "rejected", "shipped", "partially_shipped", "open"]
                    }
                },
            },
        ),
        (
            "po_lines",
            "update",
            {
                "permissions": pair_rule("po_lines", side),
                "fields": [
                    "qty_promised",
                    "promised_date",
                    "original_promised_date",
                    "revised_date",
                ],
            },
        ),
    ]
    for collection in ("shipments", "shipment_lines", "invoices", "invoice_lines"):
        rules.append((collection, "create", {"validation": pair_create(side)}))
        rules.append(
            (
                collection,
                "update",
                {
                    "permissions": pair_rule(collection, side),
                    "validation": pair_create(side),
                },
            )
        )
    rules += partner_tail(side)
    return rules


def partner_tail(side: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (
            "plan_actions",
            "update",
            {
                "permissions": {"_and": [pair_rule("plan_actions", side), {"owner": {"_eq": ME}}]},
                "fields": ["status", "completed_on"],
            },
        ),
        (
            "share_agreements",
            "read",
            {"permissions": {"_or": [{"grantor": {"_eq": ORG}}, {"grantee": {"_eq": ORG}}]}},
        ),
        (
            "edi_messages",
            "read",
            {"permissions": {"_or": [{"sender": {"_eq": ORG}}, {"receiver": {"_eq": ORG}}]}},
        ),
    ]


def distributor_rules() -> list[tuple[str, str, dict[str, Any]]]:
    side = "distributor"
    own = {"distributor": {"_eq": ORG}}
    rules = common(side)
    rules += [
        (
            "organizations",
            "read",
            {
                "permissions": {
                    "_or": [
                        {"id": {"_eq": ORG}},
                        {"supplier_partnerships": {"distributor": {"_eq": ORG}}},
                    ]
                },
                "fields": ORG_FIELDS,
            },
        ),
        # The catalogues (costs included) of the suppliers it trades with, no others.
        (
            "skus",
            "read",
            {"permissions": {"supplier": {"supplier_partnerships": {"distributor": {"_eq": ORG}}}}},
        ),
    ]
    for collection in ("sku_codes", "locations", "pos_sales", "inventory_positions", "forecasts"):
        fields = (
            ["id", "distributor", "location", "sku", "week_start", "forecast_units"]
            if collection == "forecasts"
            else ["*"]
        )
        rules += [
            (collection, "read", {"permissions": own}),
            (
                collection,
                "create",
                {"validation": own, "presets": {"distributor": ORG}, "fields": fields},
            ),
            (collection, "update", {"permissions": own, "validation": own, "fields": fields}),
            (collection, "delete", {"permissions": own}),
        ]
    promo_fields = [
        "name",
        "type",
        "mechanics",
        "start_date",
        "end_date",
        "expected_uplift_pct",
        "status",
        "partnership",
    ]
    promo_status = {"status": {"_in": ["draft", "submitted", "cancelled"]}}
    rules += [
        (
            "promotions",
            "create",
            # The aliases let a promotion, its SKUs, locations and first history row be
            # created in one hub transaction; each nested row passes its own create rule.
            {
                "validation": pair_create(side, promo_status),
                "fields": [*promo_fields, "skus", "locations", "history"],
            },
        ),
        (
            "promotions",
            "update",
            {
                "permissions": pair_rule("promotions", side),
                "validation": pair_create(side, promo_status),
                "fields": [*promo_fields, "history"],
            },
        ),
        (
            "promotions",
            "delete",
            {
                "permissions": {
                    "_and": [pair_rule("promotions", side), {"status": {"_eq": "draft"}}]
                }
            },
        ),
        (
            "promotion_events",
            "create",
            {
                "validation": pair_create(side, {"actor": {"_eq": ME}}),
                "presets": {"actor": ME},
            },
        ),
    ]
    for child in ("promotion_skus", "promotion_locations"):
        rules += [
            (child, "create", {"validation": pair_create(side)}),
            (
                child,
                "update",
                {"permissions": pair_rule(child, side), "validation": pair_create(side)},
            ),
            (child, "delete", {"permissions": pair_rule(child, side)}),
        ]
    rules += [
        (
            "purchase_orders",
            "create",
            {
                "validation": pair_create(side),
                "fields": [
                    "number",
                    "status",
                    "ordered_on",
                    "requested_date",
                    "currency",
                    "ship_to",
                    "partnership",
                    "lines",  # an order and its lines in one hub transaction
                ],
            },
        ),
        (
            "purchase_orders",
            "update",
            {
                "permissions": pair_rule("purchase_orders", side),
                "validation": pair_create(side),
                "fields": ["status", "requested_date", "ship_to"],
            },
        ),
        (
            "po_lines",
            "create",
            {
                "validation": pair_create(side),
                "fields": [
                    "line_no",
                    "qty_ordered",
                    "unit_cost_minor",
                    "sku",
                    "purchase_order",
                    "partnership",
                ],
            },
        ),
        (
            "po_lines",
            "update",
            {
                "permissions": pair_rule("po_lines", side),
                "validation": pair_create(side),
                "fields": ["qty_ordered", "unit_cost_minor"],
            },
        ),
        (
            "shipments",
            "update",
            {"permissions": pair_rule("shipments", side), "fields": ["received_date", "status"]},
        ),
        (
            "shipment_lines",
            "update",
            {"permissions": pair_rule("shipment_lines", side), "fields": ["qty_received"]},
        ),
        ("invoices", "update", {"permissions": pair_rule("invoices", side), "fields": ["status"]}),
    ]
    rules += partner_tail(side)
    return rules


def manager_rules() -> list[tuple[str, str, dict[str, Any]]]:
    side = "manager"
    in_my_pairs = {"managers": {"user": {"_eq": ME}}}
    rules = common(side)
    rules += [
        (
            "organizations",
            "read",
            {
                "permissions": {
                    "_or": [
                        {"id": {"_eq": ORG}},
                        {"supplier_partnerships": in_my_pairs},
                        {"distributor_partnerships": in_my_pairs},
                    ]
                },
                "fields": ORG_FIELDS,
            },
        ),
        ("skus", "read", {"permissions": {"supplier": {"supplier_partnerships": in_my_pairs}}}),
        (
            "locations",
            "read",
            {"permissions": {"purchase_orders": {"partnership": SIDE_OF_PAIR[side]}}},
        ),
    ]
    for collection in (
        "business_plans",
        "plan_revisions",
        "plan_actions",
        "risks",
        "scorecards",
        "scorecard_values",
    ):
        rules += [
            (collection, "create", {"validation": pair_create(side)}),
            (
                collection,
                "update",
                {"permissions": pair_rule(collection, side), "validation": pair_create(side)},
            ),
            (collection, "delete", {"permissions": pair_rule(collection, side)}),
        ]
    return rules


ROLES = {
    SUPPLIER: ("supplier_user", supplier_rules),
    DISTRIBUTOR: ("distributor_user", distributor_rules),
    MANAGER: ("account_manager", manager_rules),
}


def upgrade(hub: HubClient) -> None:
    for name, (_, rules) in ROLES.items():
        policy = ensure_policy(
            hub,
            name,
            app_access=False,
            description="Partner rules; see migrations/0003_governance.py",
        )
        for collection, action, spec in rules():
            ensure_permission(hub, policy, collection, action, **spec)
        ensure_role(hub, name, policies=[policy])
    admin = ensure_policy(
        hub,
        OPERATOR,
        admin_access=True,
        app_access=True,
        description="Operator admins administer everything",
    )
    ensure_role(hub, OPERATOR, policies=[admin])

    auth = ensure_policy(
        hub, PORTAL_AUTH_ROLE, description="Portal: verify personal API tokens, nothing else"
    )
    ensure_permission(hub, auth, "api_tokens", "read")
    ensure_permission(hub, auth, "api_tokens", "update", fields=["sealed", "last_used_at"])
    role = ensure_role(hub, PORTAL_AUTH_ROLE, policies=[auth])
    ensure_service_user(
        hub, PORTAL_AUTH_EMAIL, role, first_name="Tandem", last_name="Portal token verifier"
    )
