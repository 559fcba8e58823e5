"""The supplier's sell-through and inventory pages, and the home pages' attention items,
read through the data layer on the shared test world (see tests/world.py).

Reports are about weeks, so every test runs on several pinned days (see tests/pinning.py:
the portal's clock and the hub's agree on each), each with its own hub and world.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from governance import sharing
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from portal.data import insights
from tests.factories import Member, sign_in
from tests.pinning import pinned_hub
from tests.world import PASSWORD, World, expected, world_for

#: The days this module runs on (its tests' ids name them), and what each covers.
DAYS = {
    "2026-11-30": "a Monday, and a month's last day",
    "2026-12-02": "a Wednesday: issue 10 found this module failing on it",
    "2027-01-03": "a Sunday, the last day of ISO week 2026-W53 (the year's end is this week)",
    "2021-01-04": "a Monday, the first of ISO 2021-W01 after 2020-W53: the range crosses the year",
    "2026-03-31": "a Tuesday, a month's and a quarter's last day",
}


@pytest.fixture(scope="module", params=list(DAYS))
def hub(request, start_migrated_hub):
    """This module's hub, on a pinned day that the portal's clock and the hub's share."""
    with pinned_hub(start_migrated_hub, dt.date.fromisoformat(request.param)) as running:
        yield running


@pytest.fixture(scope="module")
def admin(hub):
    return hub.admin()


@pytest.fixture(scope="module")
def world(hub, admin) -> World:
    return world_for(hub, admin)


def span(w: World) -> dict[str, str]:
    """The whole weeks from the world's older POS day to its newest."""
    first = w.old_day - dt.timedelta(days=w.old_day.weekday())
    last = w.new_day + dt.timedelta(days=6 - w.new_day.weekday())
    return {"from": first.isoformat(), "to": last.isoformat()}


def _app(hub, admin, portal_auth_token, **settings: Any):
    set_service_token(admin, PORTAL_AUTH_EMAIL, portal_auth_token)
    app = create_app(
        Config(secret_key="x" * 48, hub_url=hub.url, portal_auth_token=portal_auth_token,
               **settings)
    )  # fmt: skip
    app.testing = True
    return app


@pytest.fixture(scope="module")
def app(hub, admin, portal_auth_token):
    return _app(hub, admin, portal_auth_token)


def browser(app, w: World, who: str):
    p = w.people[who]
    return sign_in(app, Member(p.id, p.email, PASSWORD, p.role, {"id": p.organization_id}))


def text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def figure(page: str, name: str) -> str:
    match = re.search(rf"<dt>{name}[^<]*(?:<small>[^<]*</small>)?</dt><dd[^>]*>([^<]+)</dd>", page)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def _units(w: World, who: str, **match: Any) -> int:
    rows = w.rows["pos_sales"]
    keys = expected(w, who, "pos-weekly")
    return sum(rows[k]["units"] for k in keys if all(rows[k][f] == v for f, v in match.items()))


def test_a_supplier_sees_its_own_figures_and_skus_only(app, world):
    page = text(browser(app, world, "acme").get("/sell-through", query_string=span(world)))
    assert figure(page, "Units") == f"{_units(world, 'acme'):,}"
    assert "oats" in page
    assert "bran" in page
    assert "cola" not in page  # brava's SKU
    assert '<svg class="chart" role="img"' in page
    assert "Data freshness" in page


def test_asking_for_another_suppliers_sku_shows_nothing_of_it(app, world):
    client = browser(app, world, "acme")
    page = text(
        client.get("/sell-through", query_string={**span(world), "sku": world.skus["cola"]})
    )
    assert "cola" not in page
    assert 'id="empty-state"' in page


def test_drill_down_from_a_sku_to_its_locations(app, world):
    client = browser(app, world, "acme")
    oats = world.skus["oats"]
    page = text(client.get("/sell-through", query_string={**span(world), "sku": oats}))
    assert figure(page, "Units") == f"{_units(world, 'acme', sku=oats):,}"
    table = page[page.index('id="breakdown"') :]
    shown = set(re.findall(r"location=(\d+)", table))
    visible = {
        world.rows["pos_sales"][k]["location"]
        for k in expected(world, "acme", "pos-weekly")
        if world.rows["pos_sales"][k]["sku"] == oats
    }
    assert {int(x) for x in shown} == visible
    assert world.stores["south-west"] not in visible  # the partial agreement: east only
    one = world.stores["north-east"]
    page = text(
        client.get("/sell-through", query_string={**span(world), "sku": oats, "location": one})
    )
    assert figure(page, "Units") == f"{_units(world, 'acme', sku=oats, location=one):,}"


