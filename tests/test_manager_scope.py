"""An account manager reads its pairs' POS and inventory within exactly the agreements
of the pair's supplier (issue 11, part 4), through the hub's REST API with the
manager's own login.

The manager's rows come from its pair's generated policy (``governance.policies``),
rewritten on every grant, revocation, assignment and unassignment. Negative controls:
a pair it does not manage (same supplier, another distributor), another supplier's SKUs
at its pair's distributor, a store outside the agreement's region, a revoked agreement,
and an operator colleague assigned nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from directus import ForbiddenOrMissing, HubClient
from directus.bulk import open_lane, write_rows
from governance import partners, sharing
from governance.errors import GovernanceError
from tests.factories import make_org, make_sku, make_user, sign_in
from tests.pinning import module_hub

TODAY = dt.date(2026, 12, 2)
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
DAYS = [MONDAY - dt.timedelta(days=n) for n in (1, 5, 12, 20)]  # in three earlier weeks
SHARED = ("pos_sales", "inventory_positions", "pos_week_location", "pos_week_distributor")


hub, admin = module_hub(TODAY)


@pytest.fixture(scope="module")
def world(hub, admin) -> dict[str, Any]:
    supplier = make_user(admin, "supplier_user")
    other = make_user(admin, "supplier_user")
    ops = make_org(admin, "operator")
    manager = make_user(admin, "account_manager", ops)
    idle = make_user(admin, "account_manager", ops)
    s, o = supplier.organization["id"], other.organization["id"]
    d1, d2 = (make_org(admin, "distributor")["id"] for _ in range(2))
    stores = {}
    for d in (d1, d2):
        for code, region in (("e1", "east"), ("w1", "west")):
            row = admin.create_item(
                "locations",
                {"ref": f"{d}:{code}", "code": code, "name": f"{d} {code}", "kind": "store",
                 "region": region, "distributor": d},
            )  # fmt: skip
            stores[(d, code)] = row["id"]
    for sup, dist in ((s, d1), (s, d2), (o, d1)):
        partners.ensure_partnership(admin, sup, dist)
    skus = {
        s: make_sku(admin, supplier.organization)["id"],
        o: make_sku(admin, other.organization)["id"],
    }
    pos, inventory = [], []
    n = 0
    for (d, _code), loc in sorted(stores.items()):
        for sku in skus.values():
            for day in DAYS:
                n += 1
                pos.append((d, loc, sku, day, n, n * 100, "USD"))
                inventory.append((d, loc, sku, day, 10 + n, 1, 2))
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", inventory)
    since = MONDAY - dt.timedelta(days=28)
    east = sharing.grant(
        admin, d1, s, ["pos", "inventory"], valid_from=since, regions=["east"], via="test"
    )
    sharing.grant(admin, d2, s, ["pos", "inventory"], valid_from=since, via="test")  # unmanaged
    sharing.grant(
        admin, d1, o, ["pos", "inventory"], valid_from=since, via="test"
    )  # other supplier
    west = sharing.grant(
        admin, d1, s, ["pos"], valid_from=since, locations=[stores[(d1, "w1")]], via="test"
    )
    sharing.revoke(admin, int(west["id"]), via="test")
    partners.assign_manager(admin, manager.id, s, d1, via="test")
    return {
        "supplier": supplier, "manager": manager, "idle": idle, "s": s, "o": o, "d1": d1,
        "d2": d2, "stores": stores, "skus": skus, "east": int(east["id"]),
    }  # fmt: skip


def rows(client: HubClient, collection: str) -> dict[str, dict[str, Any]]:
    try:
        got = client.read_items(collection, fields=["*"], limit=-1)
    except ForbiddenOrMissing:
        return {}
    return {str(r["id"]): r for r in got}


def units(client: HubClient, collection: str) -> int:
    try:
        total = client.aggregate(collection, {"sum": ["units"]})[0]["sum"]["units"]
    except ForbiddenOrMissing:
        return 0
    return int(total or 0)


def seen(hub, world, who: str) -> dict[str, dict[str, dict[str, Any]]]:
    client = world[who].login(hub.url)
    return {c: rows(client, c) for c in SHARED}


def supplier_view_of_d1(hub, world) -> dict[str, dict[str, dict[str, Any]]]:
    """What the pair's supplier reads of the pair's distributor: the manager's yardstick."""
    mine = seen(hub, world, "supplier")
    return {c: {k: r for k, r in got.items() if r["distributor"] == world["d1"]}
            for c, got in mine.items()}  # fmt: skip


