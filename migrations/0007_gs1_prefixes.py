"""Suppliers' GS1 company prefixes, on their partner record.

``organizations.gs1_prefixes`` is a JSON list of digit strings (6 to 12 digits each),
set by the operator (``tandem partner prefixes``, the operator's partners page). The
integrity extension (``directus/extensions/tandem-integrity/gtin.js``) refuses a SKU
whose GTIN is not under its supplier's prefixes, or is registered already: without it a
supplier could register another supplier's GTIN and receive that product's POS. The
field is the operator's: no partner policy reads or writes it.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, field


def upgrade(hub: HubClient) -> None:
    ensure_field(
        hub,
        "organizations",
        field(
            "gs1_prefixes",
            "json",
            meta={"note": "GS1 company prefixes (a supplier's GTINs are under one of them)"},
        ),
    )
