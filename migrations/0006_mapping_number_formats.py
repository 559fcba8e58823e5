"""Column mappings say how a distributor's files are written: encoding, delimiter, separators.

``column_mappings`` gains ``encoding`` (default ``utf-8``), ``delimiter`` (empty: found
from the header line), ``decimal_separator`` (default ``.``) and
``thousands_separator`` (empty: none). The defaults are how files were read before, so
an existing mapping keeps reading its files as it did; a value that does not fit its
separators is now a rejected row, never a guess (``12,50`` was stored as 1,250.00).
Distributors may write the new fields of their own mappings, as they write the others.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, ensure_permission, ensure_policy, field

DISTRIBUTOR = "Tandem distributor user"
OWN = {"distributor": {"_eq": "$CURRENT_USER.organization.id"}}
FIELDS = [
    field("encoding", "string", schema={"default_value": "utf-8"}),
    field("delimiter", "string"),
    field("decimal_separator", "string", schema={"default_value": "."}),
    field("thousands_separator", "string"),
]
WRITABLE = ["id", "kind", "columns", "date_format", "updated_at", "distributor"]


def upgrade(hub: HubClient) -> None:
    for definition in FIELDS:
        ensure_field(hub, "column_mappings", definition)
    distributor = ensure_policy(hub, DISTRIBUTOR)
    for action in ("create", "update"):
        ensure_permission(
            hub,
            distributor,
            "column_mappings",
            action,
            **({"permissions": OWN} if action == "update" else {}),
            validation=OWN,
            presets={"distributor": "$CURRENT_USER.organization.id"},
            fields=[*WRITABLE, *(f["field"] for f in FIELDS)],
        )