def test_a_manager_reads_its_pairs_rows_as_the_pairs_supplier_does(hub, world):
    manager = seen(hub, world, "manager")
    assert manager == supplier_view_of_d1(hub, world)
    east, west = world["stores"][(world["d1"], "e1")], world["stores"][(world["d1"], "w1")]
    for collection in ("pos_sales", "inventory_positions", "pos_week_location"):
        got = manager[collection].values()
        assert got, collection
        assert {r["distributor"] for r in got} == {world["d1"]}  # not the unmanaged pair's
        assert {r["sku"] for r in got} == {world["skus"][world["s"]]}  # not another supplier's
        assert {r["location"] for r in got} == {east}  # not west: outside, or revoked
        assert west not in {r["location"] for r in got}
    assert manager["pos_week_distributor"] == {}  # a region's agreement: no distributor totals
    client = world["manager"].login(hub.url)
    expected = sum(
        int(r["units"]) for r in client.read_items("pos_sales", fields=["units"], limit=-1)
    )
    assert units(client, "pos_sales") == expected > 0
    places = {r["id"] for r in client.read_items("locations", fields=["id"], limit=-1)}
    assert east in places
    assert west not in places
    assert world["stores"][(world["d2"], "e1")] not in places
    # a manager's policy reads; it never writes a supplier's commitment or a row
    with pytest.raises(ForbiddenOrMissing):
        client.update_item("pos_sales", next(iter(manager["pos_sales"])), {"units": 1})


def test_an_unassigned_manager_reads_nothing(hub, world):
    assert all(not got for got in seen(hub, world, "idle").values())


# -- the manager's pages: the pair's sell-through and inventory (issue 13) -------------


@pytest.fixture
def app(hub, make_portal) -> Flask:
    return make_portal(hub)


def pair_id(admin: HubClient, supplier: int, distributor: int) -> int:
    (row,) = admin.read_items(
        "partnerships",
        filter={"_and": [{"supplier": {"_eq": supplier}}, {"distributor": {"_eq": distributor}}]},
        fields=["id"],
        limit=1,
    )
    return int(row["id"])


def workbook_rows(client: FlaskClient, path: str) -> list[tuple[Any, ...]]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    data = answer.get_data()
    answer.close()
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


RANGE = f"from={MONDAY - dt.timedelta(days=28)}&to={MONDAY - dt.timedelta(days=1)}"


def test_a_manager_reads_the_agreements_between_its_pairs_sides_only(hub, world):
    client = world["manager"].login(hub.url)
    got = client.read_items("share_agreements", fields=["grantor", "grantee"], limit=-1)
    assert {(r["grantor"], r["grantee"]) for r in got} == {(world["d1"], world["s"])}
    idle = world["idle"].login(hub.url)
    assert rows(idle, "share_agreements") == {}


