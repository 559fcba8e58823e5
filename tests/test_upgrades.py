"""Upgrades: a hub made at the first release's schema, holding data, migrated to today's
with nothing lost."""

from __future__ import annotations

from typing import Any

from directus import HubClient
from directus.process import Hub
from migrations import LEDGER, applied, discover, migrate
from tests.databases import hub_config

#: The schema of Tandem's first release (main at f36fc16, 2026-11-23): migrations are
#: never edited once released, so these four are that schema.
FIRST_RELEASE = "0004_ingest"
#: Fields a later migration removed on purpose, and why (nothing else may go).
RETIRED = {
    # 0023: commitments moved to their own collection, one per pair, SKU and week.
    ("forecasts", "commit_units"),
    ("forecasts", "commit_note"),
}


def _first_release_data(admin) -> dict[str, list[Any]]:
    """A pair's data as the first release stored it, through the hub; the ids made."""
    supplier = admin.create_item("organizations", {"name": "Upgrade Foods", "kind": "supplier",
                                                   "gln": "0614141000012"})  # fmt: skip
    distributor = admin.create_item("organizations", {"name": "Upgrade Markets",
                                                      "kind": "distributor"})  # fmt: skip
    pair = admin.create_item(
        "partnerships",
        {"pair": f"{supplier['id']}:{distributor['id']}", "supplier": supplier["id"],
         "distributor": distributor["id"]},
    )  # fmt: skip
    sku = admin.create_item("skus", {
        "gtin": "00614141000029", "description": "Oat crackers 200 g", "cost_minor": 121,
        "list_price_minor": 249, "currency": "USD", "supplier": supplier["id"],
    })  # fmt: skip
    store = admin.create_item("locations", {
        "ref": f"{distributor['id']}:S1", "code": "S1", "name": "Store 1", "kind": "store",
        "region": "west", "distributor": distributor["id"],
    })  # fmt: skip
    key = f"{distributor['id']}:{store['id']}:{sku['id']}"
    pos = [
        admin.create_item("pos_sales", {
            "id": f"{key}:2026-11-0{day}", "day": f"2026-11-0{day}", "units": day,
            "net_sales_minor": day * 249, "currency": "USD", "distributor": distributor["id"],
            "location": store["id"], "sku": sku["id"],
        })
        for day in (2, 3, 4)
    ]  # fmt: skip
    stock = admin.create_item("inventory_positions", {
        "id": f"{key}:2026-11-04", "day": "2026-11-04", "on_hand": 40, "in_transit": 6,
        "distributor": distributor["id"], "location": store["id"], "sku": sku["id"],
    })  # fmt: skip
    plan = admin.create_item("forecasts", {
        "id": f"{key}:2026-11-30", "week_start": "2026-11-30", "forecast_units": 21,
        "commit_units": 18, "distributor": distributor["id"], "location": store["id"],
        "sku": sku["id"],
    })  # fmt: skip
    promo = admin.create_item("promotions", {
        "name": "Winter TPR", "type": "tpr", "start_date": "2026-12-07",
        "end_date": "2026-12-20", "expected_uplift_pct": 15, "partnership": pair["id"],
    })  # fmt: skip
    order = admin.create_item("purchase_orders", {
        "number": "PO-1001", "ordered_on": "2026-11-20", "requested_date": "2026-11-30",
        "currency": "USD", "partnership": pair["id"], "ship_to": store["id"],
    })  # fmt: skip
    return {
        "organizations": [supplier["id"], distributor["id"]],
        "partnerships": [pair["id"]],
        "skus": [sku["id"]],
        "locations": [store["id"]],
        "pos_sales": [row["id"] for row in pos],
        "inventory_positions": [stock["id"]],
        "forecasts": [plan["id"]],
        "promotions": [promo["id"]],
        "purchase_orders": [order["id"]],
    }


def _rows(admin, collection: str, ids: list[Any]) -> dict[Any, dict[str, Any]]:
    rows = admin.read_items(collection, filter={"id": {"_in": ids}}, fields=["*"], limit=-1)
    return {row["id"]: row for row in rows}


def test_a_first_release_hub_with_data_migrates_to_today_with_nothing_lost(
    start_hub, hub_install, tmp_path
):
    # The first release's hub, holding its data (this release's integrity hook knows
    # fields that schema lacks, so that hub runs without it).
    (tmp_path / "no-extensions").mkdir()
    old = start_hub(EXTENSIONS_PATH=str(tmp_path / "no-extensions"))
    admin = old.admin()
    migrations = discover()
    first = [m for m in migrations if m.name <= FIRST_RELEASE]
    assert migrate(admin, first) == [m.name for m in first]
    made = _first_release_data(admin)
    before = {collection: _rows(admin, collection, ids) for collection, ids in made.items()}
    old.hub.stop()

    # This release's hub on that database, then its migrations.
    hub = Hub(hub_install, hub_config(tmp_path / "upgraded", old.hub.config.db))
    hub.start()
    try:
        admin = HubClient.login(hub.url, old.admin_email, old.admin_password)
        _upgrade_keeps_everything(admin, migrations, made, before)
    finally:
        hub.stop()


def _upgrade_keeps_everything(admin, migrations, made, before) -> None:
    upgraded = migrate(admin)
    assert upgraded == [m.name for m in migrations if m.name > FIRST_RELEASE]
    assert applied(admin) == {m.name for m in migrations}
    # each step is recorded with what it does
    ledger = admin.read_items(LEDGER, fields=["name", "description"], limit=-1)
    assert all(row["description"] for row in ledger)

    for collection, rows in before.items():
        after = _rows(admin, collection, made[collection])
        assert after.keys() == rows.keys(), collection
        for key, old in rows.items():
            kept = {f: v for f, v in old.items() if (collection, f) not in RETIRED}
            assert {f: after[key].get(f) for f in kept} == kept, (collection, key)
