"""An ``aggregated`` agreement shares what its name says (issue 11, part 8): a
distributor's weekly POS totals per SKU, and no store-level row anywhere, neither through
the hub's REST API with the grantee's own login nor through the portal. The hub and the
portal agree on the locations it covers: none. Scoping one to regions or stores, or
giving it per-location kinds (inventory, forecasts), is refused when it is granted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from directus import ForbiddenOrMissing, HubClient
from directus.bulk import open_lane, write_rows
from governance import partners, sharing
from governance.errors import GovernanceError
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from tests.factories import make_org, make_sku, make_user, sign_in
from tests.pinning import module_hub

TODAY = dt.date(2026, 12, 2)
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
SINCE = MONDAY - dt.timedelta(weeks=6)
DAYS = [MONDAY - dt.timedelta(days=n) for n in (1, 4, 9, 16, 30)]


hub, admin = module_hub(TODAY)


@pytest.fixture(scope="module")
def world(hub, admin) -> dict[str, Any]:
    supplier = make_user(admin, "supplier_user")
    distributor = make_org(admin, "distributor")
    d = distributor["id"]
    partners.ensure_partnership(admin, supplier.organization["id"], d)
    stores = {}
    for code, region in (("e1", "east"), ("e2", "east"), ("w1", "west")):
        row = admin.create_item(
            "locations",
            {"ref": f"{d}:{code}", "code": code, "name": f"Store {code}", "kind": "store",
             "region": region, "distributor": d},
        )  # fmt: skip
        stores[code] = row["id"]
    sku = make_sku(admin, supplier.organization)["id"]
    pos = [
        (d, loc, sku, day, 1 + i, (1 + i) * 100, "USD")
        for i, (loc, day) in enumerate((loc, day) for loc in stores.values() for day in DAYS)
    ]
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", [(d, loc, sku, DAYS[0], 9, 0, 0) for loc in stores.values()])
    sharing.grant(
        admin, d, supplier.organization["id"], ["pos"], valid_from=SINCE,
        granularity="aggregated", via="test",
    )  # fmt: skip
    weeks = {
        (day - dt.timedelta(days=day.weekday())).isoformat()
        for day in DAYS
        if day - dt.timedelta(days=day.weekday()) >= SINCE
    }
    total = sum(
        units
        for _, _, _, day, units, _, _ in pos
        if (day - dt.timedelta(days=day.weekday())).isoformat() in weeks
    )
    return {"supplier": supplier, "d": d, "stores": stores, "sku": sku, "pos": pos,
            "total": total}  # fmt: skip


def hub_rows(client: HubClient, collection: str) -> list[dict[str, Any]]:
    try:
        return client.read_items(collection, fields=["*"], limit=-1)
    except ForbiddenOrMissing:
        return []


@pytest.fixture(scope="module")
def browser(hub, admin, portal_auth_token, world):
    set_service_token(admin, PORTAL_AUTH_EMAIL, portal_auth_token)
    app = create_app(
        Config(secret_key="x" * 48, hub_url=hub.url, portal_auth_token=portal_auth_token)
    )
    app.testing = True
    return sign_in(app, world["supplier"])


def api(browser, path: str, **query: Any) -> list[dict[str, Any]]:
    answer = browser.get(f"/api/v1/{path}", query_string={**query, "per_page": 500})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["data"]


def locations_seen(hub, browser, world) -> tuple[set[int], set[int]]:
    """The distributor's locations the grantee reads: (through the hub, through the portal)."""
    client = world["supplier"].login(hub.url)
    mine = set(world["stores"].values())
    through_hub = {r["id"] for r in hub_rows(client, "locations")} & mine
    through_portal = {r["id"] for r in api(browser, "locations")} & mine
    return through_hub, through_portal


def test_an_aggregated_agreement_shares_totals_and_no_store_level_row(hub, browser, world):
    client = world["supplier"].login(hub.url)
    for collection in ("pos_sales", "pos_week_location", "inventory_positions"):
        assert hub_rows(client, collection) == [], collection
    weekly = hub_rows(client, "pos_week_distributor")
    assert weekly
    assert sum(int(r["units"]) for r in weekly) == world["total"]
    assert locations_seen(hub, browser, world) == (set(), set())
    # the portal: totals by distributor and SKU, nothing by store
    assert api(browser, "pos-sales") == []
    for group_by in ("location", "location,week", "sku,location,week"):
        assert api(browser, "pos-sales/summary", group_by=group_by) == [], group_by
    assert api(browser, "pos-sales/summary", region="east", group_by="sku") == []
    totals = api(browser, "pos-sales/summary", group_by="distributor")
    assert [(g["distributor"], g["units"]) for g in totals] == [(world["d"], world["total"])]
    page = browser.get("/sell-through", query_string={"sku": world["sku"]})
    table = page.get_data(as_text=True).split('id="breakdown"', 1)[-1]
    assert not any(f"location={loc}" in table for loc in world["stores"].values())


def test_what_an_aggregated_agreement_cannot_share_is_refused(admin, world):
    for scope in ({"kinds": ["pos", "inventory"]}, {"kinds": ["pos"], "regions": ["east"]}):
        with pytest.raises(GovernanceError) as refused:
            sharing.grant(
                admin, world["d"], world["supplier"].organization["id"], valid_from=SINCE,
                granularity="aggregated", via="test", **scope,
            )  # fmt: skip
        assert "granularity" in refused.value.errors


def test_with_a_store_day_agreement_beside_it_the_hub_and_portal_agree(hub, admin, browser, world):
    sharing.grant(
        admin, world["d"], world["supplier"].organization["id"], ["pos"], valid_from=SINCE,
        regions=["east"], via="test",
    )  # fmt: skip
    east = {world["stores"]["e1"], world["stores"]["e2"]}
    assert locations_seen(hub, browser, world) == (east, east)
    client = world["supplier"].login(hub.url)
    assert {r["location"] for r in hub_rows(client, "pos_sales")} == east
    by_store = api(browser, "pos-sales/summary", group_by="location")
    assert {g["location"] for g in by_store} == east
    # the distributor's total still counts each row once, whatever overlaps
    totals = api(browser, "pos-sales/summary", group_by="distributor")
    assert [(g["distributor"], g["units"]) for g in totals] == [(world["d"], world["total"])]