def test_an_empty_page_says_why(app, world):
    brava = browser(app, world, "brava")
    page = text(brava.get("/sell-through", query_string=span(world)))
    assert "No distributor shares POS data with you at the moment." in page
    north = world.orgs["north"]
    page = text(brava.get("/sell-through", query_string={**span(world), "distributor": north}))
    assert "No distributor shares POS data with you" in page or "has not shared POS" in page
    acme = browser(app, world, "acme")
    south = {**span(world), "distributor": world.orgs["south"]}
    page = text(acme.get("/sell-through", query_string=south))
    # south's agreement began last week, after its Monday: no whole week of it yet, and it says so
    assert "No sales in this range" in page
    assert "shares POS data with you from" in page
    page = text(acme.get("/inventory", query_string=south))
    assert "has not shared inventory with you" in page
    far = {"from": "2020-01-06", "to": "2020-02-02"}
    page = text(acme.get("/sell-through", query_string=far))
    assert "No sales in this range" in page


def test_after_a_week_with_no_sales_a_sku_is_new_not_a_rise(app, world):
    """From nothing, any sale would be the top rise ("+247,438" on the demo's first
    period): a SKU that sold nothing in the previous, shared, week is new this period."""
    monday = world.new_day - dt.timedelta(days=world.new_day.weekday())
    week = {"from": monday.isoformat(), "to": (monday + dt.timedelta(days=6)).isoformat(),
            "distributor": world.orgs["north"]}  # fmt: skip
    page = text(browser(app, world, "acme").get("/sell-through", query_string=week))
    table = re.sub(r"<[^>]+>", " ", page[page.index('id="breakdown"') :].split("</table>")[0])
    if monday - dt.timedelta(days=7) <= world.old_day:  # a Sunday: the older POS is in it
        assert figure(page, "Change vs previous period") != "new this period"
        return
    assert figure(page, "Change vs previous period") == "new this period"
    assert "Nothing sold in the previous week to compare with." in page
    new = page[page.index('id="movers-new"') :].split("</table>")[0]
    assert "oats" in new
    assert "bran" in new
    assert "Rising" not in page
    assert "+" not in table
    assert "new this period" in table


def test_filters_that_make_no_sense_are_named(app, world):
    client = browser(app, world, "acme")
    answer = client.get("/sell-through", query_string={"from": "2026-03-10", "to": "2026-03-11"})
    assert "the range holds no whole week" in text(answer)
    answer = client.get("/sell-through", query_string={"lookback": "7", "sku": "abc"})
    body = text(answer)
    assert "lookback" in body
    assert "sku" in body


#: Filters out of range, and the message shown beside the field they name.
OUT_OF_RANGE = [
    ({"from": "0001-01-01"}, '<p class="error" id="e-from">a date from 1970-01-01'),
    ({"from": "9999-12-31"}, '<p class="error" id="e-from">a date from 1970-01-01'),
    ({"to": "9999-12-31"}, '<p class="error" id="e-to">a date from 1970-01-01'),
    ({"from": "1971-01-04"}, '<p class="error" id="e-from">choose at most 104 weeks'),
    ({"to": "2999-12-29"}, '<p class="error" id="e-from">choose at most 104 weeks'),
    ({"sku": str(2**53)}, "sku: not an id"),
    ({"location": "99999999999999999999"}, "location: not an id"),
]


def test_a_filter_out_of_range_is_named_beside_its_field(app, world):
    """Seen: ``/sell-through?from=0001-01-01`` answered 500 (a date past Python's range
    once snapped to weeks), and one far end made a report of centuries."""
    client = browser(app, world, "acme")
    for query, message in OUT_OF_RANGE:
        dated = "from" in query or "to" in query  # the inventory page picks a snapshot
        for page in ("/sell-through",) if dated else ("/sell-through", "/inventory"):
            assert message in text(client.get(page, query_string=query)), (page, query)
        answer = client.get("/sell-through.xlsx", query_string=query)
        assert answer.status_code == 422, query


