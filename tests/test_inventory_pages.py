"""The inventory page at real scale: a snapshot picker, sorting, a band filter, pages of 50
and a drill-down from a store to its SKUs, for each role, on one pinned day.

The world: north has 60 stores (S1..S60) and a DC, with two snapshots; it shares POS and
inventory with acme. south shares POS only with acme; west works with brava only. At the
newest snapshot each north store holds acme's oats for 0, 2, 8 or 20 weeks of sales (by its
number modulo 4: out, low, healthy, excess); at the older one, 10 weeks everywhere.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from directus.bulk import open_lane, write_rows
from domain import kpis
from governance import partners, sharing
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from portal.data import insights
from portal.schemas.insights import STOCK_SORTS
from tests.factories import Member, gtin_under, make_org, make_user, sign_in
from tests.pinning import module_hub

TODAY = dt.date(2026, 12, 2)  # a Wednesday: the newest snapshot is last Sunday's
NEW, OLD = dt.date(2026, 11, 29), dt.date(2026, 11, 15)
SOUTH_ONLY = dt.date(2026, 11, 22)  # a snapshot of south's alone, which acme may not see
#: west's mid-week count at W1: 100 cola, sold 10 a week and 50 more the day after it.
MIDWEEK, AFTER_COUNT = dt.date(2026, 11, 18), dt.date(2026, 11, 19)
WEEKLY = 10  # oats sold a week at every north store
COVER = {0: 0, 1: 2, 2: 8, 3: 20}  # store number % 4 -> weeks of oats on hand at NEW
STORES = 60

hub, admin = module_hub(TODAY)


@dataclass
class Inv:
    orgs: dict[str, dict[str, Any]]
    pairs: dict[str, int]
    skus: dict[str, dict[str, Any]]
    stores: dict[str, int]  # "north-S7", "north-DC1", "south-S1", "west-W1" -> id
    people: dict[str, Member]


def _store(admin, distributor: dict[str, Any], code: str, kind: str = "store") -> int:
    return admin.create_item(
        "locations",
        {"ref": f"{distributor['id']}:{code}", "code": code, "name": f"{code} place",
         "kind": kind, "region": "east" if code[-1] in "13579" else "west",
         "distributor": distributor["id"]},
    )["id"]  # fmt: skip


@pytest.fixture(scope="module")
def inv(hub, admin) -> Inv:
    orgs = {
        k: make_org(admin, kind)
        for k, kind in (("acme", "supplier"), ("brava", "supplier"), ("north", "distributor"),
                        ("south", "distributor"), ("west", "distributor"),
                        ("operator", "operator"))
    }  # fmt: skip
    pairs = {
        f"{s}-{d}": partners.ensure_partnership(admin, orgs[s]["id"], orgs[d]["id"])
        for s, d in (("acme", "north"), ("acme", "south"), ("brava", "north"), ("brava", "west"))
    }
    since = TODAY - dt.timedelta(days=200)
    for grantor, grantee, kinds in (
        ("north", "acme", ["pos", "inventory"]),
        ("south", "acme", ["pos"]),
        ("west", "brava", ["pos", "inventory"]),
        ("north", "brava", ["inventory"]),  # stock, not sales: no weeks of supply but out
    ):
        sharing.grant(
            admin, orgs[grantor]["id"], orgs[grantee]["id"], kinds, valid_from=since, via="test"
        )
    skus = {
        name: admin.create_item(
            "skus",
            {"gtin": gtin_under(orgs[owner]["gs1_prefixes"][0]), "description": f"{name} item",
             "cost_minor": 100, "list_price_minor": 250, "currency": "USD",
             "supplier": orgs[owner]["id"]},
        )
        for name, owner in (("oats", "acme"), ("bran", "acme"), ("cola", "brava"))
    }  # fmt: skip
    stores = {f"north-S{n}": _store(admin, orgs["north"], f"S{n}") for n in range(1, STORES + 1)}
    stores["north-DC1"] = _store(admin, orgs["north"], "DC1", "dc")
    stores["south-S1"] = _store(admin, orgs["south"], "S1")
    stores["west-W1"] = _store(admin, orgs["west"], "W1")
    north, south, west = (orgs[k]["id"] for k in ("north", "south", "west"))
    oats, bran, cola = (skus[k]["id"] for k in ("oats", "bran", "cola"))
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    wednesdays = [monday - dt.timedelta(weeks=w) + dt.timedelta(days=2) for w in range(1, 9)]
    pos, stock = [], []
    for n in range(1, STORES + 1):
        where = stores[f"north-S{n}"]
        pos += [(north, where, oats, day, WEEKLY, WEEKLY * 250, "USD") for day in wednesdays]
        stock.append((north, where, oats, NEW, COVER[n % 4] * WEEKLY, 1, 2))
        stock.append((north, where, oats, OLD, 10 * WEEKLY, 0, 0))
    s1 = stores["north-S1"]
    pos += [(north, s1, bran, day, 5, 1250, "USD") for day in wednesdays]
    pos += [(north, s1, cola, day, 7, 1750, "USD") for day in wednesdays]
    stock += [(north, s1, bran, NEW, 10, 0, 0), (north, s1, cola, NEW, 14, 0, 0)]
    stock.append((north, stores["north-S2"], cola, NEW, 0, 0, 0))
    stock.append((north, stores["north-DC1"], oats, NEW, 500, 0, 40))
    stock.append((south, stores["south-S1"], oats, NEW, 7777, 0, 0))
    stock.append((south, stores["south-S1"], oats, SOUTH_ONLY, 7777, 0, 0))
    stock.append((west, stores["west-W1"], cola, NEW, 8888, 0, 0))
    stock.append((west, stores["west-W1"], cola, MIDWEEK, 100, 0, 0))
    pos += [(west, stores["west-W1"], cola, day, 10, 2500, "USD") for day in wednesdays]
    pos.append((west, stores["west-W1"], cola, AFTER_COUNT, 50, 12500, "USD"))
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", stock)
    people = {
        "acme": make_user(admin, "supplier_user", orgs["acme"]),
        "north": make_user(admin, "distributor_user", orgs["north"]),
        "south": make_user(admin, "distributor_user", orgs["south"]),
        "west": make_user(admin, "distributor_user", orgs["west"]),
        "brava": make_user(admin, "supplier_user", orgs["brava"]),
        "manager": make_user(admin, "account_manager", orgs["operator"]),
    }
    partners.assign_manager(admin, people["manager"].id, orgs["acme"]["id"], orgs["north"]["id"])
    return Inv(orgs, pairs, skus, stores, people)


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


@pytest.fixture(scope="module")
def clients(app, inv) -> dict[str, Any]:
    return {
        who: sign_in(app, member, remote_addr=f"10.16.0.{i}")
        for i, (who, member) in enumerate(inv.people.items(), start=1)
    }


def page(client, **query: Any) -> str:
    answer = client.get("/inventory", query_string=query)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def table_rows(html: str) -> list[tuple[str, list[str], str | None]]:
    """The table's lines: the label, the number cells, the band."""
    if 'id="inventory"' not in html:
        return []
    table = html[html.index('id="inventory"') :].split("</table>")[0]
    out = []
    for row in re.findall(r'<tr><th scope="row">(.*?)</tr>', table, re.S):
        label = re.sub(r"<[^>]+>", "", row.split("</th>")[0]).strip()
        band = re.search(r'<span class="band band-(\w+)">', row)
        out.append((label, re.findall(r'<td class="num">([^<]*)</td>', row),
                    band.group(1) if band else None))  # fmt: skip
    return out


