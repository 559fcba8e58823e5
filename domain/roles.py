"""The four Tandem roles and the organization kinds they belong to."""

from __future__ import annotations

SUPPLIER_USER = "supplier_user"
DISTRIBUTOR_USER = "distributor_user"
ACCOUNT_MANAGER = "account_manager"
OPERATOR_ADMIN = "operator_admin"

ROLES = (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER, OPERATOR_ADMIN)

ORG_KINDS = ("supplier", "distributor", "retailer", "operator")

# Which organization kinds each role may belong to.
ROLE_ORG_KINDS: dict[str, tuple[str, ...]] = {
    SUPPLIER_USER: ("supplier",),
    DISTRIBUTOR_USER: ("distributor", "retailer"),
    # An account manager works for the operator, across the pairs assigned to it: never
    # inside one partner, whose share policy it would otherwise inherit.
    ACCOUNT_MANAGER: ("operator",),
    OPERATOR_ADMIN: ("operator",),
}

# The hub role (migrations/0003_governance.py) that carries each Tandem role's rules.
HUB_ROLE_NAMES: dict[str, str] = {
    SUPPLIER_USER: "Tandem supplier user",
    DISTRIBUTOR_USER: "Tandem distributor user",
    ACCOUNT_MANAGER: "Tandem account manager",
    OPERATOR_ADMIN: "Tandem operator admin",
}

DATA_KINDS = ("pos", "inventory", "forecasts", "promotions", "orders")
GRANULARITIES = ("store_day", "aggregated")