def test_the_managers_pair_pages_show_what_the_pairs_supplier_sees_of_that_distributor(
    app, admin, world
):
    pair = pair_id(admin, world["s"], world["d1"])
    manager = sign_in(app, world["manager"], remote_addr="10.13.0.1")
    supplier = sign_in(app, world["supplier"], remote_addr="10.13.0.2")
    for page in ("sell-through", "inventory"):
        theirs = workbook_rows(supplier, f"/{page}.xlsx?distributor={world['d1']}&{RANGE}")
        mine = workbook_rows(manager, f"/{page}.xlsx?pair={pair}&{RANGE}")
        assert mine == theirs, page
        assert len(mine) > 1, page  # the east store's figures, not an empty sheet
        html = manager.get(f"/{page}?pair={pair}&{RANGE}").get_data(as_text=True)
        assert 'id="f-pair"' in html
        assert 'id="f-distributor"' not in html
        # No pair asked for: its first pair (a manager reads one pair at a time).
        assert workbook_rows(manager, f"/{page}.xlsx?{RANGE}") == mine, page


def test_a_manager_reads_nothing_of_a_pair_it_does_not_manage(app, admin, world):
    unmanaged = pair_id(admin, world["s"], world["d2"])
    other = pair_id(admin, world["o"], world["d1"])
    manager = sign_in(app, world["manager"], remote_addr="10.13.0.3")
    for pair in (unmanaged, other, 999_999):
        for page in ("sell-through", "inventory"):
            got = workbook_rows(manager, f"/{page}.xlsx?pair={pair}&{RANGE}")
            assert got[1:] == [], (pair, page)
    idle = sign_in(app, world["idle"], remote_addr="10.13.0.4")
    assert workbook_rows(idle, f"/sell-through.xlsx?{RANGE}")[1:] == []
    html = idle.get(f"/inventory?{RANGE}").get_data(as_text=True)
    assert "No distributor shares inventory with the pair&#39;s supplier" in html


def test_a_stale_feed_on_the_managers_home_leads_to_that_pairs_freshness(app, admin, world):
    pair = pair_id(admin, world["s"], world["d1"])
    feeds = admin.read_items("feeds", filter={"distributor": {"_eq": world["d1"]}}, limit=-1)
    assert feeds  # the bulk lane's deliveries, through 29 Nov
    for feed in feeds:  # stale after a day, seen on 2 Dec
        admin.update_item("feeds", feed["id"], {"stale_after_days": 1})
    manager = sign_in(app, world["manager"], remote_addr="10.13.0.5")
    home = manager.get("/", follow_redirects=True).get_data(as_text=True)
    assert "data is stale" in home
    assert f'href="/sell-through?pair={pair}#freshness-h"' in home
    page = manager.get(f"/sell-through?pair={pair}").get_data(as_text=True)
    assert 'id="freshness-h"' in page


# -- last: these change the module's agreements --------------------------------------


def test_grants_revocations_and_assignments_rewrite_the_managers_rows(hub, admin, world):
    s, d1 = world["s"], world["d1"]
    west = world["stores"][(d1, "w1")]
    whole = sharing.grant(admin, d1, s, ["pos"], valid_from=MONDAY - dt.timedelta(days=28),
                          via="test")  # fmt: skip
    manager = seen(hub, world, "manager")
    assert manager == supplier_view_of_d1(hub, world)
    assert west in {r["location"] for r in manager["pos_sales"].values()}
    assert manager["pos_week_distributor"]  # a whole agreement: distributor totals too
    sharing.revoke(admin, int(whole["id"]), via="test")
    manager = seen(hub, world, "manager")
    assert manager == supplier_view_of_d1(hub, world)
    assert west not in {r["location"] for r in manager["pos_sales"].values()}

    partners.unassign_manager(admin, world["manager"].id, s, d1, via="test")
    assert all(not got for got in seen(hub, world, "manager").values())
    with pytest.raises(GovernanceError):
        partners.unassign_manager(admin, world["manager"].id, s, d1, via="test")
    partners.assign_manager(admin, world["manager"].id, s, d1, via="test")
    assert seen(hub, world, "manager") == supplier_view_of_d1(hub, world)

    sharing.revoke(admin, world["east"], via="test")
    assert all(not got for got in seen(hub, world, "manager").values())
