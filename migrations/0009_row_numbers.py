"""POS, inventory and forecast rows get a number the hub can page by (``seq``).

Their primary keys are text (``"<distributor>:<location>:<sku>:<day>"``), and Directus
11.17.4 compares no text (``_gt`` is refused for string fields), so a long list of them
could only be paged by offset, each page re-reading every row before it. ``seq`` is a
unique integer, given to each row when it is first stored and never changed: exports and
lists break ties on it, and pages ask for the rows after the last one seen.

- ``row_numbers`` holds, per collection, the next number to give. Only the hub's admins
  read or write it. The bulk lane takes a block of numbers for the rows an import adds
  (:meth:`directus.bulk.Lane.merge`); the integrity extension takes one for each
  forecast created through REST, in the create's own transaction, and refuses a
  ``seq`` a caller names (partners may not choose it, as they may not choose keys).
- Rows stored before this migration are numbered now, through the extension's
  ``POST /tandem/number-rows`` (admins only), in one transaction per collection.
- Distributors' forecast creates may carry ``seq``, which is how the extension's number
  reaches the row (Directus checks the fields after the hooks); no one may change it.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_collection, ensure_permission, ensure_policy, field, string_pk

NUMBERED = ("pos_sales", "inventory_positions", "forecasts")
DISTRIBUTOR = "Tandem distributor user"
ORG = "$CURRENT_USER.organization.id"
FORECAST_FIELDS = ["id", "distributor", "location", "sku", "week_start", "forecast_units"]


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        "row_numbers",
        [string_pk("name", length=64), field("next", "bigInteger", schema={"is_nullable": False})],
        meta={"hidden": True, "note": "next seq per numbered collection", "accountability": None},
    )
    for collection in NUMBERED:
        if not hub.read_items("row_numbers", filter={"name": {"_eq": collection}}, limit=1):
            hub.create_item("row_numbers", {"name": collection, "next": 1})
        if not [f for f in hub.get(f"/fields/{collection}") if f["field"] == "seq"]:
            hub.post(
                f"/fields/{collection}",
                field(
                    "seq",
                    "bigInteger",
                    meta={"readonly": True, "hidden": True, "note": "order of arrival; pages key"},
                    schema={"is_unique": True},
                ),
            )
        hub.post("/tandem/number-rows", {"collection": collection})
    own = {"distributor": {"_eq": ORG}}
    ensure_permission(
        hub,
        ensure_policy(hub, DISTRIBUTOR),
        "forecasts",
        "create",
        validation=own,
        presets={"distributor": ORG},
        fields=[*FORECAST_FIELDS, "seq"],
    )