def codes(html: str) -> list[str]:
    return [label.split(" ")[0] for label, _, _ in table_rows(html)]


def workbook(client, **query: Any) -> list[tuple[Any, ...]]:
    answer = client.get("/inventory.xlsx", query_string=query)
    assert answer.status_code == 200, answer.status_code
    data = answer.get_data()
    answer.close()
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def test_the_sorts_the_schema_takes_are_the_ones_the_report_knows():
    assert set(STOCK_SORTS) == set(insights.STOCK_SORTS)


def test_stock_that_did_not_sell_has_the_most_weeks_of_supply_and_unknown_comes_last():
    """Pure: a store holding stock that sold nothing has no finite cover (excess), above
    every figure; one whose sales are not shared has no figure, last both ways."""

    def line(code: str, wos: str | None, band: str | None, weekly: int | None = 1):
        return insights.StockRow(0, code, "store", None, "", on_hand=5, weekly_units=weekly,
                                 wos=Decimal(wos) if wos else None,
                                 band=kpis.Band(band) if band else None)  # fmt: skip

    report = insights.StockReport(
        insights.InsightQuery(TODAY, TODAY),
        [line("S1", "2.0", "low"), line("S2", None, "excess", 0), line("S3", "30.0", "excess"),
         line("S4", None, None, None)],
        {}, {}, None, {},
    )  # fmt: skip
    order = {
        descending: [r.label for r in insights.stock_page(report, "wos", descending).items]
        for descending in (False, True)
    }
    assert order == {False: ["S1", "S3", "S2", "S4"], True: ["S2", "S3", "S1", "S4"]}
    assert [r.label for r in insights.stock_page(report, "band").items] == ["S1", "S3", "S2", "S4"]