def test_inventory_by_location_with_weeks_of_supply_bands(app, world):
    page = text(browser(app, world, "acme").get("/inventory", query_string=span(world)))
    page = page[page.index('id="inventory"') :]  # the table (the filters list locations too)
    north_east = world.rows["locations"][world.stores["north-east"]]["name"]
    south_east = world.rows["locations"][world.stores["south-east"]]["name"]
    assert north_east in page
    assert south_east not in page  # south shares POS with acme, not inventory
    lookback_first = dt.date.fromisoformat(span(world)["to"]) - dt.timedelta(days=27)
    if lookback_first >= world.today - dt.timedelta(days=30):  # ``full`` shares every week
        assert re.search(r'class="band band-(out|low|healthy|excess)"', page)
    else:  # its first week began before ``full``: weekly sales, so bands, are not known
        assert "not shared" in page
        assert not re.search(r'class="band band-(low|healthy|excess)"', page)
    # the distributor sees its own stores, all SKUs of every supplier
    page = text(browser(app, world, "north").get("/inventory", query_string=span(world)))
    page = page[page.index('id="inventory"') :]
    assert north_east in page
    assert south_east not in page


def test_the_sell_through_table_downloads_as_excel_and_is_audited(app, world):
    client = browser(app, world, "acme")
    answer = client.get("/sell-through.xlsx", query_string=span(world))
    assert answer.status_code == 200
    data = answer.get_data()
    answer.close()  # the streamed file's handle
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    units = header.index(next(h for h in header if str(h).startswith("Units 2")))
    assert sum(r[units] for r in body) == _units(world, "acme")
    assert all("cola" not in str(r[0]) for r in body)
    mine = {"action": {"_eq": "export"}, "actor": {"_eq": world.people["acme"].id}}
    entries = world.admin.read_items(
        "audit_log", filter=mine, fields=["id", "detail"], sort=["-id"], limit=1
    )
    assert entries
    assert entries[0]["detail"]["rows"] == len(body)


def test_a_revocation_empties_a_cached_report_at_once(hub, admin, portal_auth_token):
    w = world_for(hub, admin, "pages-revoke")
    app = _app(hub, admin, portal_auth_token, report_cache_s=600)
    acme = browser(app, w, "acme")
    before = text(
        acme.get("/sell-through", query_string={**span(w), "distributor": w.orgs["north"]})
    )
    assert figure(before, "Units") != "0"
    sharing.revoke(w.admin, w.agreements["full"], via="test")
    after = text(
        acme.get("/sell-through", query_string={**span(w), "distributor": w.orgs["north"]})
    )
    assert "has not shared POS data with you" in after


def test_home_pages_lead_with_what_needs_attention(app, world):
    page = text(browser(app, world, "acme").get("/supplier"))
    assert 'id="attention"' in page
    submitted = [r for r in world.rows["promotions"].values() if r["status"] == "submitted"]
    assert submitted
    for promo in submitted:
        if promo["partnership"] in (world.pairs["acme-north"], world.pairs["acme-south"]):
            assert f"/promotions/{promo['id']}" in page
    brava_page = text(browser(app, world, "brava").get("/supplier"))
    for promo in submitted:
        if promo["partnership"] not in (world.pairs["brava-north"],):
            assert f'/promotions/{promo["id"]}"' not in brava_page


@pytest.mark.parametrize(
    "filters",
    [{}, {"distributor": "north"}, {"distributor": "south"}, {"category": "cereal"}],
)
def test_a_report_summed_from_the_cube_equals_one_read_for_its_query(world, filters):
    """Reports by SKU come from a cached year of figures by SKU and distributor; they
    must equal the figures read from the hub for the query alone."""
    acc = world.access("acme")
    first, last = insights.default_range(acc.scope.today)
    args = {k: (world.orgs[v] if k == "distributor" else v) for k, v in filters.items()}
    q = insights.InsightQuery(first, last, **args)
    assert insights._fits_cube(q, acc.scope.today)
    names = insights._names_of(acc)
    feeds = insights.feeds_with_staleness(acc, 3)
    cube = insights._cube(acc, acc.scope.today)
    summed = insights._sell_through(acc, q, feeds, insights._from_cube(cube, q, names), names)
    read = insights._sell_through(acc, q, feeds, insights._read_inputs(acc, q), names)
    assert summed.total == read.total
    assert summed.rows == read.rows
    assert summed.weekly == read.weekly
    assert summed.stock_day == read.stock_day
    if not filters:
        assert read.total.units > 0
        assert read.total.store_on_hand > 0
