"""A plan as it stood 1, 2, 4 and 8 weeks before its week (domain/forecasts.py,
``HORIZONS``), so its accuracy can be measured per horizon.

- ``forecasts.forecast_h<n>``: the forecast as last delivered at least n whole weeks
  before the week began, kept by the bulk lane with each import.
- ``commitments.units_h<n>``: the commitment likewise, kept by the integrity hook on each
  create and change. A partner never writes them: the hook refuses a payload naming one
  and puts its own figures in; the supplier's policy lists them so that it may.

Written out as they were when this migration was made, as migrations are.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, ensure_policy, field, set_fields

SUPPLIER = "Tandem supplier user"
HORIZONS = (1, 2, 4, 8)
KEPT = [f"units_h{h}" for h in HORIZONS]


def upgrade(hub: HubClient) -> None:
    for h in HORIZONS:
        ensure_field(hub, "forecasts", field(f"forecast_h{h}", "integer"))
        ensure_field(hub, "commitments", field(f"units_h{h}", "integer", meta={"readonly": True}))
    supplier = ensure_policy(hub, SUPPLIER)
    create = ["id", "note", "partnership", "sku", "units", "week_start"]
    set_fields(hub, supplier, "commitments", "create", sorted([*create, *KEPT]))
    set_fields(hub, supplier, "commitments", "update", sorted(["note", "units", *KEPT]))