def test_a_supplier_sees_the_latest_snapshot_worst_first_fifty_a_page(clients):
    html = page(clients["acme"])
    rows = table_rows(html)
    assert len(rows) == 50
    assert "Page 1 of 2" in html
    # Worst first: the 15 stores out, then the 15 low ones (fewest weeks first), ...
    assert [band for _, _, band in rows[:30]] == ["out"] * 15 + ["low"] * 15
    assert codes(html)[:3] == ["S4", "S8", "S12"]  # within a band: natural order
    for band in ("out", "low", "healthy", "excess"):
        assert re.search(rf'class="band band-{band}"[^>]*>{band}: 15</a>', html), band
    assert f'<option value="">Latest ({NEW})</option>' in html  # no day: the newest
    assert f'<option value="{NEW}">{NEW}</option>' in html
    assert f'<option value="{OLD}">{OLD}</option>' in html
    assert "7,777" not in html  # south shares POS with acme, not inventory
    assert str(SOUTH_ONLY) not in html  # nor its snapshot days
    assert "W1 place" not in html  # west does not work with acme


def test_a_suppliers_distributor_filter_offers_its_distributors_only(clients, inv):
    html = page(clients["acme"])
    select = html[html.index('id="f-distributor"') :].split("</select>")[0]
    offered = set(re.findall(r'<option value="(\d+)"', select))
    assert offered == {str(inv.orgs[d]["id"]) for d in ("north", "south")}  # not acme itself


def test_the_second_page_holds_the_rest_and_a_page_past_the_end_is_the_last(clients):
    html = page(clients["acme"], page=2)
    rows = table_rows(html)
    assert len(rows) == STORES + 1 - 50
    assert rows[-1][0].startswith("DC1")  # a DC has no band: last
    assert "Page 2 of 2" in html
    assert table_rows(page(clients["acme"], page=99)) == rows


def test_sorting_by_store_is_natural_and_reverses(clients):
    html = page(clients["acme"], sort="name")
    assert codes(html)[:12] == ["DC1", *(f"S{n}" for n in range(1, 12))]
    assert re.search(r'<th scope="col" aria-sort="ascending">\s*<a [^>]*data-sort="name"', html)
    assert 'href="/inventory?sort=name&amp;order=desc"' in html  # again: reversed
    assert re.search(r'href="/inventory\?page=2&amp;sort=name" rel="next"', html)  # kept
    html = page(clients["acme"], sort="name", order="desc")
    assert codes(html)[:3] == ["S60", "S59", "S58"]
    assert re.search(r'aria-sort="descending">\s*<a [^>]*data-sort="name"', html)


def test_sorting_by_weeks_of_supply_and_on_hand(clients):
    rows = table_rows(page(clients["acme"], sort="wos", order="desc"))
    weeks = [float(cells[4]) for _, cells, _ in rows if cells[4]]
    assert weeks == sorted(weeks, reverse=True)
    assert weeks[0] == 20.0
    rows = table_rows(page(clients["acme"], sort="on_hand", order="desc"))
    assert rows[0][0].startswith("DC1")
    assert rows[0][1][0] == "500"


def test_the_band_filter_keeps_one_band_and_the_counts_and_download_cover_all_rows(clients):
    html = page(clients["acme"], band="low")
    rows = table_rows(html)
    assert len(rows) == 15
    assert {band for _, _, band in rows} == {"low"}
    assert "15 locations in band low" in html
    assert re.search(r'class="band band-low" href="[^"]*band=low[^"]*" aria-current="true"', html)
    assert re.search(r'class="band band-excess"[^>]*>excess: 15</a>', html)  # all bands counted
    assert "Page 1 of" not in html  # one page
    # The download: every line (not a page), or every line of the band asked for.
    header, *body = workbook(clients["acme"])
    assert header[0] == "Location"
    assert len(body) == STORES + 1
    header, *body = workbook(clients["acme"], band="low", sort="name")
    assert [r[0].split(" ")[0] for r in body] == [f"S{n}" for n in range(1, STORES + 1, 4)]


def test_picking_an_older_snapshot_shows_its_figures(clients):
    html = page(clients["acme"], snapshot=OLD.isoformat(), sort="name")
    assert f'<option value="{OLD}" selected>{OLD}</option>' in html
    assert f"the 4 weeks to {OLD}" in html  # the lookback ends with its week
    rows = table_rows(html)
    assert rows[0][0].startswith("S1 ")  # the DC has no stock at the older snapshot
    assert {cells[0] for _, cells, _ in rows} == {"100"}
    assert {band for _, _, band in rows} == {"healthy"}
    assert "healthy: 60" in html


def test_a_mid_week_count_is_not_divided_by_the_sales_made_after_it(clients):
    """west counted 100 cola on a Wednesday and sold 50 the next day: its weeks of supply
    are over the 4 whole weeks to the Sunday before (10 a week: 10.0 weeks), not the
    week the spike is in (22.5 a week: 4.4 weeks)."""
    html = page(clients["west"], snapshot=MIDWEEK.isoformat())
    assert f"the 4 weeks to {MIDWEEK - dt.timedelta(days=3)}" in html
    ((label, cells, band),) = table_rows(html)
    assert label.startswith("W1 ")
    assert (cells[0], cells[-2:], band) == ("100", ["10", "10.0"], "healthy")


def test_a_store_with_nothing_on_hand_is_out_at_0_weeks_even_when_its_sales_are_not_shared(
    clients,
):
    """north shares its stock with brava, not its sales: S1's 14 cola have no weeks of
    supply (n/a, no band), while S2's none is out at 0.0 weeks, whatever it sold."""
    rows = {label.split(" ")[0]: (cells, band)
            for label, cells, band in table_rows(page(clients["brava"], sort="name"))}  # fmt: skip
    assert rows["S1"] == (["14", "0", "0", "not shared", "n/a"], None)
    assert rows["S2"] == (["0", "0", "0", "not shared", "0.0"], "out")


def test_a_store_drills_down_to_its_skus_at_the_snapshot(clients, inv):
    s1 = inv.stores["north-S1"]
    html = page(clients["acme"])
    assert f'href="/inventory?location={s1}"' in html
    html = page(clients["acme"], location=s1)
    assert "<h1>Inventory at S1 place (S1)</h1>" in html
    rows = {label.split(" ")[0]: (cells, band) for label, cells, band in table_rows(html)}
    assert set(rows) == {"oats", "bran"}  # not brava's cola, sold at the same store
    assert rows["oats"] == (["20", "1", "2", "10", "2.0"], "low")
    assert rows["bran"] == (["10", "0", "0", "5", "2.0"], "low")
    # The distributor sees every SKU at its store; at the older snapshot, oats only.
    rows = {label.split(" ")[0] for label, _, _ in table_rows(page(clients["north"], location=s1))}
    assert rows == {"oats", "bran", "cola"}
    older = table_rows(page(clients["acme"], location=s1, snapshot=OLD.isoformat()))
    assert [(label.split(" ")[0], cells[0]) for label, cells, _ in older] == [("oats", "100")]
    header, *body = workbook(clients["acme"], location=s1)
    assert header[0] == "SKU"
    assert sorted(r[0].split(" ")[0] for r in body) == ["bran", "oats"]


def test_a_drill_down_into_a_store_not_shared_shows_nothing_of_it(clients, inv):
    """South shares POS with acme, not inventory: its store's page says so and holds no
    figure. West's store, and an id that is nobody's, are not found (and audited)."""
    html = page(clients["acme"], location=inv.stores["south-S1"])
    assert f"{inv.orgs['south']['name']} has not shared inventory with you." in html
    assert table_rows(html) == []
    assert "7,777" not in html
    for forged in (inv.stores["west-W1"], 999_999_999):
        for path in ("/inventory", "/inventory.xlsx"):
            answer = clients["acme"].get(path, query_string={"location": forged})
            assert answer.status_code == 404, (path, forged)
            assert "8,888" not in answer.get_data(as_text=True)
    # A distributor reads its own stores only: another's is not found either.
    answer = clients["north"].get("/inventory", query_string={"location": inv.stores["south-S1"]})
    assert answer.status_code == 404
    assert "7,777" not in answer.get_data(as_text=True)


def test_a_distributor_sees_its_own_stores_with_every_suppliers_stock(clients):
    html = page(clients["north"], sort="name")
    rows = table_rows(html)
    assert rows[1][0].startswith("S1 ")
    assert rows[1][1][0] == "44"  # oats 20, bran 10, cola 14
    assert 'id="f-distributor"' not in html
    assert "Page 1 of 2" in html
    # The positive control of acme's picker: south's own snapshot days are south's.
    html = page(clients["south"], snapshot=SOUTH_ONLY.isoformat())
    assert f'<option value="{SOUTH_ONLY}" selected>{SOUTH_ONLY}</option>' in html
    assert [cells[0] for _, cells, _ in table_rows(html)] == ["7,777"]


def test_a_manager_reads_one_managed_pair_and_nothing_of_others(clients, inv):
    html = page(clients["manager"], pair=inv.pairs["acme-north"], band="out")
    assert len(table_rows(html)) == 15
    html = page(clients["manager"], pair=inv.pairs["brava-west"])
    assert table_rows(html) == []
    assert "8,888" not in html
    assert workbook(clients["manager"], pair=inv.pairs["brava-west"])[1:] == []


def test_a_bad_choice_is_named_beside_its_field_and_refused_for_the_download(clients):
    html = page(clients["acme"], snapshot="0001-01-01")
    assert '<p class="error" id="e-snapshot">a date from 1970-01-01' in html
    assert len(table_rows(html)) == 50  # the latest, meanwhile
    for query, message in (({"band": "awful"}, "band: Must be one of"),
                           ({"sort": "price"}, "sort: Must be one of"),
                           ({"page": "0"}, "page: ")):  # fmt: skip
        assert message in page(clients["acme"], **query), query
        assert clients["acme"].get("/inventory.xlsx", query_string=query).status_code == 422


def test_pages_sorts_bands_and_the_download_share_one_cached_report(
    hub, admin, portal_auth_token, inv
):
    """Sorting, the band filter and paging cut the cached report: only another snapshot
    (or other filters) computes another."""
    app = _app(hub, admin, portal_auth_token, report_cache_s=600)
    cache = app.extensions["tandem.reports"]
    made: list[Any] = []
    get = cache.get

    def counted(key, make):
        def making():
            made.append(key[0])
            return make()

        return get(key, making)

    cache.get = counted
    client = sign_in(app, inv.people["acme"], remote_addr="10.16.1.1")
    for query in ({}, {"page": 2}, {"sort": "name", "order": "desc"}, {"band": "low"}):
        page(client, **query)
    assert len(workbook(client, band="excess")) == 1 + 15
    assert made.count("inventory") == 1
    page(client, snapshot=OLD.isoformat(), page=2)
    assert made.count("inventory") == 2
